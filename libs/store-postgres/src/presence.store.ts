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
   * Several instances write it, each with what it heard: rows merge field by field as
   * `mergePresence` (core) does — the later of each time, `online` and the status text from the
   * write whose latest event of their kind is not older — so one instance's older view never sets
   * the record back. Presence of an id the registry no longer holds is skipped
   * (INSERT … SELECT … WHERE EXISTS), not a failed flush.
   */
  async save(changed: ReadonlyMap<string, DevicePresence>): Promise<void> {
    if (changed.size === 0) return;
    await this.db.transaction(async (client) => {
      for (const [id, p] of changed)
        await client.query(
          `INSERT INTO device_status AS s (device_id, online, last_connect_at, last_disconnect_at, last_seen_at, last_status, last_status_at)
           SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM devices WHERE id = $1)
           ON CONFLICT (device_id) DO UPDATE SET
             online = CASE WHEN GREATEST(coalesce(excluded.last_connect_at, -1), coalesce(excluded.last_disconnect_at, -1))
                              >= GREATEST(coalesce(s.last_connect_at, -1), coalesce(s.last_disconnect_at, -1))
                           THEN excluded.online ELSE s.online END,
             last_connect_at = GREATEST(s.last_connect_at, excluded.last_connect_at),
             last_disconnect_at = GREATEST(s.last_disconnect_at, excluded.last_disconnect_at),
             last_seen_at = GREATEST(s.last_seen_at, excluded.last_seen_at),
             last_status = CASE WHEN coalesce(excluded.last_status_at, -1) >= coalesce(s.last_status_at, -1)
                                THEN excluded.last_status ELSE s.last_status END,
             last_status_at = GREATEST(s.last_status_at, excluded.last_status_at)`,
          [id, p.online ? 1 : 0, p.lastConnectAt, p.lastDisconnectAt, p.lastSeenAt, p.lastStatus, p.lastStatusAt],
        );
    });
  }
}
