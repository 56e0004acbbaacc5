import type { Transition } from '@dustwatch/rules';
import { AlertFeed, AlertService, AlertStore, IngestMetrics, NewAlert } from '../src';
import { StoreHarness, eachFreshStores } from './store-harness';

const MIN = 60_000;
const device = { deviceId: 'S1-M1', siteId: 'S1', district: 'Luzhou', kind: 'site' as const };
const base = { subject: 'S1-M1', device, ruleId: 'pm10-hourly', metric: 'pm10' as const, window: null };
const raise = (t: number, value = 160): Transition => ({
  ...base,
  type: 'raise',
  ruleName: 'PM10小时均值超标',
  severity: 'warning',
  threshold: 150,
  since: t,
  at: t,
  value,
});

const alert: NewAlert = {
  subject: 'S1-M1',
  rule: 'pm10-hourly',
  ruleName: 'PM10小时均值超标',
  metric: 'pm10',
  siteId: 'S1',
  district: 'Luzhou',
  deviceId: 'S1-M1',
  severity: 'warning',
  threshold: 150,
  at: 1_000,
  raisedAt: 1_000,
  since: 1_000,
  value: 151,
  evidenceFrom: 0,
};

/** An alert store whose outbox writes fail while `failing` is set: a full disk in the middle of a unit of work. */
function failingEnqueue(store: AlertStore): AlertStore & { failing: boolean } {
  const wrapper = Object.create(store) as AlertStore & { failing: boolean };
  wrapper.failing = false;
  wrapper.transaction = (work) =>
    store.transaction((tx) =>
      work({
        ...tx,
        enqueue: async (...args) => {
          if (wrapper.failing) throw new Error('disk full');
          return tx.enqueue(...args);
        },
      }),
    );
  return wrapper;
}

export function alertStoreContract(h: StoreHarness): void {
  describe(`AlertStore (${h.engine})`, () => {
    const stores = eachFreshStores(h);

    it('admits one active alert per (subject, rule): a second open re-triggers the first, and the constraint itself refuses a second active row', async () => {
      const repo = stores().alerts;
      const first = await repo.transaction((tx) => tx.open(alert));
      const second = await repo.transaction((tx) => tx.open({ ...alert, value: 180 }));
      expect(first).toEqual({ id: 1, created: true });
      expect(second).toEqual({ id: 1, created: false });
      expect(await repo.get(1)).toMatchObject({ peakValue: 180, lastValue: 180, state: 'open' });
      await expect(
        stores().exec(
          "INSERT INTO alerts (subject, rule, metric, site_id, district, device_id, state, active, severity, threshold, opened_at, first_exceedance_at, last_exceedance_at, last_notified_at) VALUES ('S1-M1', 'pm10-hourly', 'pm10', 'S1', 'L', 'S1-M1', 'open', 1, 'warning', 150, 1, 1, 1, 1)",
        ),
      ).rejects.toThrow(
        /UNIQUE constraint failed: alerts.subject, alerts.rule|duplicate key value violates unique constraint "alerts_one_active"/,
      );
    });

    it('opens a new alert after the previous one resolved, and keeps both', async () => {
      const repo = stores().alerts;
      await repo.transaction(async (tx) => {
        await tx.open(alert);
        await tx.resolve(1, 2_000, 'condition-cleared', 100);
      });
      expect(await repo.transaction((tx) => tx.open({ ...alert, at: 3_000 }))).toEqual({ id: 2, created: true });
      expect((await repo.list({ limit: 10, offset: 0 })).items.map((a) => [a.id, a.state])).toEqual([
        [2, 'open'],
        [1, 'resolved'],
      ]);
      expect((await repo.list({ limit: 10, offset: 0, state: ['resolved'], rule: 'pm10-hourly' })).total).toBe(1);
      expect(
        (await repo.list({ limit: 1, offset: 1, from: 0, to: 5_000, siteId: 'S1' })).items.map((a) => a.id),
      ).toEqual([1]);
      expect(await repo.activeCounts()).toEqual([{ rule: 'pm10-hourly', severity: 'warning', n: 1 }]);
      expect([...(await repo.activeBySite())]).toEqual([['S1', { warning: 1, critical: 0 }]]);
      expect((await repo.forReport(0, 10_000)).map((a) => [a.id, a.openedAt, a.resolvedAt])).toEqual([
        [1, 1_000, 2_000],
        [2, 3_000, null],
      ]);
    });

    it('keeps rule states, history in order, and replays events after an id', async () => {
      const repo = stores().alerts;
      const by = { name: 'wang', role: 'inspector' as const, displayName: '王工' };
      await repo.transaction(async (tx) => {
        await tx.saveRuleState('S1-M1', 'pm10-hourly', { phase: 'raised', since: 1_000, severity: 'warning' });
        const { id } = await tx.open(alert);
        await tx.addEvent(id, 'opened', 1_000, null, 151, null);
        expect(await tx.acknowledge(id, 'wang', 2_000)).toBe(true);
        expect(await tx.acknowledge(id, 'wang', 2_000)).toBe(false);
        await tx.addEvent(id, 'acknowledged', 2_000, by, null, '已到场');
      });
      expect(await repo.loadRuleStates()).toEqual([
        { subject: 'S1-M1', ruleId: 'pm10-hourly', phase: 'raised', since: 1_000, severity: 'warning' },
      ]);
      expect((await repo.history(1)).map((e) => [e.id, e.type, e.actor, e.actorName, e.state, e.note])).toEqual([
        [1, 'opened', null, null, 'open', null],
        [2, 'acknowledged', 'wang', '王工', 'acknowledged', '已到场'],
      ]);
      expect(await repo.lastEventId()).toBe(2);
      const replay = await repo.eventsAfter(1, 10);
      expect(replay.map((e) => [e.id, e.alert.state, e.alert.acknowledgedBy, e.at])).toEqual([
        [2, 'acknowledged', 'wang', new Date(2_000).toISOString()],
      ]);
      await repo.transaction((tx) => tx.saveRuleState('S1-M1', 'pm10-hourly', null));
      expect(await repo.loadRuleStates()).toEqual([]);
    });

    describe('through the ledger (AlertService)', () => {
      const clock = {
        t: 1_000_000_000,
        now(): number {
          return this.t;
        },
      };
      let service: AlertService;
      const apply = (...transitions: Transition[]) => service.apply([{ transitions, states: [], skippedTooOld: 0 }]);
      beforeEach(() => {
        clock.t = 1_000_000_000;
        service = new AlertService(stores().alerts, new AlertFeed(), ['webhook', 'mqtt'], clock, new IngestMetrics());
      });

      it('re-notifies an alert nobody acknowledged every interval, and stops once it is acknowledged', async () => {
        await apply(raise(clock.t));
        clock.t += 29 * MIN;
        expect(await service.remind(30 * MIN)).toEqual([]);
        clock.t += MIN;
        expect((await service.remind(30 * MIN)).map((e) => [e.type, e.alertId])).toEqual([['reminder', 1]]);
        expect((await stores().outbox.list('pending', 10)).map((o) => o.deliveryId)).toEqual([
          'dw-2-mqtt',
          'dw-2-webhook',
          'dw-1-mqtt',
          'dw-1-webhook',
        ]);
        clock.t += 30 * MIN;
        await service.acknowledge(1, { name: 'inspector-wang', role: 'inspector' }, undefined);
        clock.t += 60 * MIN;
        expect(await service.remind(30 * MIN)).toEqual([]);
      });

      it('escalates an alert nobody acknowledged within the deadline once, and closes a resolved one with a note', async () => {
        await apply(raise(clock.t));
        clock.t += 61 * MIN;
        expect((await service.escalateOverdue()).map((e) => [e.type, e.alertId])).toEqual([['overdue', 1]]);
        expect(await service.escalateOverdue()).toEqual([]);
        await apply({ ...base, type: 'clear', reason: 'condition-cleared', at: clock.t, value: 90 });
        const closed = await service.close(1, { name: 'wang', role: 'inspector' }, '洒水降尘');
        expect(closed).toMatchObject({
          state: 'closed',
          closedBy: 'wang',
          acknowledgedBy: 'wang',
          closeNote: '洒水降尘',
        });
        expect((await stores().alerts.history(1)).map((e) => e.type)).toEqual([
          'opened',
          'overdue',
          'resolved',
          'closed',
        ]);
      });

      // Several instances share a database only on PostgreSQL: SQLite is the one-machine store (two
      // connections in one process would wait on each other's write lock, as no deployment does).
      if (h.sharedByInstances)
        it('two instances on one database escalate an overdue alert once and remind once', async () => {
          await apply(raise(clock.t));
          const other = await stores().reopen(); // a second instance's connection to the same database
          try {
            const second = new AlertService(other.alerts, new AlertFeed(), ['webhook'], clock, new IngestMetrics());
            clock.t += 61 * MIN;
            const [a, b] = await Promise.all([service.escalateOverdue(), second.escalateOverdue()]);
            expect([...a, ...b].map((e) => [e.type, e.alertId])).toEqual([['overdue', 1]]);
            clock.t += 30 * MIN; // the overdue notice counts as a notification: the reminder is due 30 min later
            const [c, d] = await Promise.all([service.remind(30 * MIN), second.remind(30 * MIN)]);
            expect([...c, ...d].map((e) => [e.type, e.alertId])).toEqual([['reminder', 1]]);
            expect((await stores().alerts.history(1)).map((e) => e.type)).toEqual(['opened', 'overdue', 'reminder']);
          } finally {
            await other.close();
          }
        });

      it('keeps peaks of re-exceedances in memory until the next write, without losing them to a resolution', async () => {
        await apply(raise(clock.t));
        await apply(
          { ...base, type: 'exceed', at: clock.t + MIN, value: 210 },
          { ...base, type: 'exceed', at: clock.t + 2 * MIN, value: 170 },
        );
        expect(await stores().alerts.get(1)).toMatchObject({ peakValue: 160, lastValue: 160 }); // not written yet
        await apply({ ...base, type: 'clear', reason: 'condition-cleared', at: clock.t + 3 * MIN, value: 110 });
        expect(await stores().alerts.get(1)).toMatchObject({
          state: 'resolved',
          peakValue: 210,
          peakAt: new Date(clock.t + MIN).toISOString(),
          lastValue: 110,
          lastExceedanceAt: new Date(clock.t + 2 * MIN).toISOString(),
        });
      });

      it('rolls back the whole unit of work when one statement of it fails, and keeps the buffered peaks for the next one', async () => {
        const repo = failingEnqueue(stores().alerts);
        const ledger = new AlertService(repo, new AlertFeed(), ['webhook'], clock, new IngestMetrics());
        const t = clock.now();
        await ledger.apply([{ transitions: [raise(t)], states: [], skippedTooOld: 0 }]);
        await ledger.apply([
          { transitions: [{ ...base, type: 'exceed', at: t + MIN, value: 230 }], states: [], skippedTooOld: 0 },
        ]);
        repo.failing = true; // the outbox insert of the next event fails: no resolution, history entry, rule state or outbox row
        const clear = {
          transitions: [
            { ...base, type: 'clear' as const, reason: 'condition-cleared' as const, at: t + 2 * MIN, value: 100 },
          ],
          states: [{ subject: 'S1-M1', ruleId: 'pm10-hourly', state: null }],
          skippedTooOld: 0,
        };
        await expect(ledger.apply([clear])).rejects.toHaveProperty('message', 'disk full');
        expect(await repo.get(1)).toMatchObject({ state: 'open', peakValue: 160 });
        expect((await repo.history(1)).map((e) => e.type)).toEqual(['opened']);
        expect((await stores().outbox.list(undefined, 10)).length).toBe(1);
        repo.failing = false;
        await ledger.apply([clear]);
        expect(await repo.get(1)).toMatchObject({ state: 'resolved', peakValue: 230 });
        expect((await repo.history(1)).map((e) => e.type)).toEqual(['opened', 'resolved']);
      });
    });
  });
}
