import { RuleRunner } from '../alerts/rule-runner';
import { Clock } from '../kernel/clock';
import { ContextLogger } from '../kernel/logger';
import { IngestMetrics } from '../kernel/metrics';
import { Scheduler, TimerHandle } from '../kernel/scheduler';
import { Presence } from '../presence/presence';
import { RuleFeed, RuleOwnerLease } from '../ports/rule-feed';

export interface RuleOwnershipOptions {
  /** This instance's name (DUSTWATCH_INSTANCE_ID). */
  readonly owner: string;
  /** How often a non-owner tries the lease: bounds how long rules wait after an owner died. */
  readonly leasePollMs: number;
  /** How often the owner looks for new feed entries. */
  readonly feedPollMs: number;
  /** Feed entries older than this (reading and acceptance time) are deleted by the owner. */
  readonly feedRetentionMs: number;
}

const BATCH = 2000;
const TRIM_EVERY_MS = 60_000;

/**
 * Several instances (docs/cluster.md): rules judged in one place. Each instance tries the rule
 * owner lease (a PostgreSQL session lock); the one holding it rebuilds the rule windows from the
 * shared feed up to the committed cursor (so windows are not reset when ownership moves), then
 * judges the entries after it in feed order, commits their alert changes, and only then moves the
 * cursor. A new owner re-judges what the old one judged but had not recorded; the rule states in
 * the alert store (raised, cleared) and the one-active-alert index make that a no-op, so an alert
 * is neither lost nor raised twice.
 */
export class RuleOwnership {
  private lease: RuleOwnerLease | null = null;
  /** The last feed seq whose alert changes are committed (the lease's cursor). */
  private cursor = 0;
  /** The last feed seq the engine has taken. */
  private judged = 0;
  private leaseTimer: TimerHandle | null = null;
  private feedTimer: TimerHandle | null = null;
  private round: Promise<void> | null = null;
  private lastTrim = 0;
  private stopped = false;

  constructor(
    private readonly runner: RuleRunner,
    private readonly feed: RuleFeed,
    private readonly presence: Presence,
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
    private readonly metrics: IngestMetrics,
    private readonly logger: ContextLogger,
    private readonly options: RuleOwnershipOptions,
  ) {}

  get owning(): boolean {
    return this.lease !== null;
  }

  async start(): Promise<void> {
    this.metrics.ruleOwner.set(0);
    await this.run(() => this.tryLease());
    this.leaseTimer = this.scheduler.every(this.options.leasePollMs, () => {
      if (!this.lease) void this.run(() => this.tryLease());
    });
    this.feedTimer = this.scheduler.every(this.options.feedPollMs, () => {
      if (this.lease) void this.run(() => this.pump());
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.leaseTimer?.cancel();
    this.feedTimer?.cancel();
    await this.round;
    const lease = this.lease;
    if (!lease) return;
    await this.runner.stop();
    this.lease = null;
    await lease.release();
    this.metrics.ruleOwner.set(0);
    this.logger.log('rule owner lease released', { cursor: this.cursor });
  }

  /** One round at a time: a lease attempt and a pump never overlap. */
  private run(work: () => Promise<void>): Promise<void> {
    if (this.round || this.stopped) return this.round ?? Promise.resolve();
    this.round = work()
      .catch((error: Error) => {
        this.metrics.ruleFeedFailures.inc({ operation: this.lease ? 'judge' : 'lease' });
        this.logger.warn('rule ownership round failed; retried', { owning: this.lease !== null, error: error.message });
      })
      .finally(() => {
        this.round = null;
      });
    return this.round;
  }

  private async tryLease(): Promise<void> {
    const lease = await this.feed.tryLease(this.options.owner);
    if (!lease) return;
    this.lease = lease;
    void lease.lost.then((error) => this.lost(lease, error));
    const started = this.clock.now();
    this.cursor = this.judged = await lease.cursor();
    const cursor = this.cursor;
    const restored = await this.runner.rebuild((since) => this.feed.window(since, cursor));
    this.runner.startTimer();
    this.metrics.ruleOwner.set(1);
    this.metrics.ruleOwnerChanges.inc({ change: 'taken' });
    this.logger.log('rule owner lease taken: this instance judges every device', {
      owner: this.options.owner,
      cursor,
      samplesRestored: restored,
      tookMs: this.clock.now() - started,
    });
    await this.pump();
  }

  private lost(lease: RuleOwnerLease, error: Error): void {
    if (this.lease !== lease) return;
    this.lease = null;
    this.runner.forget();
    this.metrics.ruleOwner.set(0);
    this.metrics.ruleOwnerChanges.inc({ change: 'lost' });
    this.logger.warn('rule owner lease lost: judging stops here until the lease is taken again', {
      cursor: this.cursor,
      error: error.message,
    });
  }

  /**
   * Judges the entries after the last judged one, commits, then moves the cursor. A failed
   * commit keeps its changes in the runner (retried next round) and the cursor where it was.
   */
  private async pump(): Promise<void> {
    const lease = this.lease;
    if (!lease) return;
    for (;;) {
      const entries = await this.feed.after(this.judged, BATCH);
      if (entries.length === 0 || this.lease !== lease) break;
      for (const e of entries) this.presence.seen(e.deviceId, e.receivedAt);
      await this.runner.judge(entries);
      this.judged = entries[entries.length - 1].seq;
      if (entries.length < BATCH) break;
    }
    await this.runner.commit();
    if (this.runner.uncommitted || this.lease !== lease) return;
    if (this.judged > this.cursor) {
      await lease.advance(this.judged);
      this.cursor = this.judged;
    }
    const now = this.clock.now();
    if (now - this.lastTrim >= TRIM_EVERY_MS) {
      this.lastTrim = now;
      await this.feed.trim(now - this.options.feedRetentionMs);
    }
  }
}
