import { Clock } from '../core/tokens';
import { ContextLogger } from '../observability/json-logger';
import { IngestMetrics } from '../observability/metrics';
import { AlertFeed } from '../alerts/alert-feed';
import { AlertRepository } from '../alerts/alert.repository';
import { NotificationChannel } from './channels';

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** Exponential backoff with "equal jitter": half fixed, half random, so receivers coming back are not hit in lockstep. */
export function retryDelay(policy: RetryPolicy, attempts: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Delivers the outbox. Each channel takes its events in order, one at a time: a failing head
 * delivery is retried with backoff and holds the later ones back (a receiver never sees
 * "resolved" before "opened"); after `maxAttempts` it goes dead (kept, counted, listed by the
 * API, retryable by an admin) and the line moves on. Wakes on every committed event and once a
 * second for due retries.
 */
export class NotificationDispatcher {
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly repo: AlertRepository,
    private readonly channels: readonly NotificationChannel[],
    private readonly feed: AlertFeed,
    private readonly clock: Clock,
    private readonly metrics: IngestMetrics,
    private readonly logger: ContextLogger,
    private readonly policy: RetryPolicy,
  ) {}

  start(): void {
    this.stopped = false;
    this.unsubscribe = this.feed.subscribe(() => this.kick());
    this.timer = setInterval(() => this.kick(), 1000);
    this.timer.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = null;
    });
  }

  private async drain(): Promise<void> {
    do {
      this.again = false;
      await Promise.all(this.channels.map((c) => this.drainChannel(c)));
    } while (this.again && !this.stopped);
  }

  private async drainChannel(channel: NotificationChannel): Promise<void> {
    for (;;) {
      const rows = this.repo.pending(channel.name, 50);
      if (rows.length === 0) return;
      for (const row of rows) {
        if (this.stopped || row.nextAttemptAt > this.clock.now()) return;
        const event = this.repo.event(row.eventId);
        if (!event) throw new Error(`outbox row ${row.id} points at missing event ${row.eventId}`);
        const attempts = row.attempts + 1;
        try {
          await channel.deliver(row.deliveryId, event);
          this.repo.delivered(row.id, this.clock.now(), attempts);
          this.metrics.notificationsDelivered.inc({ channel: channel.name });
        } catch (error) {
          const message = (error as Error).message;
          const dead = attempts >= this.policy.maxAttempts;
          const next = this.clock.now() + retryDelay(this.policy, attempts);
          this.repo.failed(row.id, attempts, next, message, dead);
          this.metrics.notificationFailures.inc({ channel: channel.name, outcome: dead ? 'dead' : 'retry' });
          if (dead) {
            this.logger.error('notification dead after its last attempt; kept in the outbox (GET /api/notifications?state=dead)', { channel: channel.name, deliveryId: row.deliveryId, attempts, error: message });
            continue;
          }
          this.logger.warn('notification failed; will retry', { channel: channel.name, deliveryId: row.deliveryId, attempts, retryInMs: next - this.clock.now(), error: message });
          return; // hold this channel's later events back until the head is through
        }
      }
    }
  }
}
