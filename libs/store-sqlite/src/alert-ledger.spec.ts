import { Transition } from '@dustwatch/rules';
import { AlertFeed, AlertService, IngestMetrics } from '@dustwatch/core';
import { Db } from './sqlite';
import { tempMainDatabase } from './temp-database';
import { AlertRepository, OutboxRepository } from './alert.repository';

const MIN = 60_000;
const device = { deviceId: 'S1-M1', siteId: 'S1', district: 'Luzhou', kind: 'site' as const };
const base = { subject: 'S1-M1', device, ruleId: 'pm10-hourly', metric: 'pm10' as const, window: null };

describe('AlertService (SQLite on disk)', () => {
  let dispose: () => void;
  let db: Db;
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
    ({ db, dispose } = tempMainDatabase());
    repo = new AlertRepository(db);
    outbox = new OutboxRepository(db);
    service = new AlertService(repo, outbox, new AlertFeed(), ['webhook', 'mqtt'], clock, new IngestMetrics());
  });
  afterEach(() => {
    dispose();
  });

  it('re-notifies an alert nobody acknowledged every interval, and stops once it is acknowledged', async () => {
    apply({ ...base, type: 'raise', severity: 'warning', threshold: 150, since: clock.t, at: clock.t, value: 160 });
    clock.t += 29 * MIN;
    expect(service.remind(30 * MIN)).toEqual([]);
    clock.t += MIN;
    expect(service.remind(30 * MIN).map((e) => [e.type, e.alertId])).toEqual([['reminder', 1]]);
    expect((await outbox.list('pending', 10)).map((o) => o.deliveryId)).toEqual([
      'dw-2-mqtt',
      'dw-2-webhook',
      'dw-1-mqtt',
      'dw-1-webhook',
    ]);
    clock.t += 30 * MIN;
    service.acknowledge(1, { name: 'inspector-wang', role: 'inspector' }, undefined);
    clock.t += 60 * MIN;
    expect(service.remind(30 * MIN)).toEqual([]);
  });

  it('keeps peaks of re-exceedances in memory until the next write, without losing them to a resolution', () => {
    apply({ ...base, type: 'raise', severity: 'warning', threshold: 150, since: clock.t, at: clock.t, value: 160 });
    apply(
      { ...base, type: 'exceed', at: clock.t + MIN, value: 210 },
      { ...base, type: 'exceed', at: clock.t + 2 * MIN, value: 170 },
    );
    expect(repo.get(1)).toMatchObject({ peakValue: 160, lastValue: 160 }); // not written yet: no fsync per reading
    apply({ ...base, type: 'clear', reason: 'condition-cleared', at: clock.t + 3 * MIN, value: 110 });
    expect(repo.get(1)).toMatchObject({
      state: 'resolved',
      peakValue: 210,
      peakAt: new Date(clock.t + MIN).toISOString(),
      lastValue: 110,
      lastExceedanceAt: new Date(clock.t + 2 * MIN).toISOString(),
    });
  });
});
