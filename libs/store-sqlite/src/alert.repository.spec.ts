import { NewAlert } from '@dustwatch/core';
import { Db } from './sqlite';
import { tempMainDatabase } from './temp-database';
import { AlertRepository } from './alert.repository';

describe('AlertRepository (SQLite on disk)', () => {
  let dispose: () => void;
  let db: Db;
  let repo: AlertRepository;
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

  beforeEach(() => {
    let main;
    ({ db, main, dispose } = tempMainDatabase());
    repo = new AlertRepository(main);
  });
  afterEach(() => {
    dispose();
  });

  it('admits one active alert per (subject, rule): a second open in the same millisecond re-triggers the first', async () => {
    const first = await repo.transaction((tx) => tx.open(alert));
    const second = await repo.transaction((tx) => tx.open({ ...alert, value: 180 }));
    expect(first).toEqual({ id: 1, created: true });
    expect(second).toEqual({ id: 1, created: false });
    expect(await repo.get(1)).toMatchObject({ peakValue: 180, lastValue: 180, state: 'open' });
    // the constraint itself, not only the code path: a raw second active row is refused
    expect(() =>
      db
        .prepare(
          "INSERT INTO alerts (subject, rule, metric, site_id, district, device_id, state, active, severity, threshold, opened_at, first_exceedance_at, last_exceedance_at, last_notified_at) VALUES ('S1-M1', 'pm10-hourly', 'pm10', 'S1', 'L', 'S1-M1', 'open', 1, 'warning', 150, 1, 1, 1, 1)",
        )
        .run(),
    ).toThrow('UNIQUE constraint failed: alerts.subject, alerts.rule');
  });

  it('opens a new alert after the previous one resolved, and keeps both', async () => {
    await repo.transaction(async (tx) => {
      await tx.open(alert);
      await tx.resolve(1, 2_000, 'condition-cleared', 100);
    });
    expect(await repo.transaction((tx) => tx.open({ ...alert, at: 3_000 }))).toEqual({ id: 2, created: true });
    expect((await repo.list({ limit: 10, offset: 0 })).items.map((a) => [a.id, a.state])).toEqual([
      [2, 'open'],
      [1, 'resolved'],
    ]);
  });
});
