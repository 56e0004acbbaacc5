import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { Socket, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beijingTimestamp, frame } from '@dustwatch/telemetry';
import { freePort } from './free-port';
import { InfluxServer } from './influx-server';
import { TEST_DB, api, connectDevice, eventually, metricValue, removeDir, spoolDrained, testEnv } from './harness';
import { Hj212TestClient } from './hj212-client';

// Issue 22, finding 1: idle HJ 212 connections up to the cap took every descriptor of the
// process (cap = open-file limit): HTTP, MQTT and InfluxDB failed with it. The service runs here
// under `ulimit -n 600`, the caps it plans from that, and a flood of 600 connections.
const MAIN_JS = resolve(__dirname, '../../../dist/apps/ingest/apps/ingest/src/main.js');
const LIMIT = 600;
// planDescriptors(600): 256 reserved, 344 left: HJ 212 half (172), MQTT 40 % (137), HTTP 10 % (34).
const HJ212_CAP = 172;
const MQTT_PER_ADDRESS = 34;

let influx: InfluxServer;
let child: ChildProcess;
let baseUrl: string;
let mqttPort: number;
let hjPort: number;
let logs = '';
const dataDir = mkdtempSync(join(tmpdir(), 'dustwatch-fd-'));
const MN = 'CZ005HJFDTEST1';
const PW = 'fd-test-pw-246810';

const rawSocket = (port: number, localAddress: string): Promise<Socket> =>
  new Promise((done, fail) => {
    const socket = createConnection({ host: '127.0.0.1', port, localAddress }, () => done(socket));
    socket.on('error', () => undefined);
    socket.once('error', fail);
  });
const metric = async (sample: string): Promise<number> => (await metricValue(baseUrl, sample)) ?? 0;

beforeAll(async () => {
  influx = await InfluxServer.start();
  const httpPort = await freePort();
  hjPort = await freePort();
  mqttPort = await freePort();
  const env = {
    ...process.env,
    ...testEnv(influx, dataDir, {
      DUSTWATCH_HTTP_PORT: String(httpPort),
      DUSTWATCH_MQTT_PORT: String(mqttPort),
      DUSTWATCH_HJ212_PORT: String(hjPort),
      DUSTWATCH_LOG_LEVEL: 'log',
      DUSTWATCH_MQTT_MAX_CONNECTIONS: '5000', // set by an operator: not granted, so warned about
    }),
  };
  // Soft and hard limit alike: the service cannot raise it, it must fit into it.
  child = spawn('bash', ['-c', `ulimit -n ${LIMIT} && exec "${process.execPath}" "${MAIN_JS}"`], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
  baseUrl = `http://127.0.0.1:${httpPort}`;
  await eventually(
    async () => (await fetch(`${baseUrl}/health`).catch(() => null))?.status === 200,
    (up) => up,
    30_000,
    'the service to be ready',
  );
}, 60_000);

afterAll(async () => {
  child?.kill('SIGKILL');
  removeDir(dataDir);
  await influx?.stop();
});

it('plans its connection caps from the open-file limit and says so at start', () => {
  const planned = logs.split('\n').find((l) => l.includes('file descriptors planned'));
  expect(JSON.parse(planned!)).toMatchObject({
    openFileLimit: LIMIT,
    reserved: 256,
    http: 34,
    mqtt: 137,
    mqttPerAddress: MQTT_PER_ADDRESS,
    hj212: HJ212_CAP,
    hj212PerAddress: 43,
  });
  expect(logs).toContain('DUSTWATCH_HJ212_MAX_CONNECTIONS 20000 → 172'); // in the plan line; defaults fitted are not a warning
  const warning = JSON.parse(logs.split('\n').find((l) => l.includes('connection caps lowered'))!);
  expect(warning.lowered).toEqual(['DUSTWATCH_MQTT_MAX_CONNECTIONS 5000 → 137']);
});

it('600 idle HJ 212 connections fill the HJ 212 edge only: HTTP, MQTT and a connected HJ 212 device keep working, no reading is lost', async () => {
  const imported = await api<{ secrets: { deviceId: string; secret: string }[] }>(
    baseUrl,
    'POST',
    '/api/fleet/import',
    {
      version: 1,
      sites: [
        {
          id: 'FD-1',
          name: '描述符工地',
          district: '潞州区',
          lat: 36.2,
          lon: 113.1,
          devices: [
            { id: 'fd-mqtt', model: 'YZ-DM300', kind: 'site', secret: 'fd-mqtt-secret-0123456789' },
            { id: 'fd-hj212', model: 'YZ-212', kind: 'site', hj212: { mn: MN, password: PW } },
          ],
        },
      ],
    },
  );
  expect(imported.status).toBe(200);
  // The service's own descriptors (stores, InfluxDB, logs) fit the reserve the plan keeps.
  const baseline = readdirSync(`/proc/${child.pid}/fd`).length;
  if (process.env['DUSTWATCH_PRINT_FDS']) process.stderr.write(`service descriptors before the flood: ${baseline}\n`);
  expect(baseline).toBeLessThan(256);
  // The HJ 212 device is connected before the flood.
  const hjDevice = await Hj212TestClient.connect(hjPort, '127.0.0.200');
  const before = {
    accepted: await metric('dustwatch_hj212_connections_total{outcome="accepted"}'),
    full: await metric('dustwatch_hj212_connections_total{outcome="refused_full"}'),
  };
  // The flood: 600 connections from 24 addresses (25 each, under the per-address cap of 43).
  const flood: Hj212TestClient[] = [];
  for (let a = 0; a < 24; a++)
    flood.push(
      ...(await Promise.all(Array.from({ length: 25 }, () => Hj212TestClient.connect(hjPort, `127.0.1.${a + 1}`)))),
    );
  await eventually(
    async () => [
      (await metric('dustwatch_hj212_connections_total{outcome="accepted"}')) - before.accepted,
      (await metric('dustwatch_hj212_connections_total{outcome="refused_full"}')) - before.full,
    ],
    ([accepted, full]) => accepted + full === 600,
    10_000,
    'every flood connection accepted or refused',
  );
  expect((await metric('dustwatch_hj212_connections_total{outcome="accepted"}')) - before.accepted).toBe(HJ212_CAP - 1);
  const openFds = readdirSync(`/proc/${child.pid}/fd`).length;
  if (process.env['DUSTWATCH_PRINT_FDS']) process.stderr.write(`service descriptors during the flood: ${openFds}\n`);
  expect(openFds).toBeLessThan(LIMIT - 100); // the reserve is still there

  // HTTP answers, an MQTT device connects and its reading is acknowledged and stored.
  expect((await fetch(`${baseUrl}/health`)).status).toBe(200);
  expect((await api(baseUrl, 'GET', '/api/devices')).status).toBe(200);
  const t = Date.now() - 60_000;
  const mqttDevice = await connectDevice(mqttPort, 'fd-mqtt', 'fd-mqtt-secret-0123456789', {}, '127.0.0.201');
  await mqttDevice.publishAsync('devices/fd-mqtt/readings', JSON.stringify({ ts: t, pm10: 61 }), { qos: 1 });
  // The HJ 212 device connected before keeps sending: its frame is answered (on disk).
  const qn = `${beijingTimestamp(Date.now())}001`;
  hjDevice.write(
    frame(`QN=${qn};ST=39;CN=2011;PW=${PW};MN=${MN};Flag=5;CP=&&DataTime=${beijingTimestamp(t)};a34002-Rtd=62&&`),
  );
  await hjDevice.answerTo(qn);
  await spoolDrained(baseUrl);
  expect(
    (await influx.rows(TEST_DB, `SELECT pm10 FROM raw.readings WHERE device = 'fd-mqtt' OR device = 'fd-hj212'`))
      .length,
  ).toBe(2);

  // When the flood goes, HJ 212 takes new devices again.
  flood.forEach((c) => c.end());
  mqttDevice.end(true);
  // A new connection is either accepted or dropped as over the cap: try until one is accepted.
  const outcomes = async (): Promise<[number, number]> => [
    await metric('dustwatch_hj212_connections_total{outcome="accepted"}'),
    await metric('dustwatch_hj212_connections_total{outcome="refused_full"}'),
  ];
  await eventually(
    async () => {
      const [accepted, full] = await outcomes();
      const c = await Hj212TestClient.connect(hjPort, '127.0.0.202');
      const [acceptedNow] = await eventually(outcomes, ([a, f]) => a + f === accepted + full + 1, 5000, 'the outcome');
      c.end();
      return acceptedNow > accepted;
    },
    (taken) => taken,
    10_000,
    'a new HJ 212 connection to be accepted',
  );
  hjDevice.end();
});

it('caps MQTT connections per source address too (before: no cap at all)', async () => {
  const before = await metric('dustwatch_mqtt_connections_total{outcome="refused_per_address"}');
  const sockets = await Promise.all(Array.from({ length: 40 }, () => rawSocket(mqttPort, '127.0.2.1')));
  await eventually(
    () => metric('dustwatch_mqtt_connections_total{outcome="refused_per_address"}'),
    (n) => n - before === 40 - MQTT_PER_ADDRESS,
    5000,
    `${40 - MQTT_PER_ADDRESS} MQTT connections refused from one address`,
  );
  sockets.forEach((s) => s.destroy());
});
