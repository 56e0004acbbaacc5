import { Db } from '../core/sqlite';
import { DeviceKind } from './registry.dto';

export interface Site {
  id: string;
  name: string;
  district: string;
  lat: number;
  lon: number;
  areaM2: number | null;
}

export interface Device {
  id: string;
  siteId: string;
  model: string;
  kind: DeviceKind;
  enabled: boolean;
}

export interface DeviceWithStatus extends Device {
  online: boolean;
  /** ISO 8601 (UTC) or null. */
  lastConnectAt: string | null;
  lastDisconnectAt: string | null;
  lastSeenAt: string | null;
  /** Last message on devices/{id}/status (often the last will) and when it came. */
  lastStatus: string | null;
  lastStatusAt: string | null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export interface DeviceCredentials extends Device {
  secretHash: string;
}

const SITE_COLUMNS = 'id, name, district, lat, lon, area_m2 AS areaM2';
const DEVICE_COLUMNS = 'd.id, d.site_id AS siteId, d.model, d.kind, d.enabled';

function toDevice<T extends { enabled: number | boolean }>(row: T): T & { enabled: boolean } {
  return { ...row, enabled: row.enabled === 1 || row.enabled === true };
}

/** SQLite access for sites and devices. Every value is a bound parameter, never concatenated. */
export class RegistryRepository {
  constructor(private readonly db: Db) {}

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  findSite(id: string): Site | undefined {
    return this.db.prepare(`SELECT ${SITE_COLUMNS} FROM sites WHERE id = ?`).get(id) as Site | undefined;
  }

  listSites(): Site[] {
    return this.db.prepare(`SELECT ${SITE_COLUMNS} FROM sites ORDER BY id`).all() as Site[];
  }

  upsertSite(site: Site, now: number): 'created' | 'updated' {
    const existed = this.findSite(site.id) !== undefined;
    this.db.prepare(`INSERT INTO sites (id, name, district, lat, lon, area_m2, created_at, updated_at)
      VALUES (@id, @name, @district, @lat, @lon, @areaM2, @now, @now)
      ON CONFLICT(id) DO UPDATE SET name = @name, district = @district, lat = @lat, lon = @lon, area_m2 = @areaM2, updated_at = @now`)
      .run({ id: site.id, name: site.name, district: site.district, lat: site.lat, lon: site.lon, areaM2: site.areaM2, now });
    return existed ? 'updated' : 'created';
  }

  findDevice(id: string): Device | undefined {
    const row = this.db.prepare(`SELECT ${DEVICE_COLUMNS} FROM devices d WHERE d.id = ?`).get(id) as (Device & { enabled: number }) | undefined;
    return row && toDevice(row);
  }

  findCredentials(id: string): DeviceCredentials | undefined {
    const row = this.db.prepare(`SELECT ${DEVICE_COLUMNS}, d.secret_hash AS secretHash FROM devices d WHERE d.id = ?`).get(id) as (DeviceCredentials & { enabled: number }) | undefined;
    return row && toDevice(row);
  }

  listDevices(siteId?: string): DeviceWithStatus[] {
    const rows = this.db.prepare(`SELECT ${DEVICE_COLUMNS}, coalesce(s.online, 0) AS online, s.last_connect_at AS lastConnectAt,
        s.last_disconnect_at AS lastDisconnectAt, s.last_seen_at AS lastSeenAt, s.last_status AS lastStatus, s.last_status_at AS lastStatusAt
      FROM devices d LEFT JOIN device_status s ON s.device_id = d.id
      WHERE (@siteId IS NULL OR d.site_id = @siteId) ORDER BY d.id`).all({ siteId: siteId ?? null }) as (Omit<Device, 'enabled'> & {
      enabled: number; online: number; lastConnectAt: number | null; lastDisconnectAt: number | null; lastSeenAt: number | null; lastStatus: string | null; lastStatusAt: number | null;
    })[];
    return rows.map((r) => ({
      ...r, enabled: r.enabled === 1, online: r.online === 1,
      lastConnectAt: iso(r.lastConnectAt), lastDisconnectAt: iso(r.lastDisconnectAt), lastSeenAt: iso(r.lastSeenAt), lastStatusAt: iso(r.lastStatusAt),
    }));
  }

  upsertDevice(device: Device, secretHash: string | null, now: number): 'created' | 'updated' {
    const existed = this.findDevice(device.id) !== undefined;
    if (existed) {
      this.db.prepare(`UPDATE devices SET site_id = @siteId, model = @model, kind = @kind, updated_at = @now,
        secret_hash = coalesce(@secretHash, secret_hash) WHERE id = @id`).run({ id: device.id, siteId: device.siteId, model: device.model, kind: device.kind, secretHash, now });
    } else {
      if (secretHash === null) throw new Error(`a new device needs a secret hash: ${device.id}`);
      this.db.prepare(`INSERT INTO devices (id, site_id, model, kind, enabled, secret_hash, created_at, updated_at)
        VALUES (@id, @siteId, @model, @kind, @enabled, @secretHash, @now, @now)`).run({ id: device.id, siteId: device.siteId, model: device.model, kind: device.kind, enabled: device.enabled ? 1 : 0, secretHash, now });
    }
    return existed ? 'updated' : 'created';
  }

  setSecretHash(id: string, secretHash: string, now: number): boolean {
    return this.db.prepare('UPDATE devices SET secret_hash = ?, updated_at = ? WHERE id = ?').run(secretHash, now, id).changes === 1;
  }

  /** Every device with its site's district: what the rule engine needs to know of the fleet. */
  deviceDirectory(): { deviceId: string; siteId: string; district: string; kind: DeviceKind }[] {
    return this.db.prepare('SELECT d.id AS deviceId, d.site_id AS siteId, s.district, d.kind FROM devices d JOIN sites s ON s.id = d.site_id').all() as { deviceId: string; siteId: string; district: string; kind: DeviceKind }[];
  }

  setEnabled(id: string, enabled: boolean, now: number): boolean {
    return this.db.prepare('UPDATE devices SET enabled = ?, updated_at = ? WHERE id = ?').run(enabled ? 1 : 0, now, id).changes === 1;
  }
}
