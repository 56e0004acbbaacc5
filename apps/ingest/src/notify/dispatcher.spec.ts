import { Db } from '../core/sqlite';
import { tempMainDatabase } from '../../test/temp-database';
import { AlertFeed } from '../alerts/alert-feed';
import { AlertEventView } from '../alerts/alert.model';
import { AlertRepository } from '../alerts/alert.repository';
import { AlertService } from '../alerts/alert.service';
import { IngestMetrics } from '../observability/metrics';
import { ContextLogger } from '../observability/json-logger';
import { NotificationDispatcher, RetryPolicy, retryDelay } from './dispatcher';
import { NotificationChannel } from './channels';

class FlakyChannel implements NotificationChannel {
  readonly name = 'webhook';
  readonly received: string[] = [];
  constructor(public failuresLeft: number) {}
  async deliver(deliveryId: string, event: AlertEventView): Promise<void> {
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new Error('webhook answered HTTP 503');
    }
    this.received.push(`${deliveryId}:${event.type}`);
  }
}

const quietLogger = { log: () => undefined, warn: () => undefined, error: () => undefined } as unknown as ContextLogger;
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

describe('retryDelay', () => {
  const policy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 8000 };
  it('doubles per attempt up to the cap, half of it jittered', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(policy, n, () => 0))).toEqual([500, 1000, 2000, 4000, 4000]);
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(policy, n, () => 1))).toEqual([1000, 2000, 4000, 8000, 8000]);
  });
});

describe('NotificationDispatcher (outbox in SQLite on disk)', () => {
  let dispose: () => void;
  let db: Db;
  let repo: AlertRepository;
  const clock = { t: 1_000_000, now(): number { return this.t; } };

  beforeEach(() => {
    ({ db, dispose } = tempMainDatabase());
    repo = new AlertRepository(db);
  });
  afterEach(() => {
    dispose();
  });

  function setup(channel: FlakyChannel, maxAttempts: number) {
    const feed = new AlertFeed();
    const metrics = new IngestMetrics();
    const alerts = new AlertService(repo, feed, ['webhook'], clock, metrics);
    const dispatcher = new NotificationDispatcher(repo, [channel], feed, clock, metrics, quietLogger, { maxAttempts, baseDelayMs: 1000, maxDelayMs: 4000 });
    const device = { deviceId: 'S1-M1', siteId: 'S1', district: 'Luzhou', kind: 'site' as const };
    const open = (): void => {
      alerts.apply([{ transitions: [{ type: 'raise', subject: 'S1-M1', device, ruleId: 'pm10-hourly', metric: 'pm10', severity: 'warning', threshold: 150, since: clock.t, at: clock.t, value: 160, window: null }], states: [], skippedTooOld: 0 }]);
    };
    const resolve = (): void => {
      alerts.apply([{ transitions: [{ type: 'clear', reason: 'condition-cleared', subject: 'S1-M1', device, ruleId: 'pm10-hourly', metric: 'pm10', at: clock.t, value: 100, window: null }], states: [], skippedTooOld: 0 }]);
    };
    return { dispatcher, metrics, open, resolve };
  }

  it('retries with backoff, holds later events back so the receiver sees them in order, and delivers each once', async () => {
    const channel = new FlakyChannel(2);
    const { dispatcher, open, resolve } = setup(channel, 5);
    dispatcher.start();
    open();
    await settle();
    resolve();
    await settle();
    expect(channel.received).toEqual([]);
    expect(repo.outbox(undefined, 10).map((o) => [o.deliveryId, o.state, o.attempts])).toEqual([['dw-2-webhook', 'pending', 0], ['dw-1-webhook', 'pending', 1]]);
    for (let i = 0; i < 3; i++) {
      clock.t += 5000; // past any backoff
      dispatcher.kick();
      await settle();
    }
    expect(channel.received).toEqual(['dw-1-webhook:opened', 'dw-2-webhook:resolved']);
    expect(repo.outbox('delivered', 10).map((o) => o.attempts)).toEqual([1, 3]);
    await dispatcher.stop();
  });

  it('gives up after the last attempt: dead, counted, listed, and an admin retry delivers it', async () => {
    const channel = new FlakyChannel(3);
    const { dispatcher, metrics, open } = setup(channel, 3);
    dispatcher.start();
    open();
    for (let i = 0; i < 4; i++) {
      await settle();
      clock.t += 5000;
      dispatcher.kick();
    }
    await settle();
    expect(repo.outbox('dead', 10)).toEqual([expect.objectContaining({ deliveryId: 'dw-1-webhook', attempts: 3, lastError: 'webhook answered HTTP 503' })]);
    expect((await metrics.registry.getSingleMetricAsString('dustwatch_notification_failures_total')).split('\n').filter((l) => !l.startsWith('#'))).toEqual([
      'dustwatch_notification_failures_total{channel="webhook",outcome="retry"} 2',
      'dustwatch_notification_failures_total{channel="webhook",outcome="dead"} 1',
    ]);
    expect(repo.retry(1, clock.t)).toBe(true);
    dispatcher.kick();
    await settle();
    expect(channel.received).toEqual(['dw-1-webhook:opened']);
    await dispatcher.stop();
  });
});
