/**
 * bench:console — the inspectors' console in headless Chromium (Debian's) against the built
 * service holding the demo fleet (152 sites) and 2,000 alerts on the work list:
 * - time to a usable work list (first row shown, every row shown) and to the fleet view (every
 *   site drawn), beside the raw API time for the same data from the same run;
 * - the delay from an alert event in the service (seen on the stream by a plain client) to its
 *   row appearing in the open page.
 *
 *   npm run bench:console -- [--alerts 2000] [--runs 5] [--live 5]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { Page, chromium } from 'playwright-core';
import { parse } from 'yaml';
import { InfluxServer } from '../../apps/ingest/test/influx-server';
import { freePort } from '../../apps/ingest/test/free-port';
import { SseClient } from '../../apps/ingest/test/sse-client';
import { ROOT, arg, latencySummary, log, machine, spawnService, stopChild, waitFor } from './common';

const ALERTS = arg('alerts', 2000);
const RUNS = arg('runs', 5);
const LIVE = arg('live', 5);
const CLI = join(ROOT, 'dist/apps/ingest/apps/ingest/src/cli.js');
const SIM = join(ROOT, 'dist/devices-sim/devices-sim/src/cli.js');

function node(script: string, args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: 'ignore' });
    child.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`${script} ${args[0]} exited ${code}`))));
  });
}

/** 2,000 resolved alerts, not yet closed (so on the work list), spread over the fleet and the last days. */
function seedAlerts(dataDir: string, devices: { id: string; siteId: string; district: string }[]): void {
  const db = new Database(join(dataDir, 'dustwatch.db'));
  const insert = db.prepare(
    `INSERT INTO alerts (subject, rule, metric, site_id, district, device_id, state, active, severity, threshold,
       opened_at, raised_at, first_exceedance_at, last_exceedance_at, peak_value, peak_at, last_value,
       resolved_at, resolved_reason, last_notified_at, overdue_at)
     VALUES (?, 'pm10-hourly', 'pm10', ?, ?, ?, 'resolved', NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'condition-cleared', ?, ?)`,
  );
  const now = Date.now();
  db.transaction(() => {
    for (let i = 0; i < ALERTS; i++) {
      const d = devices[i % devices.length];
      const at = now - (i + 1) * 3 * 60_000;
      const critical = i % 5 === 0;
      insert.run(
        d.id,
        d.siteId,
        d.district,
        d.id,
        critical ? 'critical' : 'warning',
        critical ? 250 : 150,
        at,
        at,
        at,
        at + 1_800_000,
        180 + (i % 120),
        at,
        110,
        at + 3_600_000,
        at,
        at,
      );
    }
  })();
  db.close();
}

/**
 * Waits until the page shows at least `n` of `selector`, polling every 10 ms (a string predicate
 * would need the console's CSP to allow eval, which it rightly does not).
 */
async function countReaches(page: Page, selector: string, n: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await page.locator(selector).count()) < n) {
    if (Date.now() > deadline) throw new Error(`fewer than ${n} ${selector} after 30 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function main(): Promise<void> {
  const influx = await InfluxServer.start();
  const dataDir = mkdtempSync(join(tmpdir(), 'dustwatch-bench-'));
  const [httpPort, mqttPort] = [await freePort(), await freePort()];
  const env = { DUSTWATCH_DATA_DIR: dataDir };
  const fleetFile = join(dataDir, 'fleet.yaml');
  await node(SIM, ['generate-fleet', '--seed', '3', '--out', fleetFile], env);
  await node(CLI, ['import-fleet', fleetFile], env);
  const passwordFile = join(dataDir, 'password');
  writeFileSync(passwordFile, 'bench-password-2026');
  await node(CLI, ['create-user', 'wang', '--role', 'inspector', '--password-file', passwordFile], env);
  const fleet = parse(readFileSync(fleetFile, 'utf8')) as {
    sites: { id: string; district: string; devices: { id: string; secret: string; kind?: string }[] }[];
  };
  const monitors = fleet.sites.flatMap((s) =>
    s.devices
      .filter((d) => (d.kind ?? 'site') === 'site')
      .map((d) => ({ id: d.id, secret: d.secret, siteId: s.id, district: s.district })),
  );
  seedAlerts(dataDir, monitors);
  const service = spawnService({
    DUSTWATCH_HTTP_PORT: String(httpPort),
    DUSTWATCH_MQTT_PORT: String(mqttPort),
    DUSTWATCH_HJ212_PORT: '0',
    DUSTWATCH_DATA_DIR: dataDir,
    DUSTWATCH_INFLUX_URL: influx.url,
    DUSTWATCH_INFLUX_DB: 'bench',
    DUSTWATCH_REPORT_HOUR: '-1',
    DUSTWATCH_RULE_TICK_MS: '200',
  });
  const base = `http://127.0.0.1:${httpPort}`;
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  try {
    await waitFor(async () => (await fetch(`${base}/health`)).status === 200, 30_000, 'the service');
    const signIn = await fetch(`${base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'wang', password: 'bench-password-2026' }),
    });
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0];
    const { csrfToken } = (await signIn.json()) as { csrfToken: string };
    const headers = { cookie };

    log(`${fleet.sites.length} sites, ${ALERTS} alerts seeded; timing the raw API, then the browser`);
    // The raw API: what the console fetches, timed from this process.
    const rawList: number[] = [];
    const rawFleet: number[] = [];
    let total = 0;
    for (let r = 0; r < RUNS; r++) {
      let t = performance.now();
      let got = 0;
      for (;;) {
        const page = (await (await fetch(`${base}/api/alerts?limit=500&offset=${got}`, { headers })).json()) as {
          total: number;
          items: unknown[];
        };
        got += page.items.length;
        total = page.total;
        if (page.items.length === 0 || got >= page.total) break;
      }
      rawList.push(performance.now() - t);
      t = performance.now();
      await (await fetch(`${base}/api/fleet`, { headers })).json();
      rawFleet.push(performance.now() - t);
    }

    const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN' });
    const [name, value] = cookie.split('=');
    await context.addCookies([{ name, value, url: base }]);
    await context.addInitScript({ content: `sessionStorage.setItem('dustwatch.csrf', ${JSON.stringify(csrfToken)})` });
    const firstRow: number[] = [];
    const allRows: number[] = [];
    const fleetDrawn: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const page = await context.newPage();
      const t = performance.now();
      await page.goto(`${base}/`);
      await page.locator('li.alert').first().waitFor();
      firstRow.push(performance.now() - t);
      await countReaches(page, 'li.alert', total);
      allRows.push(performance.now() - t);
      await page.close();
      // The fleet view from a fresh page load, as a bookmark opens it.
      const map = await context.newPage();
      const t2 = performance.now();
      await map.goto(`${base}/#/fleet`);
      await countReaches(map, 'svg.map circle', fleet.sites.length);
      fleetDrawn.push(performance.now() - t2);
      await map.close();
    }

    // Live: a monitor crosses the TSP limit; the stream's event (a plain client) to the page's row.
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.locator('.live.on').waitFor();
    const sse = await SseClient.open(`${base}/api/alerts/stream`, headers);
    const liveDelays: number[] = [];
    for (let i = 0; i < LIVE; i++) {
      const m = monitors[i];
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
        clientId: m.id,
        username: m.id,
        password: m.secret,
        protocolVersion: 4,
        reconnectPeriod: 0,
      });
      const now = Date.now();
      const readings = Array.from({ length: 60 }, (_, k) => ({ ts: now - (60 - k) * 60_000, tsp: 900, pm10: 60 }));
      const seen = sse.events.length;
      await client.publishAsync(`devices/${m.id}/readings`, JSON.stringify(readings), { qos: 1 });
      await waitFor(async () => sse.events.slice(seen).some((e) => e.event === 'opened'), 10_000, 'the opened event');
      const opened = sse.events.slice(seen).find((e) => e.event === 'opened')!;
      const eventAt = performance.now();
      await page.locator(`li.alert[data-alert-id="${opened.data.alertId}"]`).waitFor({ timeout: 10_000 });
      liveDelays.push(performance.now() - eventAt);
      await client.endAsync();
    }
    sse.close();

    const result = {
      machine: machine(),
      sites: fleet.sites.length,
      workListAlerts: total,
      rawApiMs: { workList: latencySummary(rawList), fleet: latencySummary(rawFleet) },
      browserMs: {
        workListFirstRow: latencySummary(firstRow),
        workListAllRows: latencySummary(allRows),
        fleetAllSitesDrawn: latencySummary(fleetDrawn),
        liveRowAfterEvent: latencySummary(liveDelays),
      },
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(
      `\nwork list (${total} alerts): first row p50 ${result.browserMs.workListFirstRow.p50} ms, all rows p50 ${result.browserMs.workListAllRows.p50} ms (goal < 1500), raw API ${result.rawApiMs.workList.p50} ms; ` +
        `fleet (${fleet.sites.length} sites) drawn p50 ${result.browserMs.fleetAllSitesDrawn.p50} ms, raw API ${result.rawApiMs.fleet.p50} ms; ` +
        `live row after the event p50 ${result.browserMs.liveRowAfterEvent.p50} ms, max ${result.browserMs.liveRowAfterEvent.max} ms (goal < 1000)\n`,
    );
  } finally {
    await browser.close();
    await stopChild(service);
    await influx.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
