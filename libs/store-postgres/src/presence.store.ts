import { DevicePresence, PresenceStore } from '@dustwatch/core';
import { PgDatabase } from './pg';

/** The database's clock in epoch ms: one clock for every instance's writes and reads of `changed_at`. */
const NOW_MS = '(extract(epoch FROM now()) * 1000)::bigint';

/** `device_status` on PostgreSQL: written behind by the Presence service, one transaction per flush. */
export class PgPresenceStore implements PresenceStore {
  constructor(private readonly db: PgDatabase) {}

  loadAll(): Promise<Map<string, DevicePresence>> {
    return this.load('');
  }

  loadRecent(withinMs: number): Promise<Map<string, DevicePresence>> {
    return this.load(`WHERE changed_at >= ${NOW_MS} - $1`, [withinMs]);
  }

  private async load(where: string, params: unknown[] = []): Promise<Map<string, DevicePresence>> {
    const rows = await this.db.rows<Omit<DevicePresence, 'online'> & { id: string; online: number }>(
      `SELECT device_id AS id, online, last_connect_at AS "lastConnectAt", last_disconnect_at AS "lastDisconnectAt",
              last_seen_at AS "lastSeenAt", last_status AS "lastStatus", last_status_at AS "lastStatusAt"
       FROM device_status ${where}`,
      params,
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
    // One statement, rows in id order: two instances saving overlapping devices lock them in the
    // same order and wait for each other instead of deadlocking (bench:cluster found that with
    // one statement per device in each instance's own order).
    const rows = [...changed].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const column = <T>(pick: (p: DevicePresence) => T): T[] => rows.map(([, p]) => pick(p));
    await this.db.changes(
      `INSERT INTO device_status AS s (device_id, online, last_connect_at, last_disconnect_at, last_seen_at, last_status, last_status_at, changed_at)
       SELECT u.device_id, u.online, u.last_connect_at, u.last_disconnect_at, u.last_seen_at, u.last_status, u.last_status_at, ${NOW_MS}
       FROM unnest($1::text[], $2::int[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::bigint[])
         WITH ORDINALITY AS u(device_id, online, last_connect_at, last_disconnect_at, last_seen_at, last_status, last_status_at, n)
       WHERE EXISTS (SELECT 1 FROM devices WHERE id = u.device_id)
       ORDER BY u.n
       ON CONFLICT (device_id) DO UPDATE SET
         online = CASE WHEN GREATEST(coalesce(excluded.last_connect_at, -1), coalesce(excluded.last_disconnect_at, -1))
                          >= GREATEST(coalesce(s.last_connect_at, -1), coalesce(s.last_disconnect_at, -1))
                       THEN excluded.online ELSE s.online END,
         last_connect_at = GREATEST(s.last_connect_at, excluded.last_connect_at),
         last_disconnect_at = GREATEST(s.last_disconnect_at, excluded.last_disconnect_at),
         last_seen_at = GREATEST(s.last_seen_at, excluded.last_seen_at),
         last_status = CASE WHEN coalesce(excluded.last_status_at, -1) >= coalesce(s.last_status_at, -1)
                            THEN excluded.last_status ELSE s.last_status END,
         last_status_at = GREATEST(s.last_status_at, excluded.last_status_at),
         changed_at = excluded.changed_at`,
      [
        rows.map(([id]) => id),
        column((p) => (p.online ? 1 : 0)),
        column((p) => p.lastConnectAt),
        column((p) => p.lastDisconnectAt),
        column((p) => p.lastSeenAt),
        column((p) => p.lastStatus),
        column((p) => p.lastStatusAt),
      ],
    );
  }
}
