import { parseRuleSet } from '@dustwatch/rules';
import { Reading } from '@dustwatch/telemetry';
import {
  AlertFeed,
  AlertService,
  AlertStore,
  IngestMetrics,
  Presence,
  ReadingsStore,
  RegistryDirectory,
  RegistryStore,
  RuleRunner,
  Scheduler,
  silentLogger,
} from '../src';
import { StoreHarness, eachFreshStores } from './store-harness';

const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 10, 0, 0, 0); // 08:00 in Asia/Shanghai

/** An alert store whose next `transaction` fails once, as a full disk or a locked database would. */
function failingOnce(store: AlertStore): AlertStore & { failNext: boolean } {
  const wrapper = Object.create(store) as AlertStore & { failNext: boolean };
  wrapper.failNext = false;
  wrapper.transaction = async (work) => {
    if (wrapper.failNext) {
      wrapper.failNext = false;
      throw new Error('SQLITE_FULL: database or disk is full');
    }
    return store.transaction(work);
  };
  return wrapper;
}

export function ruleRunnerContract(h: StoreHarness): void {
  describe(`RuleRunner commits alerts (${h.engine})`, () => {
    const stores = eachFreshStores(h);

    it('keeps the alert changes of a failed commit and commits them on the next tick: the alert is not lost', async () => {
      const clock = {
        t: T0,
        now(): number {
          return this.t;
        },
      };
      const scheduler: Scheduler = { every: () => ({ cancel: () => undefined }), sleep: () => Promise.resolve() };
      const repo = stores().alerts;
      const store = failingOnce(repo);
      const metrics = new IngestMetrics();
      const alerts = new AlertService(store, new AlertFeed(), ['mqtt'], clock, metrics);
      const registry = {
        deviceDirectory: async () => [{ deviceId: 'S1-M1', siteId: 'S1', district: 'Luzhou', kind: 'site' as const }],
      } as unknown as RegistryStore;
      const presence = { lastSeenAt: () => clock.t } as unknown as Presence;
      const journal = { journalSince: async () => [] } as unknown as ReadingsStore;
      const set = parseRuleSet({});
      const runner = new RuleRunner(
        { ...set, rules: set.rules.filter((r) => r.id === 'pm10-hourly') },
        new RegistryDirectory(registry, presence),
        journal,
        store,
        alerts,
        clock,
        scheduler,
        metrics,
        silentLogger,
        { tickMs: 1000, renotifyMinutes: 0 },
      );
      await runner.start();

      const reading = (i: number): Reading => ({
        deviceId: 'S1-M1',
        ts: T0 + i * MIN,
        serverTime: false,
        values: { pm10: 300 },
        flags: {},
      });
      for (let i = 0; i < 44; i++)
        runner.onAccepted({
          deviceId: 'S1-M1',
          siteId: 'S1',
          edge: 'mqtt',
          readings: [reading(i)],
          samples: [{ ts: T0 + i * MIN, values: { pm10: 300 } }],
          receivedAt: T0 + i * MIN,
        });
      await runner.commit();
      expect((await repo.list({ limit: 10, offset: 0 })).total).toBe(0); // 44 of 60 readings: not yet a valid hour
      store.failNext = true;
      clock.t = T0 + 44 * MIN;
      runner.onAccepted({
        deviceId: 'S1-M1',
        siteId: 'S1',
        edge: 'mqtt',
        readings: [reading(44)],
        samples: [{ ts: T0 + 44 * MIN, values: { pm10: 300 } }],
        receivedAt: clock.t,
      }); // the 45th: the alert opens
      await runner.commit(); // fails
      expect((await repo.list({ limit: 10, offset: 0 })).total).toBe(0);
      expect(await metrics.registry.getSingleMetricAsString('dustwatch_rule_failures_total')).toContain(
        'dustwatch_rule_failures_total 1',
      );
      await runner.tick(); // commits what was kept
      expect(
        (await repo.list({ limit: 10, offset: 0 })).items.map((a) => [a.rule, a.severity, a.state, a.openedAt]),
      ).toEqual([['pm10-hourly', 'critical', 'open', new Date(T0 + 44 * MIN).toISOString()]]);
      expect(await repo.loadRuleStates()).toEqual([
        { subject: 'S1-M1', ruleId: 'pm10-hourly', phase: 'raised', since: T0 + 44 * MIN, severity: 'critical' },
      ]);
      await runner.stop();
    });
  });
}
