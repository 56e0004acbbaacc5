import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MqttClient } from 'mqtt';
import { Client } from 'pg';
import { parse } from 'yaml';
import { ThrowawayPostgres } from '@dustwatch/store-postgres';
import { freePort } from './free-port';
import {
  ADMIN_KEY,
  TEST_DB,
  api,
  connectDevice,
  eventually,
  metricValue,
  provision,
  publishBatch,
  removeDir,
  testEnv,
} from './harness';
import { InfluxServer } from './influx-server';
import { INSTANCE_USER, MosquittoServer } from './mosquitto-server';
import { SseClient } from './sse-client';
import { WebhookReceiver } from './webhook-receiver';
import { SIM_CLI, sim } from './sim-cli';

// Several instances behind an external broker (docs/cluster.md): Debian's Mosquitto 2,
// PostgreSQL 15, real InfluxDB, three service processes (the built main.js, so one can be
// killed with SIGKILL), devices with the real MQTT client.
const MAIN_JS = resolve(__dirname, '../../../dist/apps/ingest/apps/ingest/src/main.js');
const MIN = 60_000;
const OWNER = 'dustwatch_rule_owner';

interface Instance {
  readonly id: string;
  readonly dataDir: string;
  readonly httpPort: number;
  readonly baseUrl: string;
  proc: ChildProcess | null;
}

interface Alert {
  id: number;
  deviceId: string;
  rule: string;
  state: string;
}

let influx: InfluxServer;
let postgres: ThrowawayPostgres;
let databaseUrl: string;
let broker: MosquittoServer;
let webhook: WebhookReceiver;
const WEBHOOK_SECRET = 'cluster-webhook-secret-0123';
const instances: Instance[] = [];

beforeAll(async () => {
  if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: build first (npx nx run ingest:build)`);
  webhook = await WebhookReceiver.start(WEBHOOK_SECRET);
  [influx, postgres, broker] = await Promise.all([
    InfluxServer.start(),
    ThrowawayPostgres.start(),
    MosquittoServer.start(),
  ]);
  databaseUrl = await postgres.database();
  for (const id of ['a', 'b', 'c']) {
    const httpPort = await freePort();
    instances.push({
      id,
      dataDir: mkdtempSync(join(tmpdir(), `dustwatch-cluster-${id}-`)),
      httpPort,
      baseUrl: `http://127.0.0.1:${httpPort}`,
      proc: null,
    });
  }
  await Promise.all(instances.map((i) => start(i)));
}, 120_000);

afterAll(async () => {
  for (const i of instances) i.proc?.kill('SIGKILL');
  await broker?.stop();
  await webhook?.down();
  await postgres?.stop();
  await influx?.stop();
  for (const i of instances) removeDir(i.dataDir);
});

async function start(instance: Instance): Promise<void> {
  const env = {
    ...process.env,
    ...testEnv(influx, instance.dataDir, {
      DUSTWATCH_HTTP_PORT: String(instance.httpPort),
      DUSTWATCH_DATABASE_URL: databaseUrl,
      DUSTWATCH_MQTT_BROKER_URL: broker.url,
      DUSTWATCH_MQTT_BROKER_USERNAME: INSTANCE_USER.username,
      DUSTWATCH_MQTT_BROKER_PASSWORD: INSTANCE_USER.password,
      DUSTWATCH_MQTT_BROKER_AUTH: 'mosquitto-dynsec',
      DUSTWATCH_INSTANCE_ID: instance.id,
      DUSTWATCH_RULE_TICK_MS: '200',
      DUSTWATCH_WRITE_MAX_DELAY_MS: '20',
      // Every instance dispatches: an outbox row must reach the webhook once, whoever claims it.
      DUSTWATCH_WEBHOOK_URL: webhook.url,
      DUSTWATCH_WEBHOOK_SECRET: WEBHOOK_SECRET,
      DUSTWATCH_NOTIFY_RETRY_BASE_MS: '100',
    }),
  };
  instance.proc = spawn(process.execPath, [MAIN_JS], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  await eventually(
    () => fetch(`${instance.baseUrl}/health`).then((r) => r.status),
    (status) => status === 200,
    30_000,
    `instance ${instance.id} to answer`,
  );
}

function kill9(instance: Instance): void {
  instance.proc?.kill('SIGKILL');
  instance.proc = null;
}

async function stopGracefully(instance: Instance): Promise<void> {
  const proc = instance.proc;
  if (!proc) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGTERM');
  await exited;
  instance.proc = null;
}

/** The instances holding the rule owner lease now (each asked for its dustwatch_rule_owner gauge). */
async function owners(): Promise<string[]> {
  const held = await Promise.all(
    instances.map(async (i) =>
      i.proc ? ((await metricValue(i.baseUrl, OWNER).catch(() => null)) === 1 ? i.id : null) : null,
    ),
  );
  return held.filter((id): id is string => id !== null);
}

async function storedCount(deviceId: string): Promise<number> {
  const rows = await influx
    .rows(TEST_DB, `SELECT count(pm10) FROM raw.readings WHERE device = '${deviceId}'`)
    .catch(() => []);
  return (rows[0]?.count as number | undefined) ?? 0;
}

async function alertsOf(deviceIds: string[]): Promise<Alert[]> {
  const live = instances.find((i) => i.proc)!;
  const res = await api<{ items: Alert[] }>(
    live.baseUrl,
    'GET',
    '/api/alerts?state=open,acknowledged,resolved,closed&limit=500',
    undefined,
    ADMIN_KEY,
  );
  return res.body.items.filter((a) => deviceIds.includes(a.deviceId));
}

async function sql<R extends Record<string, unknown>>(text: string, params: unknown[] = []): Promise<R[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<R>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Every reading of the site reached the shared rule feed, once ((device, ts) is unique there),
 * and the rule owner has judged the whole feed and committed its alert changes.
 */
async function judgedInFeed(site: string): Promise<number> {
  const [row] = await sql<{ n: string; judged: boolean }>(
    `SELECT (SELECT count(*) FROM rule_feed WHERE device_id LIKE $1) AS n,
            (SELECT cursor FROM rule_owner WHERE id = 1) >= (SELECT coalesce(max(seq), 0) FROM rule_feed) AS judged`,
    [`${site}-%`],
  );
  return row.judged ? Number(row.n) : -1;
}

/**
 * Every device publishes an hour of PM10 200, one reading a minute stamped 125..66 min ago, one
 * reading per message so consecutive readings of a device go to different instances — exactly
 * one warning alert per device (the same pattern as alerts.int). `during(n)` runs after the
 * n-th message of the first device was acknowledged by the broker.
 */
async function publishHour(
  clients: Record<string, MqttClient>,
  t0: number,
  during: (n: number) => Promise<void>,
): Promise<void> {
  const ids = Object.keys(clients);
  for (let n = 0; n < 60; n++) {
    await Promise.all(ids.map((id) => publishBatch(clients[id], id, [{ ts: t0 + n * MIN, pm10: 200 }])));
    await during(n + 1);
  }
}

/** Provisions a site of four devices through one instance's API (which gives the broker their accounts) and connects them to the broker. */
async function fleet(
  site: string,
): Promise<{ ids: string[]; clients: Record<string, MqttClient>; secrets: Record<string, string> }> {
  const ids = [1, 2, 3, 4].map((n) => `${site}-M${n}`);
  const live = instances.find((i) => i.proc)!;
  const secrets = await provision({ api: (m, p, b) => api(live.baseUrl, m, p, b, ADMIN_KEY) }, site, ids);
  const clients: Record<string, MqttClient> = {};
  for (const id of ids) clients[id] = await connectDevice(broker.port, id, secrets[id], { reconnectPeriod: 1000 });
  return { ids, clients, secrets };
}

/** Every acknowledged reading in InfluxDB and judged once in the feed; one alert per device; one rule owner. */
async function expectEveryReadingAndEachAlertOnce(site: string, ids: string[]): Promise<void> {
  for (const id of ids)
    await eventually(
      () => storedCount(id),
      (n) => n === 60,
      30_000,
      `60 readings of ${id}`,
    );
  await eventually(
    () => judgedInFeed(site),
    (n) => n === ids.length * 60,
    20_000,
    'every reading judged once by the rule owner',
  );
  const alerts = await alertsOf(ids);
  expect(alerts.map((a) => `${a.deviceId}:${a.rule}`).sort()).toEqual(ids.map((id) => `${id}:pm10-hourly`).sort());
  expect(await owners()).toHaveLength(1);
}

it('kill -9 of the rule owner mid-stream: every acknowledged reading stored, each alert once, ownership moves', async () => {
  const SITE = 'K1';
  const { ids, clients } = await fleet(SITE);
  try {
    const before = await owners();
    expect(before).toHaveLength(1);
    const victim = instances.find((i) => i.id === before[0])!;
    let killedAt = 0;
    let movedAfterMs = -1;
    await publishHour(clients, Date.now() - 125 * MIN, async (n) => {
      if (n !== 30) return;
      // The owner has judged the first half hour: windows the next owner cannot see would leave
      // it 30 readings an hour, below the 75 % validity, and no alert.
      await eventually(
        () => judgedInFeed(SITE),
        (judged) => judged === 4 * 30,
        20_000,
        'the first half hour judged',
      );
      kill9(victim);
      killedAt = Date.now();
      const after = await eventually(owners, (o) => o.length === 1, 15_000, 'another instance to take the rules');
      movedAfterMs = Date.now() - killedAt;
      expect(after[0]).not.toBe(victim.id);
      // Back under the same name: its persistent sessions (and the messages the broker held for them) resume.
      await start(victim);
    });
    console.log(`rule ownership moved ${movedAfterMs} ms after the owner was killed`);
    expect(movedAfterMs).toBeGreaterThanOrEqual(0);
    await expectEveryReadingAndEachAlertOnce(SITE, ids);
  } finally {
    for (const c of Object.values(clients)) c.end(true);
  }
}, 180_000);

it('a rolling restart under load: every acknowledged reading stored, each alert once', async () => {
  const SITE = 'R1';
  const { ids, clients } = await fleet(SITE);
  try {
    await publishHour(clients, Date.now() - 125 * MIN, async (n) => {
      const instance = n === 10 ? instances[0] : n === 25 ? instances[1] : n === 40 ? instances[2] : null;
      if (!instance) return;
      await stopGracefully(instance);
      await start(instance);
    });
    await expectEveryReadingAndEachAlertOnce(SITE, ids);
  } finally {
    for (const c of Object.values(clients)) c.end(true);
  }
}, 180_000);

it('the broker refuses what the registry refuses: a wrong secret, a foreign topic, a disabled device (dropped live), a rotated secret', async () => {
  const { ids, clients, secrets } = await fleet('A1');
  const [m1, m2] = ids;
  const [a, b, c] = instances;
  try {
    await expect(connectDevice(broker.port, m1, 'not-the-secret-0')).rejects.toThrow('Not authorized');
    // The device's account is bound to its client id.
    await expect(connectDevice(broker.port, m1, secrets[m1], { clientId: 'someone-else' })).rejects.toThrow(
      'Not authorized',
    );
    // MQTT 5 answers a foreign topic with PUBACK 135 (3.1.1 has no negative PUBACK: dropped, never delivered).
    clients[m2].end(true);
    const v5 = (clients[`${m2}@v5`] = await connectDevice(broker.port, m2, secrets[m2], { protocolVersion: 5 }));
    const foreign = await v5
      .publishAsync(`devices/${m1}/readings`, JSON.stringify([{ ts: Date.now() - MIN, pm10: 50 }]), { qos: 1 })
      .then(
        () => 0,
        (error: { code?: number }) => error.code,
      );
    expect(foreign).toBe(135);

    // Disabled through one instance: the broker drops the live connection and refuses the next.
    const dropped = new Promise<number>((resolve) => clients[m1].once('close', () => resolve(Date.now())));
    const disabledAt = Date.now();
    expect((await api(b.baseUrl, 'POST', `/api/devices/${m1}/disable`, undefined, ADMIN_KEY)).status).toBe(200);
    const droppedAfterMs =
      (await Promise.race([dropped, new Promise<number>((r) => setTimeout(() => r(Number.NaN), 5000).unref())])) -
      disabledAt;
    console.log(`disabled device dropped by the broker ${droppedAfterMs} ms after the API call`);
    expect(droppedAfterMs).toBeLessThan(5000);
    clients[m1].end(true);
    await expect(connectDevice(broker.port, m1, secrets[m1])).rejects.toThrow('Not authorized');
    expect((await api(c.baseUrl, 'POST', `/api/devices/${m1}/enable`, undefined, ADMIN_KEY)).status).toBe(200);
    clients[m1] = await connectDevice(broker.port, m1, secrets[m1]);

    // Rotated through another instance: the old secret's connection is dropped and refused, the new one taken.
    const live = (clients[m2] = await connectDevice(broker.port, m2, secrets[m2]));
    const rotatedDrop = new Promise<void>((resolve) => live.once('close', () => resolve()));
    const rotated = await api<{ secret: string }>(
      a.baseUrl,
      'POST',
      `/api/devices/${m2}/rotate-secret`,
      undefined,
      ADMIN_KEY,
    );
    expect(rotated.status).toBe(200);
    await rotatedDrop;
    live.end(true);
    await expect(connectDevice(broker.port, m2, secrets[m2])).rejects.toThrow('Not authorized');
    clients[m2] = await connectDevice(broker.port, m2, rotated.body.secret);
    await publishBatch(clients[m2], m2, [{ ts: Date.now() - MIN, pm10: 40 }]);
    await eventually(
      () => storedCount(m2),
      (n) => n === 1,
      10_000,
      `the reading of ${m2} with its new secret`,
    );
  } finally {
    for (const client of Object.values(clients)) client.end(true);
  }
}, 60_000);

it('live events across instances: a stream on a non-owner sees the alerts the owner raised and an acknowledgement made on a third, ids in order', async () => {
  const [owner] = await owners();
  const [watchedAt, ackedAt] = instances.filter((i) => i.id !== owner);
  const sse = await SseClient.open(`${watchedAt.baseUrl}/api/alerts/stream`, { 'x-api-key': ADMIN_KEY });
  const { ids, clients } = await fleet('L1');
  try {
    expect(sse.status).toBe(200);
    await publishHour(clients, Date.now() - 125 * MIN, async () => undefined);
    const alerts = await eventually(
      () => alertsOf(ids),
      (a) => a.length === ids.length,
      20_000,
      'the four alerts',
    );
    const alertIds = alerts.map((a) => a.id).sort((x, y) => x - y);
    const seen = (type: string): number[] =>
      [
        ...new Set(
          sse.events
            .filter((e) => e.data.type === type && alertIds.includes(e.data.alertId))
            .map((e) => e.data.alertId),
        ),
      ].sort((x, y) => x - y);
    await eventually(
      async () => seen('opened'),
      (s) => s.length === alertIds.length,
      10_000,
      'the openings on the stream',
    );
    expect(seen('opened')).toEqual(alertIds);
    const ack = await api(
      ackedAt.baseUrl,
      'POST',
      `/api/alerts/${alertIds[0]}/acknowledge`,
      { note: '已通知现场' },
      ADMIN_KEY,
    );
    expect(ack.status).toBe(200);
    await eventually(
      async () => seen('acknowledged'),
      (s) => s.length === 1,
      10_000,
      'the acknowledgement on the stream',
    );
    expect(seen('acknowledged')).toEqual([alertIds[0]]);
    const streamIds = sse.events.map((e) => e.id);
    expect(streamIds).toEqual([...new Set(streamIds)].sort((x, y) => x - y)); // each once, in id order
    // Three dispatchers claim from one outbox: each of these events reached the webhook once.
    const eventIds = sse.events.filter((e) => alertIds.includes(e.data.alertId)).map((e) => e.id);
    const delivered = (): number[] =>
      webhook.deliveries.map((d) => d.body.event.id).filter((id) => eventIds.includes(id));
    await eventually(
      async () => new Set(delivered()).size,
      (n) => n === eventIds.length,
      15_000,
      'every event at the webhook',
    );
    expect(delivered().sort((x, y) => x - y)).toEqual([...eventIds].sort((x, y) => x - y));
  } finally {
    sse.close();
    for (const c of Object.values(clients)) c.end(true);
  }
}, 60_000);

it('presence from the broker: every instance shows a device online from its status message and offline from its last will', async () => {
  const { ids, clients, secrets } = await fleet('P1');
  const [m1] = ids;
  clients[m1].end(true);
  const device = (clients[m1] = await connectDevice(broker.port, m1, secrets[m1], {
    will: { topic: `devices/${m1}/status`, payload: Buffer.from('offline'), qos: 1, retain: false },
  }));
  const shown = async (): Promise<string[]> =>
    Promise.all(
      instances.map(async (i) => {
        const res = await api<{ id: string; online: boolean; lastStatus: string | null }[]>(
          i.baseUrl,
          'GET',
          '/api/devices?siteId=P1',
          undefined,
          ADMIN_KEY,
        );
        const d = res.body.find((x) => x.id === m1);
        return `${d?.online}:${d?.lastStatus}`;
      }),
    );
  try {
    await device.publishAsync(`devices/${m1}/status`, 'online', { qos: 1 });
    await eventually(shown, (s) => s.every((x) => x === 'true:online'), 15_000, 'every instance to show it online');
    // The connection breaks without a DISCONNECT: the broker publishes the will.
    device.stream.destroy();
    await eventually(shown, (s) => s.every((x) => x === 'false:offline'), 15_000, 'every instance to show it offline');
  } finally {
    for (const c of Object.values(clients)) c.end(true);
  }
}, 60_000);

it('the simulator through Mosquitto, an instance killed with SIGKILL mid-run: every reading the broker acknowledged is in InfluxDB and in the rule feed once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dustwatch-cluster-sim-'));
  try {
    const fleetFile = join(dir, 'fleet.yaml');
    expect((await sim(['generate-fleet', '--sites', '6', '--seed', '9', '--out', fleetFile])).code).toBe(0);
    const fleet = parse(readFileSync(fleetFile, 'utf8')) as { sites: { devices: { id: string }[] }[] };
    const [, importer, victim] = instances;
    // The import hands every device's secret to its Mosquitto account before the registry stores it.
    expect((await api(importer.baseUrl, 'POST', '/api/fleet/import', fleet, ADMIN_KEY)).status).toBe(200);
    const ids = fleet.sites.flatMap((s) => s.devices.map((d) => d.id));
    const stored = async (): Promise<number> => {
      const rows = await influx
        .rows(TEST_DB, `SELECT count(pm10) FROM raw.readings WHERE device =~ /^(${ids.join('|')})$/`)
        .catch(() => []);
      return (rows[0]?.count as number | undefined) ?? 0;
    };
    // 30 simulated minutes in 30 s: one reading a minute per device.
    const run = spawn(
      process.execPath,
      [SIM_CLI, 'run', '--fleet', fleetFile, '--url', broker.url, '--speed', '60', '--duration', '30m', '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    run.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => run.once('exit', resolve));
    await eventually(stored, (n) => n >= ids.length * 8, 30_000, 'a quarter of the run in InfluxDB');
    kill9(victim);
    await start(victim);
    expect(await exited).toBe(0);
    const summary = JSON.parse(stdout) as { readingsAcked: number; drained: boolean; devices: number };
    expect([summary.drained, summary.devices]).toEqual([true, ids.length]);
    expect(summary.readingsAcked).toBeGreaterThanOrEqual(30 * ids.length);
    await eventually(stored, (n) => n === summary.readingsAcked, 30_000, 'every acknowledged reading in InfluxDB');
    await eventually(
      async () =>
        Number((await sql<{ n: string }>('SELECT count(*) AS n FROM rule_feed WHERE device_id = ANY($1)', [ids]))[0].n),
      (n) => n === summary.readingsAcked,
      20_000,
      'every acknowledged reading in the rule feed',
    );
    const doubled = await sql(
      `SELECT device_id, rule FROM alerts WHERE state IN ('open', 'acknowledged') AND device_id = ANY($1)
       GROUP BY device_id, rule HAVING count(*) > 1`,
      [ids],
    );
    expect(doubled).toEqual([]);
  } finally {
    removeDir(dir);
  }
}, 120_000);
