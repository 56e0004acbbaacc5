import { PoolClient } from 'pg';
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
import { PgDatabase, Queryable } from './pg';

/** Sites and devices on PostgreSQL; every value a bound parameter. */
export class PgRegistryStore implements RegistryStore {
  constructor(private readonly db: PgDatabase) {}

  findSite(id: string): Promise<Site | undefined> {
    return this.db.one<Site>(`SELECT ${SITE_COLUMNS} FROM sites WHERE id = $1`, [id]);
  }

  listSites(): Promise<Site[]> {
    return this.db.rows<Site>(`SELECT ${SITE_COLUMNS} FROM sites ORDER BY id`);
  }

  upsertSite(site: Site, now: number): Promise<'created' | 'updated'> {
    return writeSite(this.db.pool, site, now);
  }

  async findDevice(id: string): Promise<Device | undefined> {
    const row = await this.db.one<Device & DeviceRow>(`SELECT ${DEVICE_COLUMNS} FROM ${DEVICES} WHERE d.id = $1`, [id]);
    return row && deviceOf(row);
  }

  async findCredentials(id: string): Promise<DeviceCredentials | undefined> {
    const row = await this.db.one<DeviceCredentials & DeviceRow>(
      `SELECT ${DEVICE_COLUMNS}, d.secret_hash AS "secretHash" FROM ${DEVICES} WHERE d.id = $1`,
      [id],
    );
    return row && deviceOf(row);
  }

  async listDevices(siteId?: string): Promise<Device[]> {
    const rows = await this.db.rows<Device & DeviceRow>(
      `SELECT ${DEVICE_COLUMNS} FROM ${DEVICES} WHERE ($1::text IS NULL OR d.site_id = $1) ORDER BY d.id`,
      [siteId ?? null],
    );
    return rows.map(deviceOf);
  }

  async insertDevice(device: Device, secretHash: string, now: number): Promise<boolean> {
    return insertDevice(this.db.pool, device, secretHash, now);
  }

  async importFleet(
    sites: readonly FleetImportSite[],
    now: number,
  ): Promise<{ sites: { created: number; updated: number }; devices: { created: number; updated: number } }> {
    return this.db.transaction(async (client) => {
      const counts = { sites: { created: 0, updated: 0 }, devices: { created: 0, updated: 0 } };
      for (const { site, devices } of sites) {
        counts.sites[await writeSite(client, site, now)] += 1;
        for (const { device, secretHash, hj212 } of devices) {
          counts.devices[await upsertDevice(client, device, secretHash, now)] += 1;
          await writeHj212(client, device.id, hj212);
        }
      }
      return counts;
    });
  }

  async setSecretHash(id: string, secretHash: string, now: number): Promise<boolean> {
    return (
      (await this.db.changes('UPDATE devices SET secret_hash = $1, updated_at = $2 WHERE id = $3', [
        secretHash,
        now,
        id,
      ])) === 1
    );
  }

  async replaceSecretHash(id: string, expected: string, secretHash: string, now: number): Promise<boolean> {
    return (
      (await this.db.changes(
        'UPDATE devices SET secret_hash = $1, updated_at = $2 WHERE id = $3 AND secret_hash = $4',
        [secretHash, now, id, expected],
      )) === 1
    );
  }

  async findHj212(mn: string): Promise<Hj212Credentials | undefined> {
    const row = await this.db.one<Device & DeviceRow & { passwordHash: string }>(
      `SELECT ${DEVICE_COLUMNS}, h.password_hash AS "passwordHash" FROM ${DEVICES} WHERE h.mn = $1`,
      [mn],
    );
    if (!row) return undefined;
    const { passwordHash, ...device } = deviceOf(row);
    return { device: device as Hj212Credentials['device'], passwordHash };
  }

  async setHj212(deviceId: string, write: Hj212Write | null, now: number): Promise<void> {
    await this.db.transaction(async (client) => {
      await writeHj212(client, deviceId, write);
      await client.query('UPDATE devices SET updated_at = $1 WHERE id = $2', [now, deviceId]);
    });
  }

  deviceDirectory(): Promise<DirectoryEntry[]> {
    return this.db.rows<DirectoryEntry>(
      'SELECT d.id AS "deviceId", d.site_id AS "siteId", s.district, d.kind FROM devices d JOIN sites s ON s.id = d.site_id',
    );
  }

  async setEnabled(id: string, enabled: boolean, now: number): Promise<boolean> {
    return (
      (await this.db.changes('UPDATE devices SET enabled = $1, updated_at = $2 WHERE id = $3', [
        enabled ? 1 : 0,
        now,
        id,
      ])) === 1
    );
  }
}

/** `xmax = 0` tells a fresh insert from the update of an upsert, in the same statement. */
async function writeSite(q: Queryable, site: Site, now: number): Promise<'created' | 'updated'> {
  const { rows } = await q.query<{ created: boolean }>(
    `INSERT INTO sites (id, name, district, lat, lon, area_m2, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
     ON CONFLICT (id) DO UPDATE SET name = $2, district = $3, lat = $4, lon = $5, area_m2 = $6, updated_at = $7
     RETURNING (xmax = 0) AS created`,
    [site.id, site.name, site.district, site.lat, site.lon, site.areaM2, now],
  );
  return rows[0].created ? 'created' : 'updated';
}

async function insertDevice(q: Queryable, device: Device, secretHash: string, now: number): Promise<boolean> {
  const { rowCount } = await q.query(
    `INSERT INTO devices (id, site_id, model, kind, enabled, secret_hash, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (id) DO NOTHING`,
    [device.id, device.siteId, device.model, device.kind, device.enabled ? 1 : 0, secretHash, now],
  );
  return rowCount === 1;
}

async function upsertDevice(
  client: PoolClient,
  device: Device,
  secretHash: string | null,
  now: number,
): Promise<'created' | 'updated'> {
  const { rowCount } = await client.query(
    `UPDATE devices SET site_id = $2, model = $3, kind = $4, updated_at = $5, secret_hash = coalesce($6, secret_hash) WHERE id = $1`,
    [device.id, device.siteId, device.model, device.kind, now, secretHash],
  );
  if (rowCount === 1) return 'updated';
  if (secretHash === null) throw new Error(`a new device needs a secret hash: ${device.id}`);
  await insertDevice(client, device, secretHash, now);
  return 'created';
}

/** Inside a transaction: an MN another device holds is a conflict, never a silent take-over. */
async function writeHj212(client: PoolClient, deviceId: string, write: Hj212Write | null): Promise<void> {
  if (write === null) {
    await client.query('DELETE FROM device_hj212 WHERE device_id = $1', [deviceId]);
    return;
  }
  const holder = (
    await client.query<{ id: string }>('SELECT device_id AS id FROM device_hj212 WHERE mn = $1', [write.settings.mn])
  ).rows[0];
  if (holder && holder.id !== deviceId)
    throw new ConflictError(`MN ${write.settings.mn} belongs to device ${holder.id}`);
  try {
    await client.query(
      `INSERT INTO device_hj212 (device_id, mn, password_hash, crc, units) VALUES ($1, $2, coalesce($3, (SELECT password_hash FROM device_hj212 WHERE device_id = $1)), $4, $5)
       ON CONFLICT (device_id) DO UPDATE SET mn = $2, password_hash = excluded.password_hash, crc = $4, units = $5`,
      [deviceId, write.settings.mn, write.passwordHash, write.settings.crc, JSON.stringify(write.settings.units)],
    );
  } catch (error) {
    // Another instance took the MN between the check and the write: the unique index decides.
    if ((error as { code?: string }).code === '23505')
      throw new ConflictError(`MN ${write.settings.mn} belongs to another device`);
    throw error;
  }
}
