import { SpoolFullError } from '../core/errors';
import { Db } from '../core/sqlite';

/** A reading's rule-relevant valid values (JSON), kept for the rule windows. */
export interface SpooledSample {
  readonly deviceId: string;
  readonly ts: number;
  readonly vals: string;
}

interface PendingAppend {
  readonly lines: readonly string[];
  readonly samples: readonly SpooledSample[];
  readonly receivedAt: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export interface SpoolBatch {
  readonly firstId: number;
  readonly lastId: number;
  readonly lines: string[];
  readonly bytes: number;
  readonly oldestReceivedAt: number;
}

/**
 * The durable hand-off between "acknowledged to the device" and "acknowledged by InfluxDB".
 *
 * `append` resolves only after the lines are committed to SQLite; the broker sends PUBACK only
 * then, so a kill -9 at any moment loses nothing acknowledged. Appends that arrive within one
 * event-loop turn share one transaction (group commit): one fsync for many readings.
 * The writer reads the oldest rows in id order and deletes them only after InfluxDB answered 204.
 *
 * The same transaction stores each reading's rule samples (`rule_samples`), so after a kill -9
 * the rule windows are rebuilt from exactly the readings that were acknowledged: a 1-h condition
 * building before a restart continues instead of starting over.
 */
export class Spool {
  private pending: PendingAppend[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  private depthRows: number;
  private bytesStored: number;
  private readonly listeners = new Set<() => void>();
  private readonly insert;
  private readonly insertSample;
  private readonly selectBatch;
  private readonly deleteUpTo;

  constructor(private readonly db: Db, private readonly quotaBytes: number) {
    const stats = db.prepare('SELECT count(*) AS n, coalesce(sum(length(line)), 0) AS bytes FROM spool').get() as { n: number; bytes: number };
    this.depthRows = stats.n;
    this.bytesStored = stats.bytes;
    this.insert = db.prepare('INSERT INTO spool (received_at, line) VALUES (?, ?)');
    // A redelivered reading (same device and time) keeps its first sample, like the rule windows do.
    this.insertSample = db.prepare('INSERT OR IGNORE INTO rule_samples (device_id, ts, vals) VALUES (?, ?, ?)');
    this.selectBatch = db.prepare('SELECT id, received_at AS receivedAt, line FROM spool ORDER BY id LIMIT ?');
    this.deleteUpTo = db.prepare('DELETE FROM spool WHERE id <= ?');
  }

  get depth(): number {
    return this.depthRows;
  }

  get bytes(): number {
    return this.bytesStored + this.pendingBytes;
  }

  get overQuota(): boolean {
    return this.bytes >= this.quotaBytes;
  }

  get quota(): number {
    return this.quotaBytes;
  }

  /** Durably stores lines; resolves after the commit. Refuses with SpoolFullError at the quota. */
  append(lines: readonly string[], receivedAt: number, samples: readonly SpooledSample[] = []): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    if (this.overQuota) return Promise.reject(new SpoolFullError(`spool is at its quota of ${this.quotaBytes} bytes`));
    for (const line of lines) this.pendingBytes += line.length;
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ lines, samples, receivedAt, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits every pending append in one transaction, then settles their promises. */
  flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.pendingBytes = 0;
    let rows = 0;
    let bytes = 0;
    try {
      this.db.transaction(() => {
        for (const item of batch) {
          for (const line of item.lines) {
            this.insert.run(item.receivedAt, line);
            rows += 1;
            bytes += line.length;
          }
          for (const sample of item.samples) this.insertSample.run(sample.deviceId, sample.ts, sample.vals);
        }
      })();
    } catch (error) {
      for (const item of batch) item.reject(error as Error);
      return;
    }
    this.depthRows += rows;
    this.bytesStored += bytes;
    for (const item of batch) item.resolve();
    for (const listener of this.listeners) listener();
  }

  /** The oldest lines, in arrival order. */
  peek(maxLines: number): SpoolBatch | null {
    const rows = this.selectBatch.all(maxLines) as { id: number; receivedAt: number; line: string }[];
    if (rows.length === 0) return null;
    return {
      firstId: rows[0].id,
      lastId: rows[rows.length - 1].id,
      lines: rows.map((r) => r.line),
      bytes: rows.reduce((sum, r) => sum + r.line.length, 0),
      oldestReceivedAt: rows[0].receivedAt,
    };
  }

  /** Deletes a batch InfluxDB acknowledged. */
  remove(batch: SpoolBatch): void {
    this.deleteUpTo.run(batch.lastId);
    this.depthRows -= batch.lines.length;
    this.bytesStored -= batch.bytes;
  }

  /** Moves a batch InfluxDB refused as malformed to the dead-letter table: kept, counted, never retried blindly. */
  bury(batch: SpoolBatch, error: string, now: number): void {
    this.db.transaction(() => {
      this.db.prepare(`INSERT INTO spool_dead (spool_id, received_at, line, failed_at, error)
        SELECT id, received_at, line, ?, ? FROM spool WHERE id <= ?`).run(now, error.slice(0, 2000), batch.lastId);
      this.deleteUpTo.run(batch.lastId);
    })();
    this.depthRows -= batch.lines.length;
    this.bytesStored -= batch.bytes;
  }

  /** True when SQLite can take a write lock on the spool right now. */
  writable(): boolean {
    try {
      this.db.exec('BEGIN IMMEDIATE; ROLLBACK');
      return true;
    } catch {
      return false;
    }
  }

  oldestReceivedAt(): number | null {
    const row = this.db.prepare('SELECT received_at AS t FROM spool ORDER BY id LIMIT 1').get() as { t: number } | undefined;
    return row?.t ?? null;
  }

  deadCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM spool_dead').get() as { n: number }).n;
  }

  /** Rule samples from `since` on, per device in time order: the rule windows after a restart. */
  samplesSince(since: number): SpooledSample[] {
    return this.db.prepare('SELECT device_id AS deviceId, ts, vals FROM rule_samples WHERE ts >= ? ORDER BY device_id, ts').all(since) as SpooledSample[];
  }

  /** Drops rule samples no window reaches any more. */
  pruneSamples(before: number): number {
    return this.db.prepare('DELETE FROM rule_samples WHERE ts < ?').run(before).changes;
  }

  /** Called after each commit; the writer uses it to wake up. */
  onAppended(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
