import { Db } from '../core/sqlite';

/**
 * The service's own record of who is connected and when each device was last heard from.
 * Events are kept in memory and written in one transaction per flush (every few seconds and at
 * shutdown): a synchronous fsync per CONNECT would stall the event loop for ~3 ms each, half a
 * second for a reconnect storm of the whole fleet. Last-seen changes with every reading and is
 * coalesced the same way (one UPDATE per device per flush).
 */
export class DeviceStatusRepository {
  private readonly lastSeen = new Map<string, number>();
  private readonly transitions: { id: string; online: 0 | 1; connectAt: number | null; disconnectAt: number | null }[] = [];
  private readonly upsert;
  private readonly seen;
  private readonly statusMessage;

  constructor(private readonly db: Db) {
    this.upsert = db.prepare(`INSERT INTO device_status (device_id, online, last_connect_at, last_disconnect_at)
      VALUES (@id, @online, @connectAt, @disconnectAt)
      ON CONFLICT(device_id) DO UPDATE SET online = @online,
        last_connect_at = coalesce(@connectAt, last_connect_at), last_disconnect_at = coalesce(@disconnectAt, last_disconnect_at)`);
    this.seen = db.prepare(`INSERT INTO device_status (device_id, online, last_seen_at) VALUES (?, 1, ?)
      ON CONFLICT(device_id) DO UPDATE SET last_seen_at = max(coalesce(last_seen_at, 0), excluded.last_seen_at)`);
    this.statusMessage = db.prepare(`INSERT INTO device_status (device_id, online, last_status, last_status_at) VALUES (?, 0, ?, ?)
      ON CONFLICT(device_id) DO UPDATE SET last_status = excluded.last_status, last_status_at = excluded.last_status_at`);
  }

  /**
   * A message on `devices/{id}/status`: the device's own word, typically its last will
   * ("offline") published by the broker when the connection died without DISCONNECT. Rare,
   * so written at once.
   */
  statusMessageReceived(deviceId: string, text: string, now: number): void {
    this.statusMessage.run(deviceId, text.slice(0, 256), now);
  }

  /** At start-up nobody is connected yet, whatever the last run recorded. */
  markAllOffline(now: number): void {
    this.db.prepare('UPDATE device_status SET online = 0, last_disconnect_at = coalesce(last_disconnect_at, ?) WHERE online = 1').run(now);
  }

  connected(deviceId: string, now: number): void {
    this.transitions.push({ id: deviceId, online: 1, connectAt: now, disconnectAt: null });
  }

  disconnected(deviceId: string, now: number): void {
    this.transitions.push({ id: deviceId, online: 0, connectAt: null, disconnectAt: now });
  }

  /** Last reading receive time of every device that ever sent one. */
  lastSeenAll(): Map<string, number> {
    this.flush();
    const rows = this.db.prepare('SELECT device_id AS deviceId, last_seen_at AS t FROM device_status WHERE last_seen_at IS NOT NULL').all() as { deviceId: string; t: number }[];
    return new Map(rows.map((r) => [r.deviceId, r.t]));
  }

  touch(deviceId: string, now: number): void {
    this.lastSeen.set(deviceId, now);
  }

  flush(): void {
    if (this.lastSeen.size === 0 && this.transitions.length === 0) return;
    const seen = [...this.lastSeen];
    const transitions = this.transitions.splice(0);
    this.lastSeen.clear();
    this.db.transaction(() => {
      for (const t of transitions) this.upsert.run(t);
      for (const [id, at] of seen) this.seen.run(id, at);
    })();
  }
}
