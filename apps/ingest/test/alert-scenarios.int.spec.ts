import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { InfluxServer } from './influx-server';
import { sim } from './sim-cli';
import { TestService, eventually, removeDir, startTestService } from './harness';
import { WebhookReceiver } from './webhook-receiver';

// The "done when": a simulator scenario run opens, escalates and resolves the expected
// alert exactly once, at the times the simulator's own model predicts, and an inspector closes it.
const SECRET = 'webhook-signing-secret-0123';
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

interface AlertWithHistory {
  id: number;
  rule: string;
  state: string;
  severity: string;
  deviceId: string;
  history: { type: string; at: string }[];
}

let influx: InfluxServer;
let service: TestService;
let webhook: WebhookReceiver;
const dir = mkdtempSync(join(tmpdir(), 'dustwatch-alert-sim-'));

beforeAll(async () => {
  influx = await InfluxServer.start();
  webhook = await WebhookReceiver.start(SECRET);
  // The run plays an evening up to a day ago, older than the default 3-hour evaluation horizon,
  // which the rule file moves for this run.
  const rulesFile = join(dir, 'rules.yaml');
  writeFileSync(rulesFile, 'evaluationHorizonMinutes: 2000\n');
  service = await startTestService(influx, {
    DUSTWATCH_RULES_FILE: rulesFile,
    DUSTWATCH_WEBHOOK_URL: webhook.url,
    DUSTWATCH_WEBHOOK_SECRET: SECRET,
    DUSTWATCH_RULE_TICK_MS: '200',
  });
});

afterAll(async () => {
  await service?.stop();
  await webhook?.down();
  await influx?.stop();
  if (service) removeDir(service.dataDir);
  removeDir(dir);
});

it('a dust episode opens, escalates and resolves one pm10-hourly alert at the predicted times; an inspector closes it', async () => {
  const fleetFile = join(dir, 'fleet.yaml');
  expect((await sim(['generate-fleet', '--sites', '6', '--seed', '5', '--out', fleetFile])).code).toBe(0);
  const fleet = parse(readFileSync(fleetFile, 'utf8')) as {
    sites: { id: string; kind?: string; devices: { id: string; kind?: string }[] }[];
  };
  expect((await service.api('POST', '/api/fleet/import', fleet)).status).toBe(200);
  const site = fleet.sites.find((s) => s.devices.length === 1 && (s.devices[0].kind ?? 'site') === 'site')!;
  const deviceId = site.devices[0].id;

  const scenarioFile = join(dir, 'scenarios.yaml');
  writeFileSync(
    scenarioFile,
    `version: 1\nscenarios:\n  - { kind: dust-episode, site: ${site.id}, at: +60m, rampMinutes: 15, plateauMinutes: 45, decayMinutes: 15, peakPm10: 500 }\n`,
  );
  // 19:00–23:00 local (11:00–15:00 UTC) of the latest evening that is over: no site work after
  // 18:00, so the site's own PM10 falls back below the clear level within the run whatever the date.
  let start = Math.floor(Date.now() / DAY) * DAY + 11 * HOUR;
  while (start + 4 * HOUR > Date.now() - MIN) start -= DAY;
  const run = await sim([
    'run',
    '--fleet',
    fleetFile,
    '--url',
    `mqtt://127.0.0.1:${service.mqttPort}`,
    '--speed',
    '600',
    '--start',
    new Date(start).toISOString(),
    '--duration',
    '4h',
    '--scenario',
    scenarioFile,
    '--seed',
    '5',
    '--json',
  ]);
  expect(run.code).toBe(0);
  const summary = JSON.parse(run.stdout) as {
    drained: boolean;
    expectations: { times: Record<string, number | null> }[];
  };
  expect(summary.drained).toBe(true);
  const expected = summary.expectations[0].times;
  expect(expected[`${deviceId}:warning`]).not.toBeNull();
  expect(expected[`${deviceId}:critical`]).not.toBeNull();
  expect(expected[`${deviceId}:clear`]).not.toBeNull();

  const list = await eventually(
    () =>
      service.api<{ items: AlertWithHistory[] }>(
        'GET',
        `/api/alerts?siteId=${site.id}&rule=pm10-hourly&state=open,acknowledged,resolved,closed`,
      ),
    (r) => r.body.items.some((a) => a.state === 'resolved'),
    10_000,
    'the resolved alert',
  );
  expect(list.body.items).toHaveLength(1);
  const alert = (await service.api<AlertWithHistory>('GET', `/api/alerts/${list.body.items[0].id}`)).body;
  expect(alert).toMatchObject({ deviceId, rule: 'pm10-hourly', severity: 'critical', state: 'resolved' });
  expect(alert.history.map((h) => h.type)).toEqual(['opened', 'escalated', 'resolved']);
  // The model samples on the minute grid; the device reads at its own phase within the minute, so
  // its crossings may land a reading or two off the prediction.
  const at = Object.fromEntries(alert.history.map((h) => [h.type, Date.parse(h.at)]));
  expect(Math.abs(at['opened'] - expected[`${deviceId}:warning`]!)).toBeLessThanOrEqual(2 * MIN);
  expect(Math.abs(at['escalated'] - expected[`${deviceId}:critical`]!)).toBeLessThanOrEqual(2 * MIN);
  expect(Math.abs(at['resolved'] - expected[`${deviceId}:clear`]!)).toBeLessThanOrEqual(2 * MIN);

  const inspector = (
    await service.api<{ key: string }>('POST', '/api/keys', { name: 'inspector-li', role: 'inspector' })
  ).body.key;
  expect(
    (
      await service.api(
        'POST',
        `/api/alerts/${alert.id}/close`,
        { note: 'hoarding repaired, stockpiles covered' },
        inspector,
      )
    ).status,
  ).toBe(200);
  await eventually(
    async () => webhook.deliveries.filter((d) => d.body.alert.id === alert.id).map((d) => d.body.event.type),
    (t) => t.length === 4,
    10_000,
    'four deliveries',
  );
  expect(webhook.deliveries.filter((d) => d.body.alert.id === alert.id).map((d) => d.body.event.type)).toEqual([
    'opened',
    'escalated',
    'resolved',
    'closed',
  ]);
});
