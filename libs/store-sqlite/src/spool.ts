import { statSync } from 'node:fs';
import {
  FeedEntry,
  FeedOutbox,
  JournalEntry,
  ReadingsStore,
  SpoolBatch,
  SpoolEntry,
  SpoolFullError,
} from '@dustwatch/core';
import { Db } from './sqlite';

interface PendingCommit {
  readonly entries: readonly SpoolEntry[];
  readonly receivedAt: number;
  readonly resolve: (result: { duplicates: number }) => void;
  readonly reject: (error: Error) => void;
}

/**
 * The spool and the accepted-readings journal in one SQLite file (WAL, synchronous FULL).
 *
 * `commit` resolves only after the lines are committed; the edge acknowledges only then, so a
 * kill -9 at any moment loses nothing acknowledged. Commits that arrive within one event-loop
 * turn share one transaction (group commit): one fsync for many readings. The writer reads the
 * oldest rows in id order and deletes them only after InfluxDB answered 204.
 *
 * Each reading's journal entry (device, time, rule-relevant values) is written in the same
 * transaction, with `INSERT OR IGNORE` on (device, ts): when the row exists already, the reading
 * is a redelivery (QoS 1 DUP, a resent buffer) and its line is not spooled again — first wins,
 * as in the rule windows. The journal is kept `journalRetentionMs` (what the rule windows need
 * after a restart), pruned by this store once a minute.
 *
 * The quota is on disk, as an operator sizes it: the pages of spool.db in use (pages freed by
 * deletes are reused, so a file grown during an outage does not stay "full") plus the WAL file,
 * measured after every commit and delete. Between measurements, pending lines count by length.
 * The WAL is checkpointed and truncated in steps of an eighth and a quarter of the quota, so it
 * never holds the quota's room by itself.
 *
 * With `feedOutbox` (several instances, docs/cluster.md) each newly journalled reading is also
 * written to `feed_outbox` in the same transaction: the forwarder moves it to the shared rule
 * feed later, so a reading acknowledged here reaches the rules even if PostgreSQL is down now.
 */
export class SqliteReadingsStore implements ReadingsStore, FeedOutbox {
  private pending: PendingCommit[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  private depthRows: number;
  private diskBytes = 0;
  private readonly pageSize: number;
  private lastPrune = 0;
  private readonly listeners = new Set<() => void>();
  private readonly insert;
  private readonly insertJournal;
  private readonly selectBatch;
  private readonly deleteUpTo;
  private readonly insertPendingRollUp;
  private readonly insertFeed;
  private feedRows: number;

  constructor(
    private readonly db: Db,
    private readonly quotaBytes: number,
    private readonly journalRetentionMs: number,
    private readonly now: () => number,
    private readonly feedOutbox = false,
  ) {
    this.depthRows = (db.prepare('SELECT count(*) AS n FROM spool').get() as { n: number }).n;
    this.feedRows = (db.prepare('SELECT count(*) AS n FROM feed_outbox').get() as { n: number }).n;
    this.insertFeed = db.prepare('INSERT INTO feed_outbox (device_id, ts, vals, received_at) VALUES (?, ?, ?, ?)');
    const pageSize = (this.pageSize = db.pragma('page_size', { simple: true }) as number);
    db.pragma(`wal_autocheckpoint = ${Math.max(16, Math.min(1000, Math.floor(quotaBytes / 8 / pageSize)))}`);
    db.pragma(`journal_size_limit = ${Math.min(64 * 1024 * 1024, Math.floor(quotaBytes / 4))}`);
    this.measureDisk();
    this.insert = db.prepare('INSERT INTO spool (received_at, line) VALUES (?, ?)');
    this.insertJournal = db.prepare('INSERT OR IGNORE INTO readings_journal (device_id, ts, vals) VALUES (?, ?, ?)');
    this.selectBatch = db.prepare('SELECT id, received_at AS receivedAt, line FROM spool ORDER BY id LIMIT ?');
    this.deleteUpTo = db.prepare('DELETE FROM spool WHERE id <= ?');
    this.insertPendingRollUp = db.prepare('INSERT OR IGNORE INTO rollup_pending (hour_start) VALUES (?)');
  }

  get depth(): number {
    return this.depthRows;
  }

  get bytes(): number {
    return this.diskBytes + this.pendingBytes;
  }

  get overQuota(): boolean {
    return this.bytes >= this.quotaBytes;
  }

  get quota(): number {
    return this.quotaBytes;
  }

  get feedDepth(): number {
    return this.feedRows;
  }

  commit(entries: readonly SpoolEntry[], receivedAt: number): Promise<{ duplicates: number }> {
    if (entries.length === 0) return Promise.resolve({ duplicates: 0 });
    if (this.overQuota) return Promise.reject(new SpoolFullError(`spool is at its quota of ${this.quotaBytes} bytes`));
    for (const e of entries) this.pendingBytes += e.line.length;
    return new Promise((resolve, reject) => {
      this.pending.push({ entries, receivedAt, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  async drain(): Promise<void> {
    this.flush();
  }

  /** Commits every pending append in one transaction, then settles their promises. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.pendingBytes = 0;
    let rows = 0;
    let fed = 0;
    const duplicates: number[] = [];
    try {
      this.db.transaction(() => {
        for (const item of batch) {
          let dup = 0;
          for (const { line, journal } of item.entries) {
            if (journal !== null) {
              if (this.insertJournal.run(journal.deviceId, journal.ts, journal.vals).changes === 0) {
                dup += 1;
                continue;
              }
              if (this.feedOutbox) {
                this.insertFeed.run(journal.deviceId, journal.ts, journal.vals, item.receivedAt);
                fed += 1;
              }
            }
            this.insert.run(item.receivedAt, line);
            rows += 1;
          }
          duplicates.push(dup);
        }
      })();
    } catch (error) {
      for (const item of batch) item.reject(error as Error);
      return;
    }
    this.depthRows += rows;
    this.feedRows += fed;
    this.measureDisk();
    batch.forEach((item, i) => item.resolve({ duplicates: duplicates[i] }));
    for (const listener of this.listeners) listener();
    this.pruneJournal();
  }

  async peek(maxLines: number): Promise<SpoolBatch | null> {
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

  async remove(batch: SpoolBatch, lateHours: readonly number[] = []): Promise<void> {
    this.db.transaction(() => {
      this.deleteUpTo.run(batch.lastId);
      for (const hour of lateHours) this.insertPendingRollUp.run(hour);
    })();
    this.depthRows -= batch.lines.length;
    this.measureDisk();
  }

  async pendingRollUps(): Promise<number[]> {
    return this.db.prepare('SELECT hour_start FROM rollup_pending ORDER BY hour_start').pluck().all() as number[];
  }

  async rolledUp(hours: readonly number[]): Promise<void> {
    const done = this.db.prepare('DELETE FROM rollup_pending WHERE hour_start = ?');
    this.db.transaction(() => {
      for (const hour of hours) done.run(hour);
    })();
  }

  async bury(batch: SpoolBatch, error: string, now: number): Promise<void> {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO spool_dead (spool_id, received_at, line, failed_at, error)
        SELECT id, received_at, line, ?, ? FROM spool WHERE id <= ?`,
        )
        .run(now, error.slice(0, 2000), batch.lastId);
      this.deleteUpTo.run(batch.lastId);
    })();
    this.depthRows -= batch.lines.length;
    this.measureDisk();
  }

  /** Used pages of the database file plus the WAL file's size. */
  private measureDisk(): void {
    const pages =
      (this.db.pragma('page_count', { simple: true }) as number) -
      (this.db.pragma('freelist_count', { simple: true }) as number);
    let wal = 0;
    try {
      wal = statSync(`${this.db.name}-wal`).size;
    } catch {
      // no WAL file (yet): nothing to add
    }
    this.diskBytes = pages * this.pageSize + wal;
  }

  /** True when SQLite can take a write lock on the spool right now. */
  async writable(): Promise<boolean> {
    try {
      this.db.exec('BEGIN IMMEDIATE; ROLLBACK');
      return true;
    } catch {
      return false;
    }
  }

  async oldestReceivedAt(): Promise<number | null> {
    const row = this.db.prepare('SELECT received_at AS t FROM spool ORDER BY id LIMIT 1').get() as
      { t: number } | undefined;
    return row?.t ?? null;
  }

  async deadCount(): Promise<number> {
    return (this.db.prepare('SELECT count(*) AS n FROM spool_dead').get() as { n: number }).n;
  }

  async journalSince(since: number): Promise<JournalEntry[]> {
    return this.db
      .prepare('SELECT device_id AS deviceId, ts, vals FROM readings_journal WHERE ts >= ? ORDER BY device_id, ts')
      .all(since) as JournalEntry[];
  }

  async peekFeed(max: number): Promise<{ lastId: number; entries: FeedEntry[] } | null> {
    const rows = this.db
      .prepare(
        'SELECT id, device_id AS deviceId, ts, vals, received_at AS receivedAt FROM feed_outbox ORDER BY id LIMIT ?',
      )
      .all(max) as (FeedEntry & { id: number })[];
    if (rows.length === 0) return null;
    return {
      lastId: rows[rows.length - 1].id,
      entries: rows.map(({ deviceId, ts, vals, receivedAt }) => ({ deviceId, ts, vals, receivedAt })),
    };
  }

  async removeFeed(lastId: number): Promise<void> {
    this.feedRows -= this.db.prepare('DELETE FROM feed_outbox WHERE id <= ?').run(lastId).changes;
  }

  onCommitted(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Once a minute, off the commit's own transaction: entries no window and no redelivery check reaches any more. */
  private pruneJournal(): void {
    const now = this.now();
    if (now - this.lastPrune < 60_000) return;
    this.lastPrune = now;
    this.db.prepare('DELETE FROM readings_journal WHERE ts < ?').run(now - this.journalRetentionMs);
  }
}
