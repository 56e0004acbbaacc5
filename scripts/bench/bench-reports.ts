/**
 * bench:reports — the monthly bulletin of the demo fleet (152 sites, 198 monitors) over a month
 * of one-minute readings backfilled by the simulator through the service into a real InfluxDB.
 * Prints, in the same run: the service's computation (settle, hourly roll-ups, figures, stored),
 * the same figures from the roll-up in-process, and the raw-scan baseline (every reading grouped
 * by hour in InfluxDB), and whether the two give identical figures.
 *
 *   npm run bench:reports -- [--days N] [--runs 3]
 *
 * The month is the last closed one; --days cuts it short (then only the in-process figures run:
 * the service computes whole months).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parse } from 'yaml';
import { systemClock } from '@dustwatch/core';
import { InfluxHttpClient, InfluxReportSource } from '@dustwatch/influx';
import { parseRuleSet } from '@dustwatch/rules';
import {
  ComplianceReport,
  MonitorHour,
  ReportMonitor,
  ReportPeriod,
  computeReport,
  lastClosedPeriod,
  reportSettingsFrom,
} from '@dustwatch/reports';
import { InfluxServer } from '../../apps/ingest/test/influx-server';
import { freePort } from '../../apps/ingest/test/free-port';
import { ADMIN_KEY, ROOT, arg, cpuSeconds, log, machine, spawnService, stopChild, waitFor } from './common';

const DAYS = arg('days', 31);
const RUNS = arg('runs', 3);
const SIM = join(ROOT, 'dist/devices-sim/devices-sim/src/cli.js');

function sim(args: string[]): Promise<number | null> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [SIM, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('exit', (code) => done(code));
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const seconds = (ms: number): number => +(ms / 1000).toFixed(2);

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

async function main(): Promise<void> {
  // The last closed month (30 or 31 days), or its first DAYS days.
  const month = lastClosedPeriod('monthly', Date.now());
  const period: ReportPeriod = { ...month, to: Math.min(month.to, month.from + DAYS * 86_400_000) };
  const influx = await InfluxServer.start();
  const dataDir = mkdtempSync(join(tmpdir(), 'dustwatch-bench-'));
  const httpPort = await freePort();
  const mqttPort = await freePort();
  const service = spawnService({
    DUSTWATCH_HTTP_PORT: String(httpPort),
    DUSTWATCH_MQTT_PORT: String(mqttPort),
    DUSTWATCH_DATA_DIR: dataDir,
    DUSTWATCH_INFLUX_URL: influx.url,
    DUSTWATCH_INFLUX_DB: 'bench',
    DUSTWATCH_SNAPSHOT_SECONDS: '0',
    DUSTWATCH_REPORT_HOUR: '-1',
    DUSTWATCH_HJ212_PORT: '0',
  });
  const base = `http://127.0.0.1:${httpPort}`;
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(base + path, {
      method,
      headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  try {
    await waitFor(async () => (await fetch(`${base}/health`)).status === 200, 30_000, 'the service');
    const fleetFile = join(dataDir, 'fleet.yaml');
    if ((await sim(['generate-fleet', '--seed', '7', '--out', fleetFile])) !== 0)
      throw new Error('generate-fleet failed');
    const fleet = parse(readFileSync(fleetFile, 'utf8')) as {
      sites: { id: string; name: string; district: string; devices: { id: string; kind?: 'site' | 'background' }[] }[];
    };
    await api('POST', '/api/fleet/import', fleet);
    const monitors: ReportMonitor[] = fleet.sites.flatMap((s) =>
      s.devices.map((d) => ({
        deviceId: d.id,
        siteId: s.id,
        siteName: s.name,
        district: s.district,
        kind: d.kind ?? 'site',
      })),
    );
    log(
      `${fleet.sites.length} sites, ${monitors.length} monitors; backfilling ${period.id} (${Math.round((period.to - period.from) / 86_400_000)} days) through the service`,
    );
    const backfillStarted = Date.now();
    const code = await sim([
      'backfill',
      '--fleet',
      fleetFile,
      '--url',
      `mqtt://127.0.0.1:${mqttPort}`,
      '--from',
      new Date(period.from).toISOString(),
      '--to',
      new Date(period.to).toISOString(),
      '--seed',
      '7',
    ]);
    if (code !== 0) throw new Error('backfill failed');
    await waitFor(
      async () => {
        const health = await api<{ spool: { depth: number }; influx: { rollUpPending: boolean } }>(
          'GET',
          '/api/health',
        );
        return health.spool.depth === 0 && !health.influx.rollUpPending;
      },
      3_600_000,
      'InfluxDB to take the backfill and roll it up',
    );
    const influxClient = new InfluxHttpClient({ url: influx.url, database: 'bench' });
    const [countSeries] = await influxClient.query(
      `SELECT count(pm10) FROM raw.readings WHERE time >= ${period.from}ms AND time < ${period.to}ms`,
    );
    const readings = Number(countSeries[0]?.values[0]?.[1] ?? 0);
    log(`${readings.toLocaleString('en')} readings in InfluxDB after ${seconds(Date.now() - backfillStarted)} s`);

    // 1. The service: settle, read the roll-ups, compute, store (recompute = the whole path each time).
    const kind = period.to === month.to ? 'monthly' : null;
    const serviceRuns: number[] = [];
    if (kind) {
      for (let i = 0; i < RUNS; i++) {
        const influxCpu = cpuSeconds(influx.pid);
        const run = await timed(() => api('POST', `/api/reports/monthly/${period.id}/recompute`));
        serviceRuns.push(run.ms);
        log(
          `service: monthly report ${seconds(run.ms)} s (influxd CPU ${(cpuSeconds(influx.pid) - influxCpu).toFixed(1)} s)`,
        );
      }
    }

    // 2. In-process, the same figures from the roll-up and from the raw scan.
    const source = new InfluxReportSource(influxClient, systemClock, null);
    const settings = reportSettingsFrom(parseRuleSet());
    const figures = (hours: MonitorHour[]): ComplianceReport =>
      computeReport({ period, monitors, hours, alerts: [], settings, previousRanks: new Map(), computedAt: 0 });
    const rollupRuns: number[] = [];
    const rawRuns: number[] = [];
    let fromRollup: ComplianceReport | null = null;
    let fromRaw: ComplianceReport | null = null;
    for (let i = 0; i < RUNS; i++) {
      const a = await timed(async () => figures(await source.monitorHours(period)));
      rollupRuns.push(a.ms);
      fromRollup = a.value;
      const influxCpu = cpuSeconds(influx.pid);
      const b = await timed(async () => figures(await source.monitorHoursFromRaw(period)));
      rawRuns.push(b.ms);
      fromRaw = b.value;
      log(
        `in-process: roll-up ${seconds(a.ms)} s, raw scan ${seconds(b.ms)} s (influxd CPU ${(cpuSeconds(influx.pid) - influxCpu).toFixed(1)} s)`,
      );
    }
    const identical = JSON.stringify(fromRollup?.sites) === JSON.stringify(fromRaw?.sites);
    const result = {
      machine: machine(),
      period: period.id,
      days: Math.round((period.to - period.from) / 86_400_000),
      sites: fleet.sites.length,
      monitors: monitors.length,
      readings,
      serviceMonthlyReportSeconds: serviceRuns.map(seconds),
      rollupFiguresSeconds: rollupRuns.map(seconds),
      rawScanFiguresSeconds: rawRuns.map(seconds),
      identicalFigures: identical,
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(
      `\n${period.id}, ${readings.toLocaleString('en')} readings of ${monitors.length} monitors: ` +
        (serviceRuns.length ? `service monthly report median ${seconds(median(serviceRuns))} s; ` : '') +
        `figures from the roll-up median ${seconds(median(rollupRuns))} s vs raw-scan baseline ${seconds(median(rawRuns))} s ` +
        `(×${(median(rawRuns) / median(rollupRuns)).toFixed(1)}); identical figures: ${identical}\n`,
    );
    if (!identical) process.exitCode = 1;
  } finally {
    await stopChild(service);
    await influx.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
