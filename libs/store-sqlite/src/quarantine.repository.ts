import { Rejection, RejectionReason } from '@dustwatch/telemetry';
import { QuarantineEntry, QuarantineLimits, QuarantineStore } from '@dustwatch/core';
import { Db, QueuedDb } from './sqlite';

const HOUR_MS = 3_600_000;

/**
 * Refused readings, kept with their raw text (capped), device, receive time and every reason.
 * Bounded twice: a byte quota (oldest rows go first, so the newest refusals, the ones an operator
 * is looking into, stay) and a retention period. The per-device hourly cap is the ingest core's.
 */
export class QuarantineRepository implements QuarantineStore {
  private readonly insert;
  private readonly db: Db;
  private storedBytes: number;
  private lastRetentionAt = 0;

  constructor(
    private readonly main: QueuedDb,
    private readonly limits: QuarantineLimits,
  ) {
    const db = (this.db = main.db);
    this.insert = db.prepare(
      'INSERT INTO quarantine (device_id, received_at, batch_index, reasons, raw) VALUES (?, ?, ?, ?, ?)',
    );
    this.storedBytes = this.measure();
  }

  get bytes(): number {
    return this.storedBytes;
  }

  get quota(): number {
    return this.limits.quotaBytes;
  }

  /** Committed when the promise resolves: the PUBACK that follows may rely on it. */
  async add(deviceId: string, receivedAt: number, rejections: readonly Rejection[]): Promise<void> {
    return this.main.writes.run(async () => {
      let added = 0;
      this.db.transaction(() => {
        for (const r of rejections) {
          const reasons = JSON.stringify(r.reasons);
          this.insert.run(deviceId, receivedAt, r.index, reasons, r.raw);
          added += Buffer.byteLength(reasons) + Buffer.byteLength(r.raw);
        }
      })();
      this.storedBytes += added;
      if (receivedAt - this.lastRetentionAt >= HOUR_MS) this.expire(receivedAt);
      if (this.storedBytes > this.limits.quotaBytes) this.trim();
    });
  }

  async list(filter: { deviceId?: string; limit: number; beforeId?: number }): Promise<QuarantineEntry[]> {
    const rows = this.db
      .prepare(
        `SELECT id, device_id AS deviceId, received_at AS receivedAt, batch_index AS batchIndex, reasons, raw
      FROM quarantine WHERE (@deviceId IS NULL OR device_id = @deviceId) AND (@beforeId IS NULL OR id < @beforeId)
      ORDER BY id DESC LIMIT @limit`,
      )
      .all({ deviceId: filter.deviceId ?? null, beforeId: filter.beforeId ?? null, limit: filter.limit }) as (Omit<
      QuarantineEntry,
      'reasons' | 'receivedAt'
    > & { reasons: string; receivedAt: number })[];
    return rows.map((r) => ({
      ...r,
      receivedAt: new Date(r.receivedAt).toISOString(),
      reasons: JSON.parse(r.reasons) as RejectionReason[],
    }));
  }

  private measure(): number {
    return (
      this.db
        .prepare(
          'SELECT coalesce(sum(length(CAST(reasons AS BLOB)) + length(CAST(raw AS BLOB))), 0) AS n FROM quarantine',
        )
        .get() as { n: number }
    ).n;
  }

  private expire(now: number): void {
    this.lastRetentionAt = now;
    if (this.db.prepare('DELETE FROM quarantine WHERE received_at < ?').run(now - this.limits.retentionMs).changes > 0)
      this.storedBytes = this.measure();
  }

  /** Deletes the oldest rows until the quarantine is at 90 % of its quota. */
  private trim(): void {
    const target = this.limits.quotaBytes * 0.9;
    const oldest = this.db.prepare(
      'SELECT id, length(CAST(reasons AS BLOB)) + length(CAST(raw AS BLOB)) AS bytes FROM quarantine ORDER BY id LIMIT 1000',
    );
    while (this.storedBytes > target) {
      const rows = oldest.all() as { id: number; bytes: number }[];
      if (rows.length === 0) break;
      let lastId = rows[0].id;
      for (const row of rows) {
        if (this.storedBytes <= target) break;
        this.storedBytes -= row.bytes;
        lastId = row.id;
      }
      this.db.prepare('DELETE FROM quarantine WHERE id <= ?').run(lastId);
    }
  }
}
