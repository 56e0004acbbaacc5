import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import type { MqttClient } from 'mqtt';
import { beijingTimestamp, frame } from '@dustwatch/telemetry';
import { freePort } from './free-port';
import { InfluxServer } from './influx-server';
import { ADMIN_KEY, TestService, connectDevice, metricValue, removeDir, startTestService } from './harness';
import { Hj212TestClient } from './hj212-client';
import { TsaServer } from './tsa-server';

// Issue 21: the tamper-evident record through the real service — MQTT and HJ 212 receipts
// chained at receipt, roots sealed and signed, a site's day exported and checked offline by the
// `dustwatch-verify` program, which names the entry a one-byte change touched.
const VERIFY = resolve(__dirname, '../../../dist/apps/ingest/apps/ingest/src/verify.js');
const MN = 'CZ021HJ0000001';
const PW = 'hj-secret-77';
let influx: InfluxServer;
let service: TestService;
let hjPort: number;
let dataDir: string;
let secrets: Record<string, string>;
const payloads: string[] = [];

/** Today in Asia/Shanghai, the bundle's day. */
const today = (): string => new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);

const metric = async (sample: string): Promise<number> => (await metricValue(service.baseUrl, sample)) ?? 0;

function verify(zip: Uint8Array, ...args: string[]): { status: number | null; stdout: string } {
  const file = join(dataDir, `bundle-${Math.random().toString(36).slice(2)}.zip`);
  writeFileSync(file, zip);
  const run = spawnSync(process.execPath, [VERIFY, file, ...args], { encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout + run.stderr };
}

async function bundle(siteId: string, key?: string | null): Promise<{ status: number; zip: Uint8Array }> {
  const headers: Record<string, string> = key === null ? {} : { 'x-api-key': key ?? ADMIN_KEY };
  const res = await fetch(`${service.baseUrl}/api/evidence/sites/${siteId}/${today()}`, { headers });
  return { status: res.status, zip: new Uint8Array(await res.arrayBuffer()) };
}

function publish(client: MqttClient, deviceId: string, body: string): Promise<void> {
  return new Promise((ok, fail) =>
    client.publish(`devices/${deviceId}/readings`, body, { qos: 1 }, (e) => (e ? fail(e) : ok())),
  );
}

/** One live reading from ev-m1 on a connection of its own (PUBACK awaited). */
async function sendOneReading(pm10: number): Promise<void> {
  const client = await connectDevice(service.mqttPort, 'ev-m1', secrets['ev-m1']);
  await publish(client, 'ev-m1', JSON.stringify([{ ts: new Date().toISOString(), pm10 }]));
  client.end(true);
}

async function start(extra: Record<string, string> = {}): Promise<void> {
  service = await startTestService(influx, { DUSTWATCH_HJ212_PORT: String(hjPort), ...extra }, dataDir);
}

type Sealed = { sealed: { number: number; leaves: number; timestamped: number } | null };

beforeAll(async () => {
  influx = await InfluxServer.start();
  hjPort = await freePort();
  await start();
  dataDir = service.dataDir;
  const imported = await service.api<{ generatedSecrets: { deviceId: string; secret: string }[] }>(
    'POST',
    '/api/fleet/import',
    {
      version: 1,
      sites: [
        {
          id: 'EV-1',
          name: '证据工地',
          district: 'Luzhou',
          lat: 36.2,
          lon: 113.1,
          devices: [
            { id: 'ev-m1', model: 'TEST-1', kind: 'site' },
            { id: 'ev-h1', model: 'YZ-212', kind: 'site', hj212: { mn: MN, password: PW } },
          ],
        },
        {
          id: 'EV-2',
          name: '邻近工地',
          district: 'Luzhou',
          lat: 36.2,
          lon: 113.1,
          devices: [{ id: 'ev-x1', model: 'TEST-1', kind: 'site' }],
        },
      ],
    },
  );
  if (imported.status !== 200) throw new Error(`import: ${imported.status} ${JSON.stringify(imported.body)}`);
  secrets = Object.fromEntries(imported.body.generatedSecrets.map((s) => [s.deviceId, s.secret]));
}, 60_000);

afterAll(async () => {
  await service?.stop();
  if (dataDir) removeDir(dataDir);
  await influx?.stop();
});

it('chains every acknowledged payload and frame, seals it, and the exported day verifies offline', async () => {
  const m1 = await connectDevice(service.mqttPort, 'ev-m1', secrets['ev-m1']);
  const x1 = await connectDevice(service.mqttPort, 'ev-x1', secrets['ev-x1']);
  const base = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
  for (let i = 0; i < 4; i += 1) {
    payloads.push(JSON.stringify([{ ts: new Date(base + i * 60_000).toISOString(), pm10: 60 + i, pm25: 30 }]));
    await publish(m1, 'ev-m1', payloads[i]);
  }
  await publish(m1, 'ev-m1', payloads[3]); // a redelivery: a receipt of its own, not a second reading
  await publish(x1, 'ev-x1', JSON.stringify([{ ts: new Date(base).toISOString(), pm10: 50 }]));
  const hj = await Hj212TestClient.connect(hjPort);
  const qn = `${beijingTimestamp(Date.now())}001`;
  hj.write(
    frame(
      `QN=${qn};ST=39;CN=2011;PW=${PW};MN=${MN};Flag=5;CP=&&DataTime=${beijingTimestamp(base)};a34002-Rtd=88.5;a34004-Rtd=40&&`,
    ),
  );
  await hj.answerTo(qn);
  hj.end();
  m1.end(true);
  x1.end(true);

  const key = await service.api<{ fingerprint: string }>('GET', '/api/evidence/key');
  expect(key.body.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  const sealed = await service.api<Sealed>('POST', '/api/evidence/seal');
  expect(sealed.status).toBe(200);
  expect(sealed.body.sealed).toEqual({ number: 1, leaves: 3, timestamped: 0 });

  const { status, zip } = await bundle('EV-1');
  expect(status).toBe(200);
  const ok = verify(zip, '--key', key.body.fingerprint);
  expect(ok.stdout).toContain('✓ 校验通过 VERIFIED');
  expect(ok.status).toBe(0);
  expect(ok.stdout).toContain('ev-m1: 5 条记录 entries (5 当日 in the day), 已证明至 proven through #5');
  expect(ok.stdout).toContain('ev-h1: 1 条记录 entries (1 当日 in the day), 已证明至 proven through #1');
  // Today is not over: what there is verifies, and the verifier says the day is not sealed to its end.
  expect(ok.stdout).toMatch(/注意 note: the day is not sealed to its end/);

  const files = unzipSync(zip);
  const entries = new TextDecoder()
    .decode(files['entries.jsonl'])
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { device: string; seq: number; payload: string });
  expect(entries.map((e) => `${e.device}#${e.seq}`)).toEqual([
    'ev-h1#1',
    'ev-m1#1',
    'ev-m1#2',
    'ev-m1#3',
    'ev-m1#4',
    'ev-m1#5',
  ]);
  expect(entries.filter((e) => e.device === 'ev-m1').map((e) => e.payload)).toEqual([...payloads, payloads[3]]);
  // The frame byte for byte, but for its password.
  expect(entries[0].payload).toContain(`;PW=******;MN=${MN};`);
  expect(entries[0].payload).not.toContain(PW);
  expect(verify(zip, '--key', '0'.repeat(64)).status).toBe(1);

  // One byte of ev-m1's second payload changed ("pm10":61 → 71), the ZIP rebuilt the way the service writes it.
  const text = new TextDecoder().decode(files['entries.jsonl']).replace('\\"pm10\\":61', '\\"pm10\\":71');
  const changed = zipSync(
    Object.fromEntries(
      Object.entries(files).map(([n, d]) => [
        n,
        [n === 'entries.jsonl' ? new TextEncoder().encode(text) : d, { level: 0, mtime: new Date(2000, 0, 1) }],
      ]),
    ),
  );
  const failed = verify(changed);
  expect(failed.status).toBe(1);
  expect(failed.stdout).toMatch(
    /→ entries\.jsonl 第 3 行 line 3 · ev-m1 #2 · 接收 received .+: ev-m1 #2: the entry does not match its hash \(changed\)/,
  );
});

it('continues each chain and the roots across a restart', async () => {
  await service.stop();
  await start();
  await sendOneReading(70);
  const sealed = await service.api<Sealed>('POST', '/api/evidence/seal');
  expect(sealed.body.sealed).toEqual({ number: 2, leaves: 1, timestamped: 0 });
  const out = verify((await bundle('EV-1')).zip);
  expect(out.stdout).toContain('ev-m1: 6 条记录 entries (6 当日 in the day), 已证明至 proven through #6');
  expect(out.stdout).toContain('签名根 signed roots: 2');
  expect(out.status).toBe(0);
});

it('timestamps roots at an RFC 3161 authority (OpenSSL), catches up on earlier ones, and keeps sealing while it is down', async () => {
  const tsa = await TsaServer.start();
  try {
    await service.stop();
    await start({ DUSTWATCH_TSA_URL: tsa.url });
    await sendOneReading(72);
    // Roots 1 and 2, sealed before a TSA was configured, got their tokens at start-up; root 3 now.
    expect((await service.api<Sealed>('POST', '/api/evidence/seal')).body.sealed).toEqual({
      number: 3,
      leaves: 1,
      timestamped: 1,
    });
    expect(tsa.requests.count).toBe(3);
    const { zip } = await bundle('EV-1');
    const checked = verify(zip, '--tsa-ca', tsa.caFile);
    expect(checked.stdout).toMatch(/可信时间戳 RFC 3161 timestamps: 3 of 3 roots, .+ signatures checked against /);
    expect(checked.status).toBe(0);
    // A token from another authority does not pass OpenSSL's check against this CA.
    const other = await TsaServer.start();
    try {
      expect(verify(zip, '--tsa-ca', other.caFile).stdout).toMatch(/root 1: the TSA token does not verify/);
    } finally {
      await other.stop();
    }
    // The authority gone: the root is still sealed, the failure counted, the token owed.
    await service.stop();
    await start({ DUSTWATCH_TSA_URL: `http://127.0.0.1:${await freePort()}/tsa` });
    const before = (await metric('dustwatch_evidence_timestamp_failures_total')) ?? 0;
    await sendOneReading(73);
    expect((await service.api<Sealed>('POST', '/api/evidence/seal')).body.sealed).toEqual({
      number: 4,
      leaves: 1,
      timestamped: 0,
    });
    expect((await metric('dustwatch_evidence_timestamp_failures_total')) - before).toBe(1);
    expect(verify((await bundle('EV-1')).zip).stdout).toMatch(/RFC 3161 timestamps: 3 of 4 roots/);
  } finally {
    await tsa.stop();
  }
});

it('gives bundles only to inspectors and refuses a day that is not a date', async () => {
  expect((await bundle('EV-1', null)).status).toBe(401);
  const bad = await service.api<{ message: string }>('GET', '/api/evidence/sites/EV-1/2026-13-01');
  expect(bad.status).toBe(400);
  expect((await service.api('GET', '/api/evidence/sites/NO-SUCH/2026-12-01')).status).toBe(404);
});
