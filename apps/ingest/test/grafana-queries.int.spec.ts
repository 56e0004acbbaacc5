import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { MqttClient } from 'mqtt';
import { InfluxHttpClient, rollUpHours } from '@dustwatch/influx';
import { InfluxServer } from './influx-server';
import { TEST_DB, TestService, connectDevice, eventually, removeDir, startTestService } from './harness';
import { sim } from './sim-cli';

// Every query of every provisioned dashboard (grafana/dashboards/*.json, what Grafana loads) runs
// against a real InfluxDB holding a simulated day of the fleet plus a known PM10 episode, with
// Grafana's template variables substituted as Grafana would; the key numbers are checked
// against an independent computation from the raw readings or the alert API.
const DASHBOARD_DIR = resolve(__dirname, '../../../grafana/dashboards');
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const SHANGHAI = 8 * HOUR;

interface Target {
  refId: string;
  query: string;
  resultFormat: string;
}
interface Dashboard {
  uid: string;
  panels: { title: string; targets: Target[] }[];
  templating: { list: { name: string; query: string; type: string }[] };
  annotations: { list: { name: string; query?: string }[] };
}

let influx: InfluxServer;
let service: TestService;
const dir = mkdtempSync(join(tmpdir(), 'dustwatch-grafana-'));
const now = Date.now();
const from = now - 26 * HOUR;
let probeSite: string;
let district: string;
let siteIds: string[];
let backgroundIds: string[];
const probe = 'PROBE-M1';
// Two whole hours at PM10 300 for the probe monitor, then an hour at 50 (opens, then resolves an alert).
const episodeStart = Math.floor((now - 3 * HOUR) / HOUR) * HOUR;

function publish(client: MqttClient, readings: { ts: number; pm10: number; noise: number }[]): Promise<void> {
  return new Promise((ok, fail) =>
    client.publish(`devices/${probe}/readings`, JSON.stringify(readings), { qos: 1 }, (e) => (e ? fail(e) : ok())),
  );
}

async function query(q: string): Promise<{ columns: string[]; values: unknown[][]; tags?: Record<string, string> }[]> {
  const res = await fetch(`${influx.url}/query?${new URLSearchParams({ db: TEST_DB, q, epoch: 'ms' })}`, {
    method: 'POST',
  });
  const body = (await res.json()) as {
    results: { error?: string; series?: { columns: string[]; values: unknown[][]; tags?: Record<string, string> }[] }[];
  };
  if (body.results[0].error) throw new Error(`${body.results[0].error} in: ${q}`);
  return body.results[0].series ?? [];
}

/** Grafana's substitution of the variables our dashboards use. */
function substitute(q: string): string {
  const regexOf = (values: string[]): string => (values.length === 1 ? values[0] : `(${values.join('|')})`);
  return q
    .replace(/\$timeFilter/g, `time >= ${from}ms and time <= ${Date.now()}ms`) // "to" is now when the query runs, as in Grafana
    .replace(/\$__interval/g, '5m')
    .replace(/\$period/g, '1d')
    .replace(/\$__range_s/g, String(Math.round((Date.now() - from) / 1000)))
    .replace(
      /\/\^\$site\$\//g,
      `/^${regexOf(q.includes('"readings_1h"') || q.includes('"alert_events"') ? siteIds : [probeSite])}$/`,
    )
    .replace(/\/\^\$district\$\//g, `/^${district}$/`)
    .replace(/\/\^\$background\$\//g, `/^${regexOf(backgroundIds)}$/`);
}

const dashboards = (): Dashboard[] =>
  readdirSync(DASHBOARD_DIR).map((f) => JSON.parse(readFileSync(join(DASHBOARD_DIR, f), 'utf8')) as Dashboard);
const panelQuery = (uid: string, title: RegExp, refId = 'A'): string => {
  const panel = dashboards()
    .find((d) => d.uid === uid)!
    .panels.find((p) => title.test(p.title))!;
  return substitute(panel.targets.find((t) => t.refId === refId)!.query);
};

beforeAll(async () => {
  influx = await InfluxServer.start();
  service = await startTestService(influx, { DUSTWATCH_SNAPSHOT_SECONDS: '1', DUSTWATCH_WRITE_MAX_DELAY_MS: '20' });
  const fleetFile = join(dir, 'fleet.yaml');
  expect((await sim(['generate-fleet', '--sites', '4', '--seed', '11', '--out', fleetFile])).code).toBe(0);
  const fleet = parse(readFileSync(fleetFile, 'utf8')) as {
    sites: { id: string; district: string; devices: { id: string; kind?: string }[] }[];
  };
  expect((await service.api('POST', '/api/fleet/import', fleet)).status).toBe(200);
  probeSite = fleet.sites[0].id;
  district = fleet.sites[0].district;
  siteIds = fleet.sites.filter((s) => s.devices.every((d) => (d.kind ?? 'site') === 'site')).map((s) => s.id);
  backgroundIds = fleet.sites
    .filter((s) => s.district === district && s.devices.every((d) => d.kind === 'background'))
    .map((s) => s.id);
  const backfill = await sim([
    'backfill',
    '--fleet',
    fleetFile,
    '--url',
    `mqtt://127.0.0.1:${service.mqttPort}`,
    '--from',
    new Date(from).toISOString(),
    '--to',
    new Date(now - 5 * MIN).toISOString(),
    '--seed',
    '11',
    '--json',
  ]);
  expect(backfill.code).toBe(0);

  const created = await service.api<{ secret: string }>('POST', '/api/devices', {
    id: probe,
    siteId: probeSite,
    model: 'TEST',
    kind: 'site',
  });
  const device = await connectDevice(service.mqttPort, probe, created.body.secret);
  const minutes = (start: number, n: number, pm10: number) =>
    Array.from({ length: n }, (_, i) => ({ ts: start + i * MIN, pm10, noise: 60 }));
  await publish(device, minutes(episodeStart, 120, 300));
  await publish(device, minutes(episodeStart + 2 * HOUR, 60, 50));
  const alerts = await eventually(
    () =>
      service.api<{ items: { id: number; state: string }[] }>(
        'GET',
        `/api/alerts?siteId=${probeSite}&rule=pm10-hourly`,
      ),
    (r) => r.body.items[0]?.state === 'resolved',
    10_000,
    'the resolved alert',
  );
  expect(
    (await service.api('POST', `/api/alerts/${alerts.body.items[0].id}/close`, { note: 'covered the stockpile' }))
      .status,
  ).toBe(200);
  device.end(true);

  // everything in InfluxDB, the hours rolled up, a fresh fleet snapshot
  await eventually(
    async () =>
      Number(
        (await influx.rows(TEST_DB, `SELECT count(pm10) FROM raw.readings WHERE device = '${probe}'`))[0]?.count ?? 0,
      ),
    (n) => n === 180,
    20_000,
    'the probe readings',
  );
  await eventually(
    async () => (await influx.rows(TEST_DB, 'SELECT count(alert_id) FROM long.alert_events')).length,
    (n) => n > 0,
    20_000,
    'alert events',
  );
  await eventually(
    async () => (await service.api<{ items: unknown[] }>('GET', '/api/notifications?state=pending')).body.items.length,
    (n) => n === 0,
    20_000,
    'the outbox drained',
  );
  await rollUpHours(
    new InfluxHttpClient({ url: influx.url, database: TEST_DB }),
    Math.floor(from / HOUR) * HOUR,
    Math.floor(now / HOUR) * HOUR,
  );
  const mark = Date.now();
  await eventually(
    async () =>
      Number(
        (await influx.rows(TEST_DB, `SELECT count(online) FROM raw.site_status WHERE time > ${mark}ms`))[0]?.count ?? 0,
      ),
    (n) => n > 0,
    20_000,
    'a fleet snapshot taken after the last alert change',
  );
}, 180_000);

afterAll(async () => {
  await service?.stop();
  await influx?.stop();
  if (service) removeDir(service.dataDir);
  removeDir(dir);
});

it('every panel query, variable query and annotation query of every dashboard runs and returns data', async () => {
  const ran: string[] = [];
  for (const d of dashboards()) {
    for (const p of d.panels)
      for (const t of p.targets) {
        const series = await query(substitute(t.query));
        expect({
          dashboard: d.uid,
          panel: p.title,
          ref: t.refId,
          rows: series.reduce((n, s) => n + s.values.length, 0) > 0,
        }).toEqual({ dashboard: d.uid, panel: p.title, ref: t.refId, rows: true });
        ran.push(`${d.uid}/${p.title}/${t.refId}`);
      }
    for (const v of d.templating.list.filter((x) => x.type === 'query'))
      expect((await query(substitute(v.query))).length).toBe(1);
    for (const a of d.annotations.list.filter((x) => x.query))
      expect((await query(substitute(a.query!))).length).toBeGreaterThan(0);
  }
  expect(ran).toHaveLength(20); // 6 + 5 + 6 panels, three with two queries: none skipped
});

it("the variables list the registry's sites, the site's district and its background stations", async () => {
  const site = dashboards().find((d) => d.uid === 'dustwatch-site')!;
  const values = async (name: string) =>
    (await query(substitute(site.templating.list.find((v) => v.name === name)!.query)))[0].values.map((v) => v[1]);
  expect((await values('site')).sort()).toEqual([...siteIds].sort());
  expect(await values('district')).toEqual([district]);
  expect((await values('background')).sort()).toEqual([...backgroundIds].sort());
});

it('fleet now: devices online and the ten worst sites by 1-h PM10 match the registry and the raw readings', async () => {
  const devices = (await service.api<{ online: boolean }[]>('GET', '/api/devices')).body;
  const [online] = await query(panelQuery('dustwatch-fleet-now', /^Devices online/));
  expect(online.values[0][1]).toBe(devices.filter((d) => d.online).length);
  const [offline] = await query(panelQuery('dustwatch-fleet-now', /^Devices offline/));
  expect(offline.values[0][1]).toBe(devices.filter((d) => !d.online).length);

  const active = (
    await service.api<{ items: { severity: string }[] }>('GET', '/api/alerts?state=open,acknowledged&limit=500')
  ).body.items;
  const [bySeverity] = await query(panelQuery('dustwatch-fleet-now', /^Active alerts/));
  expect(bySeverity.values[0].slice(1)).toEqual([
    active.filter((a) => a.severity === 'warning').length,
    active.filter((a) => a.severity === 'critical').length,
  ]);

  // independent: mean of the raw PM10 per site over the last hour
  const raw = await influx.rows(TEST_DB, 'SELECT pm10, site FROM raw.readings WHERE time > now() - 1h');
  const bySite = new Map<string, number[]>();
  for (const r of raw)
    bySite.set(r['site'] as string, [...(bySite.get(r['site'] as string) ?? []), r['pm10'] as number]);
  const expected = [...bySite]
    .map(([site, v]) => [site, v.reduce((a, b) => a + b, 0) / v.length] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10);
  const [worst] = await query(panelQuery('dustwatch-fleet-now', /^Ten worst/));
  const got = worst.values
    .map((v) => [v[worst.columns.indexOf('site')], v[worst.columns.indexOf('pm10')]] as [string, number])
    .sort((a, b) => b[1] - a[1]);
  expect(got.map(([s]) => s)).toEqual(expected.map(([s]) => s));
  got.forEach(([, v], i) => expect(v).toBeCloseTo(expected[i][1], 6));
});

it('compliance: exceedance hours per Asia/Shanghai day equal a count from the raw readings; alerts opened/closed and time to close match the API', async () => {
  // independent: per device and hour, valid (≥ 45 readings) and mean ≥ 150, counted per site and local day
  const raw = await influx.rows(
    TEST_DB,
    `SELECT pm10, site, device FROM raw.readings WHERE time >= ${Math.floor(from / HOUR) * HOUR}ms`,
  );
  const hours = new Map<string, { site: string; hour: number; values: number[] }>();
  for (const r of raw) {
    const hour = Math.floor((r['time'] as number) / HOUR) * HOUR;
    const key = `${r['device']}|${hour}`;
    const h = hours.get(key) ?? { site: r['site'] as string, hour, values: [] };
    h.values.push(r['pm10'] as number);
    hours.set(key, h);
  }
  // Site-level, as the reports count: an hour counts once for a site when any of its monitors has it.
  const siteHours = new Set<string>();
  for (const h of hours.values()) {
    if (h.values.length < 45 || h.values.reduce((a, b) => a + b, 0) / h.values.length < 150 || h.hour < from) continue;
    siteHours.add(`${h.site}|${h.hour}`);
  }
  const expected: Record<string, number> = {};
  for (const key of siteHours) {
    const [site, hour] = key.split('|');
    const localDay = Math.floor((Number(hour) + SHANGHAI) / DAY) * DAY - SHANGHAI;
    expected[`${site}|${localDay}`] = (expected[`${site}|${localDay}`] ?? 0) + 1;
  }
  expect(
    expected[`${probeSite}|${Math.floor((episodeStart + SHANGHAI) / DAY) * DAY - SHANGHAI}`],
  ).toBeGreaterThanOrEqual(1); // the episode is in it
  const series = await query(panelQuery('dustwatch-compliance', /^PM10 exceedance/));
  const got: Record<string, number> = {};
  for (const s of series)
    for (const v of s.values) if ((v[1] as number) > 0) got[`${s.tags!['site']}|${v[0]}`] = v[1] as number;
  expect(got).toEqual(expected);
  // Weekly: the same hours in ISO weeks, buckets starting Monday 00:00 Asia/Shanghai.
  const weekly = await query(
    panelQuery('dustwatch-compliance', /^PM10 exceedance/).replace('time(1d)', 'time(7d, 4d)'),
  );
  let weeklyTotal = 0;
  for (const s of weekly)
    for (const v of s.values) {
      const local = new Date((v[0] as number) + SHANGHAI);
      expect([local.getUTCDay(), local.getUTCHours(), local.getUTCMinutes()]).toEqual([1, 0, 0]);
      weeklyTotal += (v[1] as number | null) ?? 0;
    }
  expect(weeklyTotal).toBe(Object.values(expected).reduce((a, b) => a + b, 0));

  const alerts = (
    await service.api<{ items: { siteId: string; openedAt: string; closedAt: string | null }[] }>(
      'GET',
      '/api/alerts?state=open,acknowledged,resolved,closed&limit=500',
    )
  ).body.items;
  const opened = await query(panelQuery('dustwatch-compliance', /^Alerts opened/, 'A'));
  expect(opened.reduce((n, s) => n + s.values.reduce((m, v) => m + (v[1] as number), 0), 0)).toBe(alerts.length);
  const closed = alerts.filter((a) => a.closedAt);
  const [toClose] = await query(panelQuery('dustwatch-compliance', /^Hours from opening/));
  const hoursToClose = toClose.values.filter((v) => v[1] !== null).map((v) => v[1] as number);
  expect(hoursToClose).toHaveLength(1);
  expect(hoursToClose[0]).toBeCloseTo((Date.parse(closed[0].closedAt!) - Date.parse(closed[0].openedAt)) / HOUR, 6);
});
