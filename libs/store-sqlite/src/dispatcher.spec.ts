import {
  AlertEventView,
  AlertFeed,
  AlertService,
  IngestMetrics,
  NotificationChannel,
  NotificationDispatcher,
  RetryPolicy,
  Scheduler,
  retryDelay,
  silentLogger,
} from '@dustwatch/core';
import { QueuedDb } from './sqlite';
import { tempMainDatabase } from './temp-database';
import { AlertRepository, OutboxRepository } from './alert.repository';

class FlakyChannel implements NotificationChannel {
  readonly name = 'webhook';
  readonly received: string[] = [];
  /** While set, deliveries wait for it: two dispatchers then overlap for certain. */
  gate: Promise<void> | null = null;
  constructor(public failuresLeft: number) {}
  async deliver(deliveryId: string, event: AlertEventView): Promise<void> {
    await this.gate;
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new Error('webhook answered HTTP 503');
    }
    this.received.push(`${deliveryId}:${event.type}`);
  }
}

/** No timers: the test kicks the dispatcher itself. */
const manualScheduler: Scheduler = { every: () => ({ cancel: () => undefined }), sleep: () => Promise.resolve() };

describe('retryDelay', () => {
  const policy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 8000 };
  it('doubles per attempt up to the cap, half of it jittered', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(policy, n, () => 0))).toEqual([500, 1000, 2000, 4000, 4000]);
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(policy, n, () => 1))).toEqual([1000, 2000, 4000, 8000, 8000]);
  });
});

describe('NotificationDispatcher (outbox in SQLite on disk)', () => {
  let dispose: () => void;
  let main: QueuedDb;
  let outbox: OutboxRepository;
  const clock = {
    t: 1_000_000,
    now(): number {
      return this.t;
    },
  };

  beforeEach(() => {
    ({ main, dispose } = tempMainDatabase());
    outbox = new OutboxRepository(main);
  });
  afterEach(() => {
    dispose();
  });

  function setup(channel: FlakyChannel, maxAttempts: number) {
    const feed = new AlertFeed();
    const metrics = new IngestMetrics();
    const alerts = new AlertService(new AlertRepository(main), feed, ['webhook'], clock, metrics);
    const dispatcher = (): NotificationDispatcher =>
      new NotificationDispatcher(outbox, [channel], feed, clock, manualScheduler, metrics, silentLogger, {
        maxAttempts,
        baseDelayMs: 1000,
        maxDelayMs: 4000,
      });
    const device = { deviceId: 'S1-M1', siteId: 'S1', district: 'Luzhou', kind: 'site' as const };
    const open = (subject = 'S1-M1'): Promise<unknown> =>
      alerts.apply([
        {
          transitions: [
            {
              type: 'raise',
              ruleName: 'PM10小时均值超标',
              subject,
              device: { ...device, deviceId: subject },
              ruleId: 'pm10-hourly',
              metric: 'pm10',
              severity: 'warning',
              threshold: 150,
              since: clock.t,
              at: clock.t,
              value: 160,
              window: null,
            },
          ],
          states: [],
          skippedTooOld: 0,
        },
      ]);
    const resolve = (): Promise<unknown> =>
      alerts.apply([
        {
          transitions: [
            {
              type: 'clear',
              reason: 'condition-cleared',
              subject: 'S1-M1',
              device,
              ruleId: 'pm10-hourly',
              metric: 'pm10',
              at: clock.t,
              value: 100,
              window: null,
            },
          ],
          states: [],
          skippedTooOld: 0,
        },
      ]);
    return { dispatcher, metrics, open, resolve };
  }

  it('retries with backoff, holds later events back so the receiver sees them in order, and delivers each once', async () => {
    const channel = new FlakyChannel(2);
    const { dispatcher: make, open, resolve } = setup(channel, 5);
    const dispatcher = make();
    dispatcher.start();
    await open(); // the feed kicks the dispatcher: attempt 1 fails
    await dispatcher.settled();
    await resolve(); // "resolved" waits behind "opened", which is not due again yet
    await dispatcher.settled();
    expect(channel.received).toEqual([]);
    expect((await outbox.list(undefined, 10)).map((o) => [o.deliveryId, o.state, o.attempts])).toEqual([
      ['dw-2-webhook', 'pending', 0],
      ['dw-1-webhook', 'pending', 1],
    ]);
    for (let i = 0; i < 3; i++) {
      clock.t += 5000; // past any backoff
      dispatcher.kick();
      await dispatcher.settled();
    }
    expect(channel.received).toEqual(['dw-1-webhook:opened', 'dw-2-webhook:resolved']);
    expect((await outbox.list('delivered', 10)).map((o) => o.attempts)).toEqual([1, 3]);
    await dispatcher.stop();
  });

  it('gives up after the last attempt: dead, counted, listed, and an admin retry delivers it', async () => {
    const channel = new FlakyChannel(3);
    const { dispatcher: make, metrics, open } = setup(channel, 3);
    const dispatcher = make();
    dispatcher.start();
    await open();
    await dispatcher.settled();
    for (let i = 0; i < 3; i++) {
      clock.t += 5000;
      dispatcher.kick();
      await dispatcher.settled();
    }
    expect(await outbox.list('dead', 10)).toEqual([
      expect.objectContaining({ deliveryId: 'dw-1-webhook', attempts: 3, lastError: 'webhook answered HTTP 503' }),
    ]);
    expect(
      (await metrics.registry.getSingleMetricAsString('dustwatch_notification_failures_total'))
        .split('\n')
        .filter((l) => !l.startsWith('#')),
    ).toEqual([
      'dustwatch_notification_failures_total{channel="webhook",outcome="retry"} 2',
      'dustwatch_notification_failures_total{channel="webhook",outcome="dead"} 1',
    ]);
    expect(await outbox.retry(1, clock.t)).toBe(true);
    dispatcher.kick();
    await dispatcher.settled();
    expect(channel.received).toEqual(['dw-1-webhook:opened']);
    await dispatcher.stop();
  });

  it('two dispatchers on one outbox (two instances) claim rows, so none is delivered twice', async () => {
    const channel = new FlakyChannel(0);
    const { dispatcher: make, open } = setup(channel, 5);
    const first = make();
    const second = make();
    let release!: () => void;
    channel.gate = new Promise<void>((r) => (release = r));
    for (const id of ['S1-M1', 'S1-M2', 'S1-M3']) await open(id);
    first.kick(); // claims all three and waits at the gate
    await new Promise((r) => setImmediate(r));
    second.kick(); // finds nothing it may claim
    await second.settled();
    release();
    await first.settled();
    second.kick();
    await second.settled();
    expect(channel.received.sort()).toEqual(['dw-1-webhook:opened', 'dw-2-webhook:opened', 'dw-3-webhook:opened']);
    expect((await outbox.list('delivered', 10)).length).toBe(3);
  });
});
