import {
  AlertEventView,
  AlertFeed,
  AlertService,
  IngestMetrics,
  NotificationChannel,
  NotificationDispatcher,
  Scheduler,
  silentLogger,
} from '../src';
import { StoreHarness, eachFreshStores } from './store-harness';

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

export function outboxStoreContract(h: StoreHarness): void {
  describe(`OutboxStore through the NotificationDispatcher (${h.engine})`, () => {
    const stores = eachFreshStores(h);
    const clock = {
      t: 1_000_000,
      now(): number {
        return this.t;
      },
    };

    function setup(channel: FlakyChannel, maxAttempts: number) {
      const feed = new AlertFeed();
      const metrics = new IngestMetrics();
      const alerts = new AlertService(stores().alerts, feed, ['webhook'], clock, metrics);
      const dispatcher = (): NotificationDispatcher =>
        new NotificationDispatcher(stores().outbox, [channel], feed, clock, manualScheduler, metrics, silentLogger, {
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
      expect((await stores().outbox.list(undefined, 10)).map((o) => [o.deliveryId, o.state, o.attempts])).toEqual([
        ['dw-2-webhook', 'pending', 0],
        ['dw-1-webhook', 'pending', 1],
      ]);
      for (let i = 0; i < 3; i++) {
        clock.t += 5000; // past any backoff
        dispatcher.kick();
        await dispatcher.settled();
      }
      expect(channel.received).toEqual(['dw-1-webhook:opened', 'dw-2-webhook:resolved']);
      expect((await stores().outbox.list('delivered', 10)).map((o) => o.attempts)).toEqual([1, 3]);
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
      expect(await stores().outbox.list('dead', 10)).toEqual([
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
      expect(await stores().outbox.retry(1, clock.t)).toBe(true);
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
      expect((await stores().outbox.list('delivered', 10)).length).toBe(3);
    });

    it('three dispatchers claiming at once take each row once, and each alert’s events in order', async () => {
      const { alerts, outbox } = stores();
      for (let a = 1; a <= 3; a++)
        await alerts.transaction(async (tx) => {
          const { id } = await tx.open({
            subject: `S1-M${a}`,
            rule: 'pm10-hourly',
            ruleName: 'PM10',
            metric: 'pm10',
            siteId: 'S1',
            district: 'Luzhou',
            deviceId: `S1-M${a}`,
            severity: 'warning',
            threshold: 150,
            at: 1,
            raisedAt: 1,
            since: 1,
            value: 160,
            evidenceFrom: null,
          });
          for (let e = 0; e < 4; e++) {
            const event = await tx.addEvent(id, e === 0 ? 'opened' : 'reminder', 1 + e, null, null, null);
            await tx.enqueue(event.id, ['webhook'], (ch) => `dw-${event.id}-${ch}`, 1);
          }
        });
      const delivered: { owner: string; alertId: number; eventId: number }[] = [];
      const work = async (owner: string): Promise<void> => {
        for (let idle = 0; idle < 3;) {
          const rows = await outbox.claim('webhook', 2, owner, 10, 60_000);
          if (rows.length === 0) {
            idle++;
            await new Promise((r) => setTimeout(r, 5));
            continue;
          }
          idle = 0;
          for (const r of rows) delivered.push({ owner, alertId: r.alertId, eventId: r.eventId });
          await outbox.recordOutcomes(rows.map((r) => ({ id: r.id, attempts: 1, at: 10, ok: true as const })));
        }
      };
      await Promise.all(['a', 'b', 'c'].map(work));
      expect(delivered.map((d) => d.eventId).sort((x, y) => x - y)).toEqual(
        Array.from({ length: 12 }, (_, i) => i + 1),
      );
      for (let a = 1; a <= 3; a++) {
        const events = delivered.filter((d) => d.alertId === a).map((d) => d.eventId);
        expect(events).toEqual([...events].sort((x, y) => x - y));
      }
      expect(await outbox.counts()).toEqual({ 'webhook:delivered': 12 });
      expect(await outbox.pruneDelivered(11)).toBe(12);
    });
  });
}
