import { Rejection, RejectionReason } from '@dustwatch/telemetry';
import { QuarantineEntry, QuarantineLimits, QuarantineStore } from '@dustwatch/core';
import { PgDatabase } from './pg';

const HOUR_MS = 3_600_000;
const SIZE = 'octet_length(reasons) + octet_length(raw)';

/**
 * Refused readings on PostgreSQL, bounded like the SQLite store: a byte quota (oldest rows go
 * first) and a retention period. The byte count is this instance's view, measured at start and
 * kept by its own writes; with several instances each trims by it, so the table may hold up to
 * one quota's worth more than the quota between two measurements — re-measured at every trim.
 */
export class PgQuarantineStore implements QuarantineStore {
  private storedBytes = 0;
  private lastRetentionAt = 0;

  private constructor(
    private readonly db: PgDatabase,
    private readonly limits: QuarantineLimits,
  ) {}

  static async open(db: PgDatabase, limits: QuarantineLimits): Promise<PgQuarantineStore> {
    const store = new PgQuarantineStore(db, limits);
    store.storedBytes = await store.measure();
    return store;
  }

  get bytes(): number {
    return this.storedBytes;
  }

  get quota(): number {
    return this.limits.quotaBytes;
  }

  async add(deviceId: string, receivedAt: number, rejections: readonly Rejection[]): Promise<void> {
    if (rejections.length === 0) return;
    const reasons = rejections.map((r) => JSON.stringify(r.reasons));
    // One statement for the batch: its rows commit together (unnest keeps them in order).
    await this.db.changes(
      `INSERT INTO quarantine (device_id, received_at, batch_index, reasons, raw)
       SELECT $1, $2, b, r, w FROM unnest($3::integer[], $4::text[], $5::text[]) WITH ORDINALITY AS t(b, r, w, n) ORDER BY n`,
      [deviceId, receivedAt, rejections.map((r) => r.index), reasons, rejections.map((r) => r.raw)],
    );
    this.storedBytes += rejections.reduce(
      (sum, r, i) => sum + Buffer.byteLength(reasons[i]) + Buffer.byteLength(r.raw),
      0,
    );
    if (receivedAt - this.lastRetentionAt >= HOUR_MS) await this.expire(receivedAt);
    if (this.storedBytes > this.limits.quotaBytes) await this.trim();
  }

  async list(filter: { deviceId?: string; limit: number; beforeId?: number }): Promise<QuarantineEntry[]> {
    const rows = await this.db.rows<
      Omit<QuarantineEntry, 'reasons' | 'receivedAt'> & { reasons: string; receivedAt: number }
    >(
      `SELECT id, device_id AS "deviceId", received_at AS "receivedAt", batch_index AS "batchIndex", reasons, raw
         FROM quarantine WHERE ($1::text IS NULL OR device_id = $1) AND ($2::bigint IS NULL OR id < $2)
        ORDER BY id DESC LIMIT $3`,
      [filter.deviceId ?? null, filter.beforeId ?? null, filter.limit],
    );
    return rows.map((r) => ({
      ...r,
      receivedAt: new Date(r.receivedAt).toISOString(),
      reasons: JSON.parse(r.reasons) as RejectionReason[],
    }));
  }

  private async measure(): Promise<number> {
    return (await this.db.one<{ n: number }>(`SELECT coalesce(sum(${SIZE}), 0)::bigint AS n FROM quarantine`))!.n;
  }

  private async expire(now: number): Promise<void> {
    this.lastRetentionAt = now;
    if ((await this.db.changes('DELETE FROM quarantine WHERE received_at < $1', [now - this.limits.retentionMs])) > 0)
      this.storedBytes = await this.measure();
  }

  /** Deletes the oldest rows until the quarantine is at 90 % of its quota: one statement, a running sum. */
  private async trim(): Promise<void> {
    this.storedBytes = await this.measure();
    const excess = this.storedBytes - this.limits.quotaBytes * 0.9;
    if (excess <= 0) return;
    await this.db.changes(
      `DELETE FROM quarantine WHERE id <= (
         SELECT min(id) FROM (SELECT id, sum(${SIZE}) OVER (ORDER BY id) AS upto FROM quarantine) t WHERE upto >= $1)`,
      [excess],
    );
    this.storedBytes = await this.measure();
  }
}
