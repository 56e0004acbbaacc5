import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InfluxServer } from './influx-server';
import Database from 'better-sqlite3';
import {
  TEST_DB,
  api,
  connectDevice,
  eventually,
  metricValue,
  provision,
  removeDir,
  spoolDrained,
  startTestService,
  testEnv,
  healthDetails,
} from './harness';
import { freePort } from './free-port';
import { publishOrClosed, publishReadings } from './publisher';

// "Nothing acknowledged is lost": InfluxDB stopped mid-stream, the spool at its quota, and the
// service killed with SIGKILL mid-stream. Real influxd, real broker over TCP, SQLite on disk.
const MAIN_JS = resolve(__dirname, '../../../dist/apps/ingest/apps/ingest/src/main.js');

let influx: InfluxServer;

beforeAll(async () => {
  influx = await InfluxServer.start();
});

afterAll(async () => {
  await influx?.stop();
});

async function storedTimes(deviceId: string): Promise<number[]> {
  const rows = await influx.rows(TEST_DB, `SELECT pm10 FROM raw.readings WHERE device = '${deviceId}'`).catch(() => []);
  return rows.map((r) => r.time as number);
}

const START = Date.now() - 6 * 3_600_000;
const RETRYABLE_FAILURES = 'dustwatch_influx_write_failures_total{kind="retryable"}';

it('keeps every acknowledged reading through an InfluxDB outage and drains the backlog in order', async () => {
  const service = await startTestService(influx);
  try {
    const secrets = await provision(service, 'OUT-1', ['outage-1']);
    const client = await connectDevice(service.mqttPort, 'outage-1', secrets['outage-1']);
    const failuresBefore = (await metricValue(service.baseUrl, RETRYABLE_FAILURES)) ?? 0;
    let paused: Promise<void> | null = null;
    let resumed: Promise<void> | null = null;
    let depthDuringOutage = 0;
    let statusDuringOutage = 0;
    const run = await publishReadings(client, 'outage-1', 3000, START, {
      onAck: (n) => {
        if (n === 1000) paused = influx.pause();
        if (n === 2000) {
          resumed = (async () => {
            await paused;
            const health = await healthDetails(service.baseUrl);
            statusDuringOutage = health.status;
            depthDuringOutage = health.body.spool.depth;
            // The outage lasts until the writer has met it: influxd's graceful shutdown can take as
            // long as the publishing, and a writer that never tried a write proves nothing.
            await eventually(
              () => metricValue(service.baseUrl, RETRYABLE_FAILURES),
              (v) => (v ?? 0) > failuresBefore,
              30_000,
              'a failed InfluxDB write during the outage',
            );
            await influx.resume();
          })();
        }
      },
    });
    await resumed;
    client.end(true);
    expect(run.failed).toBe(0);
    expect(run.acked).toHaveLength(3000);
    expect(statusDuringOutage).toBe(503);
    expect(depthDuringOutage).toBeGreaterThanOrEqual(900);
    const times = await eventually(
      () => storedTimes('outage-1'),
      (t) => t.length === 3000,
      60_000,
      'all 3000 readings in InfluxDB',
    );
    expect(times).toEqual(run.acked.slice().sort((a, b) => a - b));
    // InfluxDB can show the last batch a moment before the writer has its 204 and deletes it.
    await spoolDrained(service.baseUrl);
    expect(await metricValue(service.baseUrl, 'dustwatch_spool_depth')).toBe(0);
  } finally {
    await service.stop();
    removeDir(service.dataDir);
  }
});

it('stops acknowledging at the spool quota, says so, and recovers once InfluxDB drains it', async () => {
  const service = await startTestService(influx, { DUSTWATCH_SPOOL_QUOTA_MB: '1' });
  try {
    const secrets = await provision(service, 'QUO-1', ['quota-1']);
    await influx.pause();
    const client = await connectDevice(service.mqttPort, 'quota-1', secrets['quota-1']);
    // 400 readings per message (~30 KB of line protocol, more on disk with the journal and pages).
    let acked = 0;
    let refused = false;
    for (let m = 0; m < 100 && !refused; m++) {
      const batch = Array.from({ length: 400 }, (_, i) => ({
        ts: START + (m * 400 + i) * 1000,
        pm10: 10 + i,
        pm25: 5,
        tsp: 40,
        noise: 55,
      }));
      refused = (await publishOrClosed(client, 'devices/quota-1/readings', JSON.stringify(batch))) === 'closed';
      if (!refused) acked += 400;
    }
    expect(refused).toBe(true);
    // The quota is what the disk holds: spool.db and its WAL, not the line-protocol bytes.
    const onDisk = ['spool.db', 'spool.db-wal']
      .map((f) => join(service.dataDir, f))
      .reduce((sum, file) => sum + (existsSync(file) ? statSync(file).size : 0), 0);
    expect(onDisk).toBeLessThanOrEqual(1024 * 1024 + 128 * 1024);
    const health = await healthDetails(service.baseUrl);
    expect(health.status).toBe(503);
    expect(health.body.spool.overQuota).toBe(true);
    expect(await metricValue(service.baseUrl, 'dustwatch_spool_over_quota')).toBe(1);
    expect(
      await metricValue(service.baseUrl, 'dustwatch_mqtt_publishes_refused_total{reason="spool_full"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(service.logs.some((l) => l.includes('SPOOL AT QUOTA'))).toBe(true);
    client.end(true);

    await influx.resume();
    const times = await eventually(
      () => storedTimes('quota-1'),
      (t) => t.length === acked,
      60_000,
      'the acknowledged backlog',
    );
    expect(times).toHaveLength(acked);
    const again = await connectDevice(service.mqttPort, 'quota-1', secrets['quota-1']);
    await again.publishAsync('devices/quota-1/readings', JSON.stringify({ ts: START - 1000, pm10: 1 }), { qos: 1 });
    again.end(true);
    expect(await metricValue(service.baseUrl, 'dustwatch_spool_over_quota')).toBe(0);
  } finally {
    await service.stop();
    removeDir(service.dataDir);
  }
});

it('moves a batch InfluxDB refuses (HTTP 400) to spool_dead, counts it and keeps going', async () => {
  const service = await startTestService(influx);
  try {
    const secrets = await provision(service, 'DEAD-1', ['dead-1']);
    await eventually(
      async () => (await fetch(`${service.baseUrl}/health`)).status,
      (s) => s === 200,
      10_000,
      'the schema',
    );
    // Plant a field-type conflict: server_time as a float in this shard, where the service writes a boolean.
    const res = await fetch(`${influx.url}/write?db=${TEST_DB}&rp=raw&precision=ms`, {
      method: 'POST',
      body: `readings,device=planted,site=DEAD-1 server_time=1 ${Date.now() - 1000}`,
    });
    expect(res.status).toBe(204);
    const client = await connectDevice(service.mqttPort, 'dead-1', secrets['dead-1']);
    await client.publishAsync('devices/dead-1/readings', JSON.stringify({ pm10: 33 }), { qos: 1 }); // no ts → server_time=true
    const dead = await eventually(
      () => metricValue(service.baseUrl, 'dustwatch_spool_dead_lines'),
      (n) => n === 1,
      20_000,
      'the dead letter',
    );
    expect(dead).toBe(1);
    expect(await metricValue(service.baseUrl, 'dustwatch_influx_write_failures_total{kind="rejected"}')).toBe(1);
    expect(await metricValue(service.baseUrl, 'dustwatch_spool_depth')).toBe(0);
    expect(service.logs.some((l) => l.includes('moved it to spool_dead') && l.includes('field type conflict'))).toBe(
      true,
    );
    const ts = Date.now() - 5000;
    await client.publishAsync('devices/dead-1/readings', JSON.stringify({ ts, pm10: 34 }), { qos: 1 });
    client.end(true);
    expect(
      await eventually(
        () => storedTimes('dead-1'),
        (t) => t.length === 1,
        20_000,
        'the next reading',
      ),
    ).toEqual([ts]);
  } finally {
    await service.stop();
    removeDir(service.dataDir);
  }
});

describe('kill -9 of the service process', () => {
  let child: ChildProcess | null = null;
  const dataDir = mkdtempSync(join(tmpdir(), 'dustwatch-kill-'));

  afterAll(() => {
    child?.kill('SIGKILL');
    removeDir(dataDir);
  });

  async function startChild(httpPort: number, mqttPort: number): Promise<ChildProcess> {
    if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: build first (npx nx run ingest:build)`);
    const env = {
      ...process.env,
      ...testEnv(influx, dataDir, { DUSTWATCH_HTTP_PORT: String(httpPort), DUSTWATCH_MQTT_PORT: String(mqttPort) }),
    };
    const proc = spawn(process.execPath, [MAIN_JS], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    await eventually(
      async () => {
        try {
          return (await healthDetails(`http://127.0.0.1:${httpPort}`)).body.broker.listening;
        } catch {
          return false;
        }
      },
      (up) => up,
      30_000,
      'the service to listen',
    );
    return proc;
  }

  it('loses no acknowledged reading when killed mid-stream', async () => {
    const httpPort = await freePort();
    const mqttPort = await freePort();
    child = await startChild(httpPort, mqttPort);
    const baseUrl = `http://127.0.0.1:${httpPort}`;
    const secrets = await provision({ api: (m, p, b) => api(baseUrl, m, p, b) }, 'KILL-1', ['kill-1']);
    const client = await connectDevice(mqttPort, 'kill-1', secrets['kill-1'], { reconnectPeriod: 0 });
    const victim = child;
    // InfluxDB goes down first, so at the kill at least 1,000 acknowledged readings exist only in
    // the spool: the restart must find and deliver them.
    let outage: Promise<void> | null = null;
    const run = await publishReadings(client, 'kill-1', 20_000, START, {
      onAck: (n) => {
        if (n === 2000) outage = influx.pause();
        if (n === 3000) victim.kill('SIGKILL');
      },
    });
    await outage;
    const beforeRestart = await (async () => {
      await influx.resume();
      return storedTimes('kill-1');
    })();
    expect(beforeRestart.length).toBeLessThanOrEqual(2000 + 100);
    client.end(true);
    await new Promise<void>((r) =>
      victim.exitCode !== null || victim.signalCode !== null ? r() : victim.once('exit', () => r()),
    );
    expect(victim.signalCode).toBe('SIGKILL');
    expect(run.acked.length).toBeGreaterThanOrEqual(3000);
    expect(run.acked.length).toBeLessThan(20_000);

    // What the restarted service will deliver: the spool as the kill left it. No reading in it twice.
    const spool = new Database(join(dataDir, 'spool.db'));
    const spooledTimes = (spool.prepare('SELECT line FROM spool').all() as { line: string }[]).map((r) =>
      Number(r.line.slice(r.line.lastIndexOf(' ') + 1)),
    );
    spool.close();
    expect(spooledTimes.length).toBeGreaterThanOrEqual(1000);
    expect(new Set(spooledTimes).size).toBe(spooledTimes.length);

    child = await startChild(httpPort, mqttPort);
    const acked = new Set(run.acked);
    const times = await eventually(
      () => storedTimes('kill-1'),
      (t) => t.filter((x) => acked.has(x)).length === acked.size,
      60_000,
      'every acknowledged reading',
    );
    expect(run.acked.filter((t) => !times.includes(t))).toEqual([]);
    // InfluxDB merges a point written twice, so the stored times alone cannot show a double
    // write. The restarted process's own counter can: it wrote each spooled reading once.
    await spoolDrained(baseUrl, 60_000);
    expect(await metricValue(baseUrl, 'dustwatch_influx_points_written_total')).toBe(spooledTimes.length);
    child.kill('SIGTERM');
    await new Promise<void>((r) => child!.once('exit', () => r()));
    child = null;
  });
});
