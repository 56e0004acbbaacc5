/**
 * bench:cluster — readings/s end to end (broker PUBACK to the device, instance durable, counted
 * in InfluxDB) through Debian's Mosquitto 2 with 1, 2 and 3 Dustwatch instances on one
 * PostgreSQL, and in the same run Mosquitto's bare QoS 1 figure (the same devices, payloads and
 * window, one plain QoS 1 subscriber) as the ceiling; CPU per reading per process.
 *
 *   npm run bench:cluster -- [--devices 152] [--per-device 300] [--window 32] [--consumers 16]
 */
import { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { ThrowawayPostgres } from '@dustwatch/store-postgres';
import { freePort } from '../../apps/ingest/test/free-port';
import { InfluxServer } from '../../apps/ingest/test/influx-server';
import { INSTANCE_USER, MosquittoServer } from '../../apps/ingest/test/mosquitto-server';
import { connectAll, percentile, runLoad } from '../../devices-sim/src/load';
import { arg, cpuSeconds, log, machine, provisionDevices, spawnService, stopChild, waitFor } from './common';

const DEVICES = arg('devices', 152);
const PER_DEVICE = arg('per-device', 300);
const WINDOW = arg('window', 32);
const CONSUMERS = arg('consumers', 16);
const HOUR = 3_600_000;

interface Instance {
  readonly id: string;
  readonly base: string;
  readonly dataDir: string;
  readonly proc: ChildProcess;
}

async function main(): Promise<void> {
  const [influx, postgres, broker] = await Promise.all([
    InfluxServer.start(),
    ThrowawayPostgres.start(),
    MosquittoServer.start(),
  ]);
  const databaseUrl = await postgres.database();
  const instances: Instance[] = [];
  const startInstance = async (id: string): Promise<Instance> => {
    const httpPort = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), `dustwatch-bench-cluster-${id}-`));
    const proc = spawnService({
      DUSTWATCH_HTTP_PORT: String(httpPort),
      DUSTWATCH_DATA_DIR: dataDir,
      DUSTWATCH_INFLUX_URL: influx.url,
      DUSTWATCH_INFLUX_DB: 'bench',
      DUSTWATCH_DATABASE_URL: databaseUrl,
      DUSTWATCH_MQTT_BROKER_URL: broker.url,
      DUSTWATCH_MQTT_BROKER_USERNAME: INSTANCE_USER.username,
      DUSTWATCH_MQTT_BROKER_PASSWORD: INSTANCE_USER.password,
      DUSTWATCH_MQTT_BROKER_AUTH: 'mosquitto-dynsec',
      DUSTWATCH_MQTT_BROKER_CONSUMERS: String(CONSUMERS),
      DUSTWATCH_INSTANCE_ID: id,
      DUSTWATCH_SNAPSHOT_SECONDS: '0',
      DUSTWATCH_REPORT_HOUR: '-1',
    });
    const base = `http://127.0.0.1:${httpPort}`;
    await waitFor(async () => (await fetch(`${base}/health`)).status === 200, 60_000, `instance ${id}`);
    const instance = { id, base, dataDir, proc };
    instances.push(instance);
    return instance;
  };
  const stored = async (from: number, to: number): Promise<number> => {
    const rows = await influx.rows(
      'bench',
      `SELECT count(pm10) FROM raw.readings WHERE time >= ${from}ms AND time < ${to}ms`,
    );
    return Number(rows[0]?.count ?? 0);
  };
  try {
    const first = await startInstance('a');
    log(`provisioning ${DEVICES} devices (their Mosquitto accounts with them)`);
    const devices = await provisionDevices(first.base, 'BENCH', 'bench', DEVICES);
    const ids = devices.map((d) => d.id);
    const clients = await connectAll(broker.port, devices);
    const total = DEVICES * PER_DEVICE;
    const phases: Record<string, unknown>[] = [];

    for (const n of [1, 2, 3]) {
      while (instances.length < n) await startInstance(['a', 'b', 'c'][instances.length]);
      // Each phase its own hour of readings, so InfluxDB counts this phase's alone.
      const startTs = Date.now() - (10 - n) * HOUR;
      log(`${n} instance(s): ${DEVICES} devices × ${PER_DEVICE} readings, window ${WINDOW}`);
      const cpuBefore = [
        ...instances.map((i) => cpuSeconds(i.proc.pid)),
        cpuSeconds(broker.pid),
        cpuSeconds(influx.pid),
      ];
      const started = process.hrtime.bigint();
      const load = await runLoad(clients, ids, PER_DEVICE, WINDOW, startTs);
      let count = 0;
      await waitFor(
        async () => (count = await stored(startTs, startTs + HOUR)) >= load.acked,
        300_000,
        'InfluxDB to hold every acknowledged reading',
      );
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const cpu = [...instances.map((i) => cpuSeconds(i.proc.pid)), cpuSeconds(broker.pid), cpuSeconds(influx.pid)].map(
        (after, k) => after - cpuBefore[k],
      );
      const sorted = load.latenciesMs.slice().sort();
      phases.push({
        instances: n,
        acked: load.acked,
        errors: load.errors,
        storedInInflux: count,
        endToEndReadingsPerSecond: Math.round(count / seconds),
        brokerPubackPerSecond: Math.round(load.acked / load.seconds),
        devicePubackMs: { p50: +percentile(sorted, 50).toFixed(2), p99: +percentile(sorted, 99).toFixed(2) },
        cpuMicrosecondsPerReading: {
          ...Object.fromEntries(instances.map((i, k) => [`instance-${i.id}`, Math.round((cpu[k] / total) * 1e6)])),
          mosquitto: Math.round((cpu[instances.length] / total) * 1e6),
          influxd: Math.round((cpu[instances.length + 1] / total) * 1e6),
        },
      });
    }
    for (const i of instances) await stopChild(i.proc);

    log('bare Mosquitto: the same devices and payloads, one plain QoS 1 subscriber');
    // The instances' sessions would keep collecting their share while stopped: end them first.
    for (const i of instances)
      for (let k = 1; k <= CONSUMERS; k++) {
        const c = await mqtt.connectAsync(broker.url, {
          clientId: `dustwatch-${i.id}-${k}`,
          username: INSTANCE_USER.username,
          password: INSTANCE_USER.password,
          protocolVersion: 5,
          clean: true,
        });
        await c.endAsync();
      }
    const subscriber = await mqtt.connectAsync(broker.url, {
      clientId: 'bench-bare-subscriber',
      username: INSTANCE_USER.username,
      password: INSTANCE_USER.password,
      protocolVersion: 5,
    });
    let received = 0;
    subscriber.on('message', () => received++);
    await subscriber.subscribeAsync('devices/+/readings', { qos: 1 });
    const bareCpu = cpuSeconds(broker.pid);
    const bareStarted = process.hrtime.bigint();
    const bare = await runLoad(clients, ids, PER_DEVICE, WINDOW, Date.now() - 12 * HOUR);
    await waitFor(async () => received >= bare.acked, 120_000, 'the subscriber to get every message');
    const bareSeconds = Number(process.hrtime.bigint() - bareStarted) / 1e9;
    const bareSorted = bare.latenciesMs.slice().sort();
    await subscriber.endAsync();
    for (const c of clients) c.end(true);

    const bareRate = Math.round(received / bareSeconds);
    const result = {
      machine: machine(),
      load: {
        devices: DEVICES,
        perDevice: PER_DEVICE,
        window: WINDOW,
        consumersPerInstance: CONSUMERS,
        readings: total,
      },
      dustwatch: phases,
      bareMosquitto: {
        deliveredPerSecond: bareRate,
        devicePubackMs: { p50: +percentile(bareSorted, 50).toFixed(2), p99: +percentile(bareSorted, 99).toFixed(2) },
        cpuMicrosecondsPerReading: { mosquitto: Math.round(((cpuSeconds(broker.pid) - bareCpu) / total) * 1e6) },
      },
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(
      phases
        .map(
          (p) =>
            `${p.instances} instance(s): ${p.endToEndReadingsPerSecond} readings/s end to end (${((Number(p.endToEndReadingsPerSecond) / bareRate) * 100).toFixed(0)} % of bare)`,
        )
        .join('\n') + `\nbare Mosquitto QoS 1: ${bareRate} msg/s delivered\n`,
    );
  } catch (error) {
    process.stderr.write(`bench:cluster failed: ${(error as Error).stack}\n`);
    process.exitCode = 1;
  } finally {
    for (const i of instances) {
      await stopChild(i.proc);
      rmSync(i.dataDir, { recursive: true, force: true });
    }
    await broker.stop();
    await postgres.stop();
    await influx.stop();
  }
}

main().catch((error: Error) => {
  process.stderr.write(`bench:cluster failed: ${error.message}\n`);
  process.exit(1);
});
