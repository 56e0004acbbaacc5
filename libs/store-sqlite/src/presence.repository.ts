import { DevicePresence, PresenceStore } from '@dustwatch/core';
import { Db, QueuedDb } from './sqlite';

/** `device_status`: the presence record, written behind by the Presence service in one transaction per flush. */
export class SqlitePresenceStore implements PresenceStore {
  private readonly upsert;

  private readonly db: Db;

  constructor(private readonly main: QueuedDb) {
    const db = (this.db = main.db);
    this.upsert =
      db.prepare(`INSERT INTO device_status (device_id, online, last_connect_at, last_disconnect_at, last_seen_at, last_status, last_status_at)
      VALUES (@id, @online, @lastConnectAt, @lastDisconnectAt, @lastSeenAt, @lastStatus, @lastStatusAt)
      ON CONFLICT(device_id) DO UPDATE SET online = excluded.online, last_connect_at = excluded.last_connect_at,
        last_disconnect_at = excluded.last_disconnect_at, last_seen_at = excluded.last_seen_at,
        last_status = excluded.last_status, last_status_at = excluded.last_status_at`);
  }

  async loadAll(): Promise<Map<string, DevicePresence>> {
    const rows = this.db
      .prepare(
        `SELECT device_id AS id, online, last_connect_at AS lastConnectAt, last_disconnect_at AS lastDisconnectAt,
      last_seen_at AS lastSeenAt, last_status AS lastStatus, last_status_at AS lastStatusAt FROM device_status`,
      )
      .all() as (Omit<DevicePresence, 'online'> & { id: string; online: number })[];
    return new Map(rows.map(({ id, online, ...p }) => [id, { ...p, online: online === 1 }]));
  }

  /**
   * device_status.device_id references devices(id): presence of an id the registry does not hold
   * (removed meanwhile) is skipped rather than failing the whole flush.
   */
  async save(changed: ReadonlyMap<string, DevicePresence>): Promise<void> {
    return this.main.writes.run(async () => {
      const known = this.db.prepare('SELECT 1 FROM devices WHERE id = ?');
      this.db.transaction(() => {
        for (const [id, p] of changed) {
          if (known.get(id) === undefined) continue;
          this.upsert.run({ id, ...p, online: p.online ? 1 : 0 });
        }
      })();
    });
  }
}
