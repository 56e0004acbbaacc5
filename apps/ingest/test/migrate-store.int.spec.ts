import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ComplianceReport } from '@dustwatch/reports';
import {
  AlertFeed,
  AlertService,
  IngestMetrics,
  PasswordHasher,
  PeopleService,
  RegistryService,
  SecretHasher,
  StoreSet,
} from '@dustwatch/core';
import { ThrowawayPostgres, openPostgresStores } from '@dustwatch/store-postgres';
import { loadOrCreatePepper, openSqliteStores } from '@dustwatch/store-sqlite';
import { InfluxServer } from './influx-server';
import { TestService, connectDevice, removeDir, startTestService } from './harness';

const ADMIN_CLI = resolve(__dirname, '../../..', 'dist/apps/ingest/apps/ingest/src/cli.js');
const LIMITS = { quotaBytes: 10_000_000, retentionMs: 30 * 86_400_000 };
const MIN = 60_000;

/** Everything the ports can say about an installation: what must read the same after the copy. */
async function snapshot(s: StoreSet) {
  const alerts = await s.alerts.list({ limit: 100, offset: 0 });
  return {
    sites: await s.registry.listSites(),
    devices: await s.registry.listDevices(),
    credentials: await s.registry.findCredentials('CZ-001-M1'),
    hj212: await s.registry.findHj212('CZ0010000000001'),
    users: await s.people.listUsers(),
    session: await s.people.findSession('token-hash-1', Date.now()),
    keys: await s.apiKeys.list(),
    presence: [...(await s.presence.loadAll())],
    quarantine: await s.quarantine.list({ limit: 100 }),
    alerts,
    history: await Promise.all(alerts.items.map((a) => s.alerts.history(a.id))),
    events: await s.alerts.eventsAfter(0, 100),
    ruleStates: await s.alerts.loadRuleStates(),
    outbox: await s.outbox.list(undefined, 100),
    reports: await s.reports.list(),
    report: await s.reports.latest('daily', '2026-12-06'),
    revised: await s.reports.revisedSince(0, Date.now(), 0),
  };
}

describe('dustwatch-admin migrate-store (a populated SQLite installation into PostgreSQL)', () => {
  let cluster: ThrowawayPostgres;
  let influx: InfluxServer;
  let service: TestService | null = null;
  const dataDir = mkdtempSync(join(tmpdir(), 'dustwatch-migrate-'));

  beforeAll(async () => {
    [cluster, influx] = await Promise.all([ThrowawayPostgres.start(), InfluxServer.start()]);
  });
  afterAll(async () => {
    await service?.stop();
    await Promise.all([cluster?.stop(), influx?.stop()]);
    removeDir(dataDir);
  });

  const migrate = (to: string) =>
    spawnSync(process.execPath, [ADMIN_CLI, 'migrate-store', '--from', 'sqlite', '--to', to], {
      env: { PATH: process.env['PATH'], DUSTWATCH_DATA_DIR: dataDir },
      encoding: 'utf8',
    });

  it('copies every table with its ids, checks the counts, refuses a second copy, and the service runs on the copy', async () => {
    // An installation as the service leaves it: registry with HJ 212, people and a session, a
    // key, presence, quarantine, alerts with history, rule state and outbox, a report.
    const clock = { t: Date.parse('2026-12-07T01:00:00Z'), now: () => clock.t };
    const sqlite = await openSqliteStores(join(dataDir, 'dustwatch.db'), LIMITS);
    const registry = new RegistryService(sqlite.registry, clock, new SecretHasher(loadOrCreatePepper(dataDir)));
    await registry.importFleet({
      version: 1,
      sites: [
        {
          id: 'CZ-001',
          name: '长治一号工地',
          district: '潞州区',
          lat: 36.19,
          lon: 113.12,
          devices: [
            {
              id: 'CZ-001-M1',
              model: 'YC-1000',
              kind: 'site',
              hj212: { mn: 'CZ0010000000001', password: 'pw-123456' },
            },
            { id: 'CZ-001-M2', model: 'YC-1000', kind: 'site' },
          ],
        },
      ],
    });
    const { secret } = await registry.rotateSecret('CZ-001-M1');
    const people = new PeopleService(sqlite.people, new PasswordHasher({ N: 2 ** 10, r: 8, p: 1 }), clock);
    await people.createUser('wang', 'inspector', 'wang-password-2026', '王工');
    await sqlite.people.createSession('token-hash-1', 'wang', 'csrf-hash-1', clock.t, clock.t + 365 * 86_400_000);
    await sqlite.apiKeys.create('grafana', 'viewer', 'key-hash-1', clock.t);
    await sqlite.presence.save(
      new Map([
        [
          'CZ-001-M1',
          {
            online: false,
            lastConnectAt: 1,
            lastDisconnectAt: 2,
            lastSeenAt: 3,
            lastStatus: 'offline',
            lastStatusAt: 2,
          },
        ],
      ]),
    );
    await sqlite.quarantine.add('CZ-001-M2', clock.t, [
      { index: 0, reasons: [{ code: 'out_of_range', field: 'pm10', message: 'pm10 < 0' }], raw: '{"pm10":-1}' },
    ]);
    const ledger = new AlertService(sqlite.alerts, new AlertFeed(), ['webhook', 'mqtt'], clock, new IngestMetrics());
    const device = { deviceId: 'CZ-001-M1', siteId: 'CZ-001', district: '潞州区', kind: 'site' as const };
    const base = { subject: 'CZ-001-M1', device, ruleId: 'pm10-hourly', metric: 'pm10' as const, window: null };
    const raise = {
      ...base,
      type: 'raise' as const,
      ruleName: 'PM10小时均值超标',
      severity: 'warning' as const,
      threshold: 150,
    };
    await ledger.apply([
      {
        transitions: [{ ...raise, since: clock.t, at: clock.t, value: 180 }],
        states: [
          {
            subject: 'CZ-001-M1',
            ruleId: 'pm10-hourly',
            state: { phase: 'raised', since: clock.t, severity: 'warning' },
          },
        ],
        skippedTooOld: 0,
      },
    ]);
    await ledger.apply([
      {
        transitions: [{ ...base, type: 'clear', reason: 'condition-cleared', at: clock.t + 30 * MIN, value: 90 }],
        states: [],
        skippedTooOld: 0,
      },
    ]);
    await ledger.close(1, { name: 'wang', role: 'inspector', displayName: '王工' }, '洒水降尘，已整改');
    clock.t += 60 * MIN;
    await ledger.apply([
      { transitions: [{ ...raise, since: clock.t, at: clock.t, value: 200 }], states: [], skippedTooOld: 0 },
    ]);
    await sqlite.reports.save(
      { kind: 'daily', period: '2026-12-06', computedAt: clock.t } as unknown as ComplianceReport,
      clock.t,
      'schedule',
    );
    await sqlite.reports.noteRevisedHours([Date.parse('2026-12-06T03:00:00Z')], clock.t);
    const before = await snapshot(sqlite);
    await sqlite.close();
    expect(before.alerts.total).toBe(2);
    expect(before.outbox.length).toBe(8); // 4 events × 2 channels

    const url = await cluster.database();
    const copy = migrate(url);
    expect(copy.stderr).toContain('copied alerts: 2 rows in SQLite, 2 in PostgreSQL');
    expect(copy.status).toBe(0);
    const summary = JSON.parse(copy.stdout) as { tables: Record<string, { sqlite: number; postgres: number }> };
    expect(summary.tables).toEqual({
      sites: { sqlite: 1, postgres: 1 },
      devices: { sqlite: 2, postgres: 2 },
      device_hj212: { sqlite: 1, postgres: 1 },
      device_status: { sqlite: 1, postgres: 1 },
      quarantine: { sqlite: 1, postgres: 1 },
      alerts: { sqlite: 2, postgres: 2 },
      alert_events: { sqlite: 4, postgres: 4 },
      rule_state: { sqlite: 1, postgres: 1 },
      outbox: { sqlite: 8, postgres: 8 },
      api_keys: { sqlite: 1, postgres: 1 },
      reports: { sqlite: 1, postgres: 1 },
      revised_hours: { sqlite: 1, postgres: 1 },
      users: { sqlite: 1, postgres: 1 },
      sessions: { sqlite: 1, postgres: 1 },
    });

    const pg = await openPostgresStores(url, LIMITS);
    try {
      expect(await snapshot(pg)).toEqual(before);
      // The identity sequences moved past the copied ids: the next alert event is number 5.
      const events = await new AlertService(
        pg.alerts,
        new AlertFeed(),
        ['webhook'],
        clock,
        new IngestMetrics(),
      ).acknowledge(2, { name: 'wang', role: 'inspector' }, undefined);
      expect(events.state).toBe('acknowledged');
      expect(await pg.alerts.lastEventId()).toBe(5);
    } finally {
      await pg.close();
    }

    const again = migrate(url);
    expect([again.status, again.stderr]).toEqual([1, expect.stringContaining('the target database is not empty')]);

    // The service on the copy (and the same data folder: the pepper) lets the device in with its secret.
    service = await startTestService(influx, { DUSTWATCH_DATABASE_URL: url }, dataDir);
    const client = await connectDevice(service.mqttPort, 'CZ-001-M1', secret);
    client.end(true);
    const open = await service.api<{ items: { id: number; state: string }[] }>('GET', '/api/alerts');
    expect(open.body.items.map((a) => [a.id, a.state])).toEqual([[2, 'acknowledged']]); // the default list: active ones
    const closed = await service.api<{ state: string; closeNote: string; history: unknown[] }>('GET', '/api/alerts/1');
    expect([closed.body.state, closed.body.closeNote, closed.body.history.length]).toEqual([
      'closed',
      '洒水降尘，已整改',
      3,
    ]);
  });
});
