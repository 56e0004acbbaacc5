import { ContextLogger } from '../kernel/logger';
import { IngestMetrics } from '../kernel/metrics';
import { Scheduler, TimerHandle } from '../kernel/scheduler';
import { ReadingsStore } from '../ports/readings-store';
import { FeedOutbox, RuleFeed } from '../ports/rule-feed';

/** Entries per append: one transaction, one lock turn. */
const BATCH = 1000;
/** Retry after a failure (PostgreSQL down), and a safety net for a missed wake-up. */
const RETRY_MS = 1000;

/**
 * Every instance, several instances (docs/cluster.md): moves the accepted readings its spool
 * committed (with their `feed_outbox` rows) to the shared rule feed, oldest first, deleting the
 * local rows only after the append committed. A crash in between appends them again, which the
 * feed ignores ((device, ts) is unique there), so each reading reaches the rule owner once.
 */
export class RuleFeedForwarder {
  private running: Promise<void> | null = null;
  private again = false;
  private failing = false;
  private unsubscribe: (() => void) | null = null;
  private timer: TimerHandle | null = null;

  constructor(
    private readonly outbox: FeedOutbox,
    private readonly feed: RuleFeed,
    private readonly readings: ReadingsStore,
    private readonly scheduler: Scheduler,
    private readonly metrics: IngestMetrics,
    private readonly logger: ContextLogger,
  ) {}

  start(): void {
    this.unsubscribe = this.readings.onCommitted(() => this.kick());
    this.timer = this.scheduler.every(RETRY_MS, () => this.kick());
    this.kick();
  }

  /** Forwards what is waiting once more, then stops. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.timer?.cancel();
    await this.running;
    this.kick();
    await this.running;
  }

  private kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.forward().finally(() => {
      this.running = null;
      if (this.again && !this.failing) {
        this.again = false;
        this.kick();
      }
    });
  }

  private async forward(): Promise<void> {
    this.again = false;
    try {
      for (let batch = await this.outbox.peekFeed(BATCH); batch; batch = await this.outbox.peekFeed(BATCH)) {
        await this.feed.append(batch.entries);
        await this.outbox.removeFeed(batch.lastId);
        this.metrics.ruleFeedForwarded.inc(batch.entries.length);
      }
      if (this.failing) this.logger.log('rule feed reachable again; readings forwarded');
      this.failing = false;
    } catch (error) {
      this.metrics.ruleFeedFailures.inc({ operation: 'forward' });
      if (!this.failing)
        this.logger.warn('rule feed not reachable: accepted readings wait in spool.db and are forwarded once it is', {
          waiting: this.outbox.feedDepth,
          error: (error as Error).message,
        });
      this.failing = true;
    }
  }
}
