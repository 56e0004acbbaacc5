import {
  Clock,
  ContextLogger,
  IngestMetrics,
  ReadingsStore,
  Scheduler,
  SpoolBatch,
  TimeSeriesHealth,
  WakeSignal,
} from '@dustwatch/core';
import { InfluxHttpClient, InfluxWriteError } from './influx-http.client';
import { CQ_LOOKBACK_MS, RAW_RP, ensureSchema, rollUpHours, SchemaOptions } from './influx-schema';

export interface WriterOptions {
  readonly batchLines: number;
  /**
   * How long a part-filled batch may wait for more lines. InfluxDB spends far less CPU per
   * point on a few large writes than on many small ones, and the two cores are shared.
   */
  readonly maxDelayMs: number;
  readonly schema: SchemaOptions;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

const HOUR = 3_600_000;
const ROLLUP_EVERY_MS = 30_000;
/** Hours per roll-up statement: a day of the demo fleet is ~285,000 points, well inside the query timeout. */
const ROLLUP_CHUNK_HOURS = 24;

/** Timestamp (ms) of a line written by readingToLine: the last space-separated token. */
function lineTime(line: string): number {
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

/**
 * Drains the spool into InfluxDB, oldest first, one batch at a time so the backlog lands in
 * order. A batch is deleted from the spool only after InfluxDB answered 204; while InfluxDB is
 * down or slow the spool grows and the writer retries with exponential backoff and full jitter
 * (so a restarted InfluxDB is not hit by a thundering herd of retries).
 */
export class InfluxWriter implements TimeSeriesHealth {
  private running = false;
  private loop: Promise<void> | null = null;
  /** Raised by a commit while the writer idles on an empty or part-filled spool. */
  private readonly appended = new WakeSignal();
  /** Raised only by stop(): a backoff is not cut short by new readings (they wait in the spool). */
  private readonly stopping = new WakeSignal();
  private unsubscribe: (() => void) | null = null;
  private schemaReady = false;
  private failures = 0;
  private readonly lateHours = new Set<number>();
  private rollUpFailures = 0;
  private lastRollUpAt = 0;
  private rollingUp = false;
  lastError: string | null = null;
  lastSuccessAt: number | null = null;

  constructor(
    private readonly spool: ReadingsStore,
    private readonly influx: InfluxHttpClient,
    private readonly metrics: IngestMetrics,
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
    private readonly logger: ContextLogger,
    private readonly options: WriterOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.spool.onCommitted(() => this.appended.raise());
    this.loop = this.run();
  }

  /** Stops after the batch in flight; what is left stays in the spool for the next start. */
  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.appended.raise();
    this.stopping.raise();
    await this.loop;
  }

  get writing(): boolean {
    return this.schemaReady && this.failures === 0;
  }

  ping(): Promise<boolean> {
    return this.influx.ping();
  }

  private async run(): Promise<void> {
    while (this.running) {
      if (!this.schemaReady) {
        try {
          await ensureSchema(this.influx, this.options.schema);
          this.schemaReady = true;
          this.logger.log('InfluxDB schema ready', { database: this.influx.database });
          // Roll-ups owed before a restart (or a crash) are owed still.
          for (const hour of await this.spool.pendingRollUps()) this.lateHours.add(hour);
        } catch (error) {
          await this.fail(`InfluxDB schema setup failed: ${(error as Error).message}`);
          continue;
        }
      }
      const batch = await this.spool.peek(this.options.batchLines);
      if (batch === null) {
        await this.rollUpLateHours(true);
        // Late hours left (a backfill rolled up a day at a time): go on at once, unless failing.
        if (this.lateHours.size === 0 || this.rollUpFailures > 0) await this.idle(1000, true);
        continue;
      }
      const wait = batch.oldestReceivedAt + this.options.maxDelayMs - this.clock.now();
      if (batch.lines.length < this.options.batchLines && wait > 0 && this.running) {
        await this.idle(wait, false);
        continue;
      }
      await this.writeBatch(batch);
      await this.rollUpLateHours(false);
    }
  }

  private async writeBatch(batch: SpoolBatch): Promise<void> {
    const started = process.hrtime.bigint();
    try {
      await this.influx.write(batch.lines, RAW_RP);
    } catch (error) {
      if (error instanceof InfluxWriteError && !error.retryable) {
        this.metrics.influxWriteFailures.inc({ kind: 'rejected' });
        await this.spool.bury(batch, error.message, this.clock.now());
        this.logger.error('InfluxDB refused a batch as malformed; moved it to spool_dead', {
          lines: batch.lines.length,
          firstId: batch.firstId,
          error: error.message,
        });
        return;
      }
      if (error instanceof InfluxWriteError && error.status === 404) this.schemaReady = false; // database dropped
      this.metrics.influxWriteFailures.inc({ kind: 'retryable' });
      await this.fail(
        `InfluxDB write failed, ${this.spool.depth} readings kept in the spool: ${(error as Error).message}`,
      );
      return;
    }
    this.metrics.influxWriteSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    this.metrics.influxBatchLines.observe(batch.lines.length);
    this.metrics.influxPointsWritten.inc(batch.lines.length);
    // Noted before the batch leaves the spool, so nobody sees an empty spool with its roll-up not
    // yet pending; and kept in the spool's database with the removal, so a crash cannot lose them.
    await this.spool.remove(batch, this.noteLateHours(batch));
    if (this.failures > 0) this.logger.log('InfluxDB writes recovered', { backlog: this.spool.depth });
    this.failures = 0;
    this.lastError = null;
    this.lastSuccessAt = this.clock.now();
  }

  /**
   * Notes the hours of late points (ones the CQ has already passed). Their roll-up is
   * recomputed later, off the write path: a backlog drain would otherwise run one SELECT INTO
   * per batch.
   */
  private noteLateHours(batch: SpoolBatch): number[] {
    const horizon = this.clock.now() - CQ_LOOKBACK_MS + 10 * 60_000;
    const hours = new Set<number>();
    for (const line of batch.lines) {
      const t = lineTime(line);
      if (t < horizon) hours.add(Math.floor(t / HOUR) * HOUR);
    }
    for (const hour of hours) this.lateHours.add(hour);
    return [...hours];
  }

  /** True while late hours wait for their roll-up (reports wait for it: docs/reports.md). */
  get rollUpPending(): boolean {
    return this.lateHours.size > 0 || this.rollingUp;
  }

  /**
   * Rolls up one run of consecutive late hours, at most a day of them, when the spool is drained
   * or at least every ROLLUP_EVERY_MS: a month's backfill is 31 bounded SELECT INTOs, not one that
   * outlasts the query timeout. Hours whose roll-up fails stay pending and are tried again.
   */
  private async rollUpLateHours(spoolEmpty: boolean): Promise<void> {
    if (this.lateHours.size === 0) return;
    const now = this.clock.now();
    if (now - this.lastRollUpAt < (spoolEmpty && this.rollUpFailures === 0 ? 0 : ROLLUP_EVERY_MS)) return;
    const sorted = [...this.lateHours].sort((a, b) => a - b);
    const from = sorted[0];
    let to = from;
    for (const hour of sorted.slice(1)) {
      if (hour !== to + HOUR || hour - from >= ROLLUP_CHUNK_HOURS * HOUR) break;
      to = hour;
    }
    this.lastRollUpAt = now;
    this.rollingUp = true;
    try {
      await rollUpHours(this.influx, from, to);
      const done: number[] = [];
      for (let hour = from; hour <= to; hour += HOUR) if (this.lateHours.delete(hour)) done.push(hour);
      await this.spool.rolledUp(done);
      this.rollUpFailures = 0;
    } catch (error) {
      // The raw points are safe in InfluxDB; only the derived roll-up lags. Kept, tried again.
      this.rollUpFailures += 1;
      if (this.rollUpFailures === 1 || this.rollUpFailures % 10 === 0)
        this.logger.warn('hourly roll-up of late readings failed; will retry', {
          from,
          to,
          attempt: this.rollUpFailures,
          error: (error as Error).message,
        });
    } finally {
      this.rollingUp = false;
    }
  }

  private async fail(message: string): Promise<void> {
    this.failures += 1;
    this.lastError = message;
    const min = this.options.minBackoffMs ?? 200;
    const max = this.options.maxBackoffMs ?? 30_000;
    const ceiling = Math.min(max, min * 2 ** Math.min(this.failures - 1, 20));
    const delay = Math.round(min / 2 + Math.random() * ceiling);
    if (this.failures === 1 || this.failures % 10 === 0)
      this.logger.error(message, { attempt: this.failures, retryInMs: delay });
    // Backoff is not cut short by new readings: they wait in the spool.
    await this.idle(delay, false);
  }

  private idle(ms: number, wakeOnAppend: boolean): Promise<void> {
    if (!this.running) return Promise.resolve();
    return this.scheduler.sleep(ms, wakeOnAppend ? this.appended : this.stopping);
  }
}
