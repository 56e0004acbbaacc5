import { DevicePresence, PresenceStore } from '@dustwatch/core';
import { PgDatabase } from './pg';

/** `device_status` on PostgreSQL: written behind by the Presence service, one transaction per flush. */
export class PgPresenceStore implements PresenceStore {
  constructor(private readonly db: PgDatabase) {}

  async loadAll(): Promise<Map<string, DevicePresence>> {
    const rows = await this.db.rows<Omit<DevicePresence, 'online'> & { id: string; online: number }>(
      `SELECT device_id AS id, online, last_connect_at AS "lastConnectAt", last_disconnect_at AS "lastDisconnectAt",
              last_seen_at AS "lastSeenAt", last_status AS "lastStatus", last_status_at AS "lastStatusAt" FROM device_status`,
    );
    return new Map(rows.map(({ id, online, ...p }) => [id, { ...p, online: online === 1 }]));
  }

  /**
   * Several instances write it, each knowing the readings it took: the last-seen time only moves
   * forward (GREATEST ignores a NULL), so one instance's older view cannot set it back.
   * Presence of an id the registry no longer holds is skipped (INSERT … SELECT … WHERE EXISTS),
   * not a failed flush.
   */
  async save(changed: ReadonlyMap<string, DevicePresence>): Promise<void> {
    if (changed.size === 0) return;
    await this.db.transaction(async (client) => {
      for (const [id, p] of changed)
        await client.query(
          `INSERT INTO device_status (device_id, online, last_connect_at, last_disconnect_at, last_seen_at, last_status, last_status_at)
           SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM devices WHERE id = $1)
           ON CONFLICT (device_id) DO UPDATE SET online = excluded.online, last_connect_at = excluded.last_connect_at,
             last_disconnect_at = excluded.last_disconnect_at,
             last_seen_at = GREATEST(device_status.last_seen_at, excluded.last_seen_at),
             last_status = excluded.last_status, last_status_at = excluded.last_status_at`,
          [id, p.online ? 1 : 0, p.lastConnectAt, p.lastDisconnectAt, p.lastSeenAt, p.lastStatus, p.lastStatusAt],
        );
    });
  }
}
