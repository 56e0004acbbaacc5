/**
 * bench:stores — the shared stores on SQLite (the embedded default: the baseline) and on
 * PostgreSQL (a throwaway cluster, fsync and synchronous_commit on, as SQLite runs with
 * synchronous=FULL), in one run, on the same machine and the same workload:
 *
 *   1. alerts/s through the ledger (AlertService → AlertStore): raise and clear, each alert its
 *      own unit of work (worst case: one commit per alert), then 100 per unit (a busy turn);
 *   2. outbox claims/s with 3 dispatchers claiming and recording at once, rows delivered/s;
 *   3. a monthly report's computation (ReportService: the alert ledger read, the figures, the
 *      stored version) for 152 sites; the hours come from memory so only the store differs.
 *
 *   npm run bench:stores -- [--alerts N] [--rows N] [--report-alerts N] [--runs N]
 *
 * On SQLite the three dispatchers share the process's one connection (as SQLite allows one
 * writer); on PostgreSQL each claim is its own transaction on a pooled connection, as three
 * instances would be.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRuleSet } from '@dustwatch/rules';
import type { MonitorHour, ReportPeriod } from '@dustwatch/reports';
import { lastClosedPeriod } from '@dustwatch/reports';
import {
  AlertFeed,
  AlertService,
  IngestMetrics,
  ReportDataSource,
  ReportService,
  StoreSet,
  silentLogger,
} from '@dustwatch/core';
import { ThrowawayPostgres, openPostgresStores } from '@dustwatch/store-postgres';
import { openSqliteStores } from '@dustwatch/store-sqlite';
import { arg, log, machine } from './common';

const ALERTS = arg('alerts', 2000);
const ROWS = arg('rows', 6000);
const REPORT_ALERTS = arg('report-alerts', 3000);
const RUNS = arg('runs', 3);
const SITES = 152;
const LIMITS = { quotaBytes: 100 * 1024 * 1024, retentionMs: 30 * 86_400_000 };

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const perSecond = (n: number, ms: number): number => Math.round((n / ms) * 1000);

const clock = { t: Date.parse('2026-11-15T00:00:00Z'), now: () => clock.t };

function transitions(i: number, type: 'raise' | 'clear') {
  const subject = `CZ-${String(i % SITES).padStart(3, '0')}-M${Math.floor(i / SITES) + 1}`;
  const device = { deviceId: subject, siteId: subject.slice(0, 6), district: '潞州区', kind: 'site' as const };
  const base = { subject, device, ruleId: 'pm10-hourly', metric: 'pm10' as const, window: null };
  return type === 'raise'
    ? {
        ...base,
        type,
        ruleName: 'PM10小时均值超标',
        severity: 'warning' as const,
        threshold: 150,
        since: clock.t + i,
        at: clock.t + i,
        value: 180,
      }
    : { ...base, type, reason: 'condition-cleared' as const, at: clock.t + i + 60_000, value: 90 };
}

/** Alerts opened and cleared per second, `perUnit` alerts per unit of work. */
async function ledger(stores: StoreSet, perUnit: number): Promise<number> {
  const service = new AlertService(stores.alerts, new AlertFeed(), ['webhook', 'mqtt'], clock, new IngestMetrics());
  const started = performance.now();
  for (const type of ['raise', 'clear'] as const)
    for (let i = 0; i < ALERTS; i += perUnit)
      await service.apply([
        {
          transitions: Array.from({ length: Math.min(perUnit, ALERTS - i) }, (_, k) => transitions(i + k, type)),
          states: [],
          skippedTooOld: 0,
        },
      ]);
  return perSecond(ALERTS, performance.now() - started);
}

/** ROWS outbox rows (ROWS/4 alerts × 4 events) delivered by 3 dispatchers at once. */
async function outbox(stores: StoreSet): Promise<{ claimsPerS: number; rowsPerS: number; claims: number }> {
  for (let a = 0; a < ROWS / 4; a += 50)
    await stores.alerts.transaction(async (tx) => {
      for (let k = a; k < Math.min(a + 50, ROWS / 4); k++) {
        const { id } = await tx.open({
          subject: `OB-${k}`,
          rule: 'pm10-hourly',
          ruleName: 'PM10',
          metric: 'pm10',
          siteId: 'CZ-000',
          district: '潞州区',
          deviceId: `OB-${k}`,
          severity: 'warning',
          threshold: 150,
          at: 1,
          raisedAt: 1,
          since: 1,
          value: 180,
          evidenceFrom: null,
        });
        for (let e = 0; e < 4; e++) {
          const event = await tx.addEvent(id, e === 0 ? 'opened' : 'reminder', 1 + e, null, null, null);
          await tx.enqueue(event.id, ['bench'], (ch) => `dw-${event.id}-${ch}`, 1);
        }
      }
    });
  let claims = 0;
  let delivered = 0;
  const dispatcher = async (owner: string): Promise<void> => {
    for (let idle = 0; idle < 3;) {
      const rows = await stores.outbox.claim('bench', 50, owner, clock.t, 60_000);
      claims++;
      if (rows.length === 0) {
        idle++;
        await new Promise((r) => setTimeout(r, 2));
        continue;
      }
      idle = 0;
      await stores.outbox.recordOutcomes(rows.map((r) => ({ id: r.id, attempts: 1, at: clock.t, ok: true as const })));
      delivered += rows.length;
    }
  };
  const started = performance.now();
  await Promise.all(['a', 'b', 'c'].map(dispatcher));
  const ms = performance.now() - started;
  if (delivered !== ROWS) throw new Error(`delivered ${delivered} of ${ROWS} outbox rows`);
  return { claimsPerS: perSecond(claims, ms), rowsPerS: perSecond(delivered, ms), claims };
}

/** A month of hours for 152 monitors, from memory: the same for both stores. */
function monthHours(period: ReportPeriod): MonitorHour[] {
  const hours: MonitorHour[] = [];
  for (let s = 0; s < SITES; s++)
    for (let h = period.from; h < period.to; h += 3_600_000)
      hours.push({
        deviceId: `RP-${s}-M1`,
        hourStart: h,
        received: 60,
        pm10: 60 + (s % 40) * 3,
        pm10N: 60,
        pm25: 30,
        pm25N: 60,
        tsp: 120,
        tspN: 60,
        noise: 62,
        noiseN: 60,
      });
  return hours;
}

async function report(stores: StoreSet): Promise<number[]> {
  const period = lastClosedPeriod('monthly', clock.t);
  await stores.registry.importFleet(
    Array.from({ length: SITES }, (_, s) => ({
      site: {
        id: `RP-${s}`,
        name: `工地 ${s}`,
        district: ['潞州区', '上党区', '屯留区'][s % 3],
        lat: 36,
        lon: 113,
        areaM2: null,
      },
      devices: [
        {
          device: { id: `RP-${s}-M1`, siteId: `RP-${s}`, model: 'YC', kind: 'site' as const, enabled: true },
          secretHash: 'x',
          hj212: null,
        },
      ],
    })),
    clock.t,
  );
  for (let a = 0; a < REPORT_ALERTS; a += 100)
    await stores.alerts.transaction(async (tx) => {
      for (let k = a; k < Math.min(a + 100, REPORT_ALERTS); k++) {
        const at = period.from + Math.floor(((period.to - period.from) * k) / REPORT_ALERTS);
        const { id } = await tx.open({
          subject: `RP-${k % SITES}-M1`,
          rule: 'pm10-hourly',
          ruleName: 'PM10',
          metric: 'pm10',
          siteId: `RP-${k % SITES}`,
          district: '潞州区',
          deviceId: `RP-${k % SITES}-M1`,
          severity: 'warning',
          threshold: 150,
          at,
          raisedAt: at,
          since: at,
          value: 180,
          evidenceFrom: null,
        });
        await tx.acknowledge(id, 'wang', at + 600_000);
        await tx.resolve(id, at + 1_800_000, 'condition-cleared', 90);
      }
    });
  const hours = monthHours(period);
  const source: ReportDataSource = {
    settle: async () => undefined,
    monitorHours: async (p) => hours.filter((h) => h.hourStart >= p.from && h.hourStart < p.to),
    monitorHoursFromRaw: async () => hours,
    firstDataAt: async () => period.from,
  };
  const service = new ReportService(
    stores.reports,
    source,
    stores.alerts,
    stores.registry,
    parseRuleSet(),
    clock,
    silentLogger,
    null,
  );
  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    const view = await service.recompute('monthly', period.id, 'bench');
    times.push(Math.round(performance.now() - started));
    if (view.report.sites.length !== SITES) throw new Error(`report of ${view.report.sites.length} sites`);
  }
  return times;
}

async function measure(engine: string, open: () => Promise<StoreSet>) {
  const fresh = async <T>(work: (s: StoreSet) => Promise<T>): Promise<T> => {
    const stores = await open();
    try {
      return await work(stores);
    } finally {
      await stores.close();
    }
  };
  const one: number[] = [];
  const hundred: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    one.push(await fresh((s) => ledger(s, 1)));
    hundred.push(await fresh((s) => ledger(s, 100)));
  }
  const claims = [];
  for (let run = 0; run < RUNS; run++) claims.push(await fresh(outbox));
  const reportMs = await fresh(report);
  const result = {
    engine,
    alertsPerSecondOnePerUnit: median(one),
    alertsPerSecondHundredPerUnit: median(hundred),
    outboxClaimsPerSecond3Dispatchers: median(claims.map((c) => c.claimsPerS)),
    outboxRowsDeliveredPerSecond: median(claims.map((c) => c.rowsPerS)),
    monthlyReportMs: { median: median(reportMs), runs: reportMs },
  };
  log(`${engine}: ${JSON.stringify(result)}`);
  return result;
}

async function main(): Promise<void> {
  log(`machine: ${JSON.stringify(machine())}`);
  log(
    `workload: ${ALERTS} alerts raised and cleared, ${ROWS} outbox rows, ${REPORT_ALERTS} alerts in a ${SITES}-site month; median of ${RUNS}`,
  );
  const dirs: string[] = [];
  const sqlite = await measure('sqlite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dustwatch-bench-stores-'));
    dirs.push(dir);
    return await openSqliteStores(join(dir, 'dustwatch.db'), LIMITS);
  });
  const cluster = await ThrowawayPostgres.start();
  let postgres;
  try {
    postgres = await measure('postgres', async () => openPostgresStores(await cluster.database('bench'), LIMITS));
  } finally {
    await cluster.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
  const ratio = (p: number, s: number): number => +(p / s).toFixed(2);
  console.log(
    JSON.stringify(
      {
        sqlite,
        postgres,
        postgresOverSqlite: {
          alertsOnePerUnit: ratio(postgres.alertsPerSecondOnePerUnit, sqlite.alertsPerSecondOnePerUnit),
          alertsHundredPerUnit: ratio(postgres.alertsPerSecondHundredPerUnit, sqlite.alertsPerSecondHundredPerUnit),
          outboxRows: ratio(postgres.outboxRowsDeliveredPerSecond, sqlite.outboxRowsDeliveredPerSecond),
          monthlyReportTime: ratio(postgres.monthlyReportMs.median, sqlite.monthlyReportMs.median),
        },
      },
      null,
      2,
    ),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
