import { randomUUID } from 'node:crypto';
import { Clock } from '../kernel/clock';
import { ContextLogger } from '../kernel/logger';
import { IngestMetrics } from '../kernel/metrics';
import { Scheduler, TimerHandle } from '../kernel/scheduler';
import { DeliveryOutcome, OutboxRow, OutboxStore } from '../ports/outbox-store';
import { AlertFeed } from './alert-feed';
import { NotificationChannel } from './channel';

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

/** Deliveries in flight at once per channel (each for a different alert). */
const CONCURRENCY = 16;
/** A claim outlives any one round of deliveries (webhook timeout 5 s); a crashed dispatcher's rows come free after it. */
const LEASE_MS = 60_000;
/** Delivered outbox rows are kept this long (for GET /api/notifications), then pruned. */
const DELIVERED_KEPT_MS = 7 * 86_400_000;

/**
 * Delivers the outbox. The events of one alert go out in order, one at a time: a failing
 * delivery is retried with backoff and holds that alert's later events back (a receiver never
 * sees "resolved" before "opened"); different alerts go out in parallel, so one slow or failing
 * alert does not hold up the rest. After `maxAttempts` a delivery goes dead (kept, counted,
 * listed by the API, retryable by an admin) and its alert's line moves on. Outcomes are
 * recorded once per round. Wakes on every committed event and once a second for due retries.
 */
export class NotificationDispatcher {
  /** This dispatcher's name on the rows it claims. */
  readonly owner = `dispatcher-${randomUUID()}`;
  private timer: TimerHandle | null = null;
  private lastHousekeeping = 0;
  private unsubscribe: (() => void) | null = null;
  private stopped = false;
  /** Per channel: the drain in progress and whether another round was asked for meanwhile. A slow channel (InfluxDB under load) never holds up another. */
  private readonly lanes: Map<string, { running: Promise<void> | null; again: boolean }>;

  constructor(
    private readonly outbox: OutboxStore,
    private readonly channels: readonly NotificationChannel[],
    private readonly feed: AlertFeed,
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
    private readonly metrics: IngestMetrics,
    private readonly logger: ContextLogger,
    private readonly policy: RetryPolicy,
  ) {
    this.lanes = new Map(channels.map((c) => [c.name, { running: null, again: false }]));
  }

  start(): void {
    this.stopped = false;
    this.unsubscribe = this.feed.subscribe(() => this.kick());
    this.timer = this.scheduler.every(1000, () => {
      this.kick();
      void this.housekeeping();
    });
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.timer?.cancel();
    await Promise.all([...this.lanes.values()].map((l) => l.running));
  }

  /** Resolves when no delivery round is running (tests; shutdown uses stop). */
  async settled(): Promise<void> {
    while ([...this.lanes.values()].some((l) => l.running))
      await Promise.all([...this.lanes.values()].map((l) => l.running));
  }

  kick(): void {
    if (this.stopped) return;
    for (const channel of this.channels) {
      const lane = this.lanes.get(channel.name)!;
      if (lane.running) {
        lane.again = true;
        continue;
      }
      lane.running = (async () => {
        do {
          lane.again = false;
          await this.drainChannel(channel);
        } while (lane.again && !this.stopped);
      })()
        .catch((error: Error) =>
          this.logger.error('notification dispatch failed', { channel: channel.name, error: error.message }),
        )
        .finally(() => {
          lane.running = null;
        });
    }
  }

  /** The outbox gauge, and pruning of old delivered rows (once a minute). */
  private async housekeeping(): Promise<void> {
    const now = this.clock.now();
    try {
      this.metrics.outbox.reset();
      for (const [key, n] of Object.entries(await this.outbox.counts())) {
        const [channel, state] = key.split(':');
        this.metrics.outbox.set({ channel, state }, n);
      }
      if (now - this.lastHousekeeping < 60_000) return;
      this.lastHousekeeping = now;
      await this.outbox.pruneDelivered(now - DELIVERED_KEPT_MS);
    } catch (error) {
      this.logger.error('outbox housekeeping failed', { error: (error as Error).message });
    }
  }

  private async drainChannel(channel: NotificationChannel): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      // Claimed rows are due, in order, and none has an earlier row of its alert still waiting.
      const rows = await this.outbox.claim(channel.name, 200, this.owner, this.clock.now(), LEASE_MS);
      const lines = new Map<number, OutboxRow[]>();
      for (const row of rows) lines.set(row.alertId, [...(lines.get(row.alertId) ?? []), row]);
      if (lines.size === 0) return;
      const events = await this.outbox.events(rows.map((r) => r.eventId));
      const outcomes: DeliveryOutcome[] = [];
      const queue = [...lines.values()];
      const worker = async (): Promise<void> => {
        for (let line = queue.shift(); line; line = queue.shift()) {
          for (const row of line) {
            const event = events.get(row.eventId);
            if (!event) throw new Error(`outbox row ${row.id} points at missing event ${row.eventId}`);
            const attempts = row.attempts + 1;
            try {
              await channel.deliver(row.deliveryId, event);
              outcomes.push({ id: row.id, attempts, at: this.clock.now(), ok: true });
              this.metrics.notificationsDelivered.inc({ channel: channel.name });
            } catch (error) {
              const message = (error as Error).message;
              const dead = attempts >= this.policy.maxAttempts;
              const nextAttemptAt = this.clock.now() + retryDelay(this.policy, attempts);
              outcomes.push({
                id: row.id,
                attempts,
                at: this.clock.now(),
                ok: false,
                nextAttemptAt,
                error: message,
                dead,
              });
              this.metrics.notificationFailures.inc({ channel: channel.name, outcome: dead ? 'dead' : 'retry' });
              if (dead) {
                this.logger.error(
                  'notification dead after its last attempt; kept in the outbox (GET /api/notifications?state=dead)',
                  { channel: channel.name, deliveryId: row.deliveryId, attempts, error: message },
                );
                continue;
              }
              this.logger.warn('notification failed; will retry', {
                channel: channel.name,
                deliveryId: row.deliveryId,
                attempts,
                retryInMs: nextAttemptAt - this.clock.now(),
                error: message,
              });
              break; // hold this alert's later events back until this one is through
            }
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, lines.size) }, worker));
      await this.outbox.recordOutcomes(outcomes);
      if (!outcomes.some((o) => o.ok)) return; // nothing moved: wait for the next kick or retry time
    }
  }
}
