import { Transition } from '@dustwatch/rules';
import { AlertFeed, AlertService, IngestMetrics } from '@dustwatch/core';
import { tempMainDatabase } from './temp-database';
import { AlertRepository, OutboxRepository } from './alert.repository';

const MIN = 60_000;
const device = { deviceId: 'S1-M1', siteId: 'S1', district: 'Luzhou', kind: 'site' as const };
const base = { subject: 'S1-M1', device, ruleId: 'pm10-hourly', metric: 'pm10' as const, window: null };

describe('AlertService (SQLite on disk)', () => {
  let dispose: () => void;
  let repo: AlertRepository;
  let outbox: OutboxRepository;
  let service: AlertService;
  const clock = {
    t: 1_000_000_000,
    now(): number {
      return this.t;
    },
  };
  const apply = (...transitions: Transition[]) => service.apply([{ transitions, states: [], skippedTooOld: 0 }]);

  beforeEach(() => {
    const temp = tempMainDatabase();
    dispose = temp.dispose;
    repo = new AlertRepository(temp.main);
    outbox = new OutboxRepository(temp.main);
    service = new AlertService(repo, new AlertFeed(), ['webhook', 'mqtt'], clock, new IngestMetrics());
  });
  afterEach(() => {
    dispose();
  });

  it('re-notifies an alert nobody acknowledged every interval, and stops once it is acknowledged', async () => {
    await apply({
      ...base,
      type: 'raise',
      ruleName: 'PM10小时均值超标',
      severity: 'warning',
      threshold: 150,
      since: clock.t,
      at: clock.t,
      value: 160,
    });
    clock.t += 29 * MIN;
    expect(await service.remind(30 * MIN)).toEqual([]);
    clock.t += MIN;
    expect((await service.remind(30 * MIN)).map((e) => [e.type, e.alertId])).toEqual([['reminder', 1]]);
    expect((await outbox.list('pending', 10)).map((o) => o.deliveryId)).toEqual([
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

  it('keeps peaks of re-exceedances in memory until the next write, without losing them to a resolution', async () => {
    await apply({
      ...base,
      type: 'raise',
      ruleName: 'PM10小时均值超标',
      severity: 'warning',
      threshold: 150,
      since: clock.t,
      at: clock.t,
      value: 160,
    });
    await apply(
      { ...base, type: 'exceed', at: clock.t + MIN, value: 210 },
      { ...base, type: 'exceed', at: clock.t + 2 * MIN, value: 170 },
    );
    expect(await repo.get(1)).toMatchObject({ peakValue: 160, lastValue: 160 }); // not written yet: no fsync per reading
    await apply({ ...base, type: 'clear', reason: 'condition-cleared', at: clock.t + 3 * MIN, value: 110 });
    expect(await repo.get(1)).toMatchObject({
      state: 'resolved',
      peakValue: 210,
      peakAt: new Date(clock.t + MIN).toISOString(),
      lastValue: 110,
      lastExceedanceAt: new Date(clock.t + 2 * MIN).toISOString(),
    });
  });
});

describe('the alert ledger unit of work (SQLite on disk)', () => {
  it('rolls back the whole change when one statement of it fails, and keeps the buffered peaks for the next one', async () => {
    const temp = tempMainDatabase();
    try {
      const repo = new AlertRepository(temp.main);
      const clock = { now: () => 1_000_000_000 };
      const service = new AlertService(repo, new AlertFeed(), ['webhook'], clock, new IngestMetrics());
      const t = clock.now();
      await service.apply([
        {
          transitions: [
            {
              ...base,
              type: 'raise',
              ruleName: 'PM10小时均值超标',
              severity: 'warning',
              threshold: 150,
              since: t,
              at: t,
              value: 160,
            },
          ],
          states: [],
          skippedTooOld: 0,
        },
      ]);
      await service.apply([
        { transitions: [{ ...base, type: 'exceed', at: t + MIN, value: 230 }], states: [], skippedTooOld: 0 },
      ]);
      // the outbox insert of the next event fails: no resolution, no history entry, no rule state, no outbox row
      temp.db.exec("CREATE TRIGGER fail_outbox BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'disk full'); END");
      const clear = {
        transitions: [
          { ...base, type: 'clear' as const, reason: 'condition-cleared' as const, at: t + 2 * MIN, value: 100 },
        ],
        states: [{ subject: 'S1-M1', ruleId: 'pm10-hourly', state: null }],
        skippedTooOld: 0,
      };
      // (a SqliteError comes from the native module's realm: match its message, not its class)
      await expect(service.apply([clear])).rejects.toHaveProperty('message', 'disk full');
      expect(await repo.get(1)).toMatchObject({ state: 'open', peakValue: 160 });
      expect((await repo.history(1)).map((e) => e.type)).toEqual(['opened']);
      temp.db.exec('DROP TRIGGER fail_outbox');
      await service.apply([clear]);
      expect(await repo.get(1)).toMatchObject({ state: 'resolved', peakValue: 230 });
      expect((await repo.history(1)).map((e) => e.type)).toEqual(['opened', 'resolved']);
    } finally {
      temp.dispose();
    }
  });
});
