import {
  ConflictError,
  Device,
  DeviceCredentials,
  DirectoryEntry,
  FleetImportSite,
  Hj212Credentials,
  DEVICE_COLUMNS,
  DEVICES,
  DeviceRow,
  SITE_COLUMNS,
  Hj212Write,
  RegistryStore,
  Site,
  deviceOf,
} from '@dustwatch/core';
import { Db, QueuedDb } from './sqlite';

/** SQLite access for sites and devices. Every value is a bound parameter, never concatenated. */
export class RegistryRepository implements RegistryStore {
  private readonly db: Db;

  constructor(private readonly main: QueuedDb) {
    this.db = main.db;
  }

  async findSite(id: string): Promise<Site | undefined> {
    return this.site(id);
  }

  private site(id: string): Site | undefined {
    return this.db.prepare(`SELECT ${SITE_COLUMNS} FROM sites WHERE id = ?`).get(id) as Site | undefined;
  }

  async listSites(): Promise<Site[]> {
    return this.db.prepare(`SELECT ${SITE_COLUMNS} FROM sites ORDER BY id`).all() as Site[];
  }

  async upsertSite(site: Site, now: number): Promise<'created' | 'updated'> {
    return this.main.writes.run(async () => {
      return this.writeSite(site, now);
    });
  }

  private writeSite(site: Site, now: number): 'created' | 'updated' {
    const existed = this.site(site.id) !== undefined;
    this.db
      .prepare(
        `INSERT INTO sites (id, name, district, lat, lon, area_m2, created_at, updated_at)
      VALUES (@id, @name, @district, @lat, @lon, @areaM2, @now, @now)
      ON CONFLICT(id) DO UPDATE SET name = @name, district = @district, lat = @lat, lon = @lon, area_m2 = @areaM2, updated_at = @now`,
      )
      .run({
        id: site.id,
        name: site.name,
        district: site.district,
        lat: site.lat,
        lon: site.lon,
        areaM2: site.areaM2,
        now,
      });
    return existed ? 'updated' : 'created';
  }

  async findDevice(id: string): Promise<Device | undefined> {
    return this.device(id);
  }

  private device(id: string): Device | undefined {
    const row = this.db.prepare(`SELECT ${DEVICE_COLUMNS} FROM ${DEVICES} WHERE d.id = ?`).get(id) as
      (Device & DeviceRow) | undefined;
    return row && deviceOf(row);
  }

  async findCredentials(id: string): Promise<DeviceCredentials | undefined> {
    const row = this.db
      .prepare(`SELECT ${DEVICE_COLUMNS}, d.secret_hash AS secretHash FROM ${DEVICES} WHERE d.id = ?`)
      .get(id) as (DeviceCredentials & DeviceRow) | undefined;
    return row && deviceOf(row);
  }

  async listDevices(siteId?: string): Promise<Device[]> {
    const rows = this.db
      .prepare(`SELECT ${DEVICE_COLUMNS} FROM ${DEVICES} WHERE (@siteId IS NULL OR d.site_id = @siteId) ORDER BY d.id`)
      .all({ siteId: siteId ?? null }) as (Device & DeviceRow)[];
    return rows.map(deviceOf);
  }

  async insertDevice(device: Device, secretHash: string, now: number): Promise<boolean> {
    return this.main.writes.run(() => this.insertRow(device, secretHash, now));
  }

  /** Inserts a device unless its id exists; true when inserted. */
  private insertRow(device: Device, secretHash: string, now: number): boolean {
    const row = {
      id: device.id,
      siteId: device.siteId,
      model: device.model,
      kind: device.kind,
      enabled: device.enabled ? 1 : 0,
      secretHash,
      now,
    };
    return (
      this.db
        .prepare(
          `INSERT INTO devices (id, site_id, model, kind, enabled, secret_hash, created_at, updated_at)
        VALUES (@id, @siteId, @model, @kind, @enabled, @secretHash, @now, @now) ON CONFLICT(id) DO NOTHING`,
        )
        .run(row).changes === 1
    );
  }

  async importFleet(
    sites: readonly FleetImportSite[],
    now: number,
  ): Promise<{ sites: { created: number; updated: number }; devices: { created: number; updated: number } }> {
    return this.main.writes.run(async () => {
      const counts = { sites: { created: 0, updated: 0 }, devices: { created: 0, updated: 0 } };
      this.db.transaction(() => {
        for (const { site, devices } of sites) {
          counts.sites[this.writeSite(site, now)] += 1;
          for (const { device, secretHash, hj212 } of devices) {
            counts.devices[this.upsertDevice(device, secretHash, now)] += 1;
            this.writeHj212(device.id, hj212);
          }
        }
      })();
      return counts;
    });
  }

  private upsertDevice(device: Device, secretHash: string | null, now: number): 'created' | 'updated' {
    const existed = this.device(device.id) !== undefined;
    if (existed) {
      this.db
        .prepare(
          `UPDATE devices SET site_id = @siteId, model = @model, kind = @kind, updated_at = @now,
        secret_hash = coalesce(@secretHash, secret_hash) WHERE id = @id`,
        )
        .run({ id: device.id, siteId: device.siteId, model: device.model, kind: device.kind, secretHash, now });
    } else {
      if (secretHash === null) throw new Error(`a new device needs a secret hash: ${device.id}`);
      this.insertRow(device, secretHash, now);
    }
    return existed ? 'updated' : 'created';
  }

  async setSecretHash(id: string, secretHash: string, now: number): Promise<boolean> {
    return this.main.writes.run(async () => {
      return (
        this.db.prepare('UPDATE devices SET secret_hash = ?, updated_at = ? WHERE id = ?').run(secretHash, now, id)
          .changes === 1
      );
    });
  }

  async replaceSecretHash(id: string, expected: string, secretHash: string, now: number): Promise<boolean> {
    return this.main.writes.run(async () => {
      return (
        this.db
          .prepare('UPDATE devices SET secret_hash = ?, updated_at = ? WHERE id = ? AND secret_hash = ?')
          .run(secretHash, now, id, expected).changes === 1
      );
    });
  }

  async findHj212(mn: string): Promise<Hj212Credentials | undefined> {
    const row = this.db
      .prepare(`SELECT ${DEVICE_COLUMNS}, h.password_hash AS passwordHash FROM ${DEVICES} WHERE h.mn = ?`)
      .get(mn) as (Device & DeviceRow & { passwordHash: string }) | undefined;
    if (!row) return undefined;
    const { passwordHash, ...device } = deviceOf(row);
    return { device: device as Hj212Credentials['device'], passwordHash };
  }

  async setHj212(deviceId: string, write: Hj212Write | null, now: number): Promise<void> {
    return this.main.writes.run(async () => {
      this.db.transaction(() => {
        this.writeHj212(deviceId, write);
        this.db.prepare('UPDATE devices SET updated_at = ? WHERE id = ?').run(now, deviceId);
      })();
    });
  }

  /**
   * Inside a transaction: an MN another device holds is a conflict, never a silent take-over. A
   * null hash keeps the stored one: looked up in VALUES, since NOT NULL is checked before ON CONFLICT.
   */
  private writeHj212(deviceId: string, write: Hj212Write | null): void {
    if (write === null) {
      this.db.prepare('DELETE FROM device_hj212 WHERE device_id = ?').run(deviceId);
      return;
    }
    const holder = this.db.prepare('SELECT device_id AS id FROM device_hj212 WHERE mn = ?').get(write.settings.mn) as
      { id: string } | undefined;
    if (holder && holder.id !== deviceId)
      throw new ConflictError(`MN ${write.settings.mn} belongs to device ${holder.id}`);
    this.db
      .prepare(
        `INSERT INTO device_hj212 (device_id, mn, password_hash, crc, units) VALUES (@deviceId, @mn, coalesce(@passwordHash, (SELECT password_hash FROM device_hj212 WHERE device_id = @deviceId)), @crc, @units)
        ON CONFLICT(device_id) DO UPDATE SET mn = @mn, password_hash = excluded.password_hash, crc = @crc, units = @units`,
      )
      .run({
        deviceId,
        mn: write.settings.mn,
        passwordHash: write.passwordHash,
        crc: write.settings.crc,
        units: JSON.stringify(write.settings.units),
      });
  }

  /** Every device with its site's district: what the rule engine needs to know of the fleet. */
  async deviceDirectory(): Promise<DirectoryEntry[]> {
    return this.db
      .prepare(
        'SELECT d.id AS deviceId, d.site_id AS siteId, s.district, d.kind FROM devices d JOIN sites s ON s.id = d.site_id',
      )
      .all() as DirectoryEntry[];
  }

  async setEnabled(id: string, enabled: boolean, now: number): Promise<boolean> {
    return this.main.writes.run(async () => {
      return (
        this.db.prepare('UPDATE devices SET enabled = ?, updated_at = ? WHERE id = ?').run(enabled ? 1 : 0, now, id)
          .changes === 1
      );
    });
  }
}
