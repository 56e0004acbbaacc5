/**
 * bench:hj212 — N monitors upload HJ 212-2017 real-time frames over TCP through the ingest
 * service into a real InfluxDB; prints frames answered (CN 9014) per second, answer latency
 * p50/p99, and end-to-end readings/s counted in InfluxDB — and, in the same run with the same
 * service, the same devices and readings over MQTT QoS 1 (PUBACK) as the comparison.
 *
 *   npm run bench:hj212 -- [--devices 152] [--per-device 500] [--window 8]
 */
import { Socket, createConnection } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfluxServer } from '../../apps/ingest/test/influx-server';
import { freePort } from '../../apps/ingest/test/free-port';
import { Hj212Framer, beijingTimestamp, frame } from '../../libs/telemetry/src';
import { adminPost, arg, cpuSeconds, latencySummary, log, machine, spawnService, stopChild, waitFor } from './common';
import { generate } from 'mqtt-packet';
import { rawConnect } from './raw-device';

const DEVICES = arg('devices', 152);
const PER_DEVICE = arg('per-device', 500);
const WINDOW = arg('window', 8);

interface Device {
  id: string;
  secret: string;
  mn: string;
  pw: string;
}

/** One HJ 212 monitor: frames with Flag=5 (answer wanted), at most WINDOW awaiting their 9014. */
function hj212Device(port: number, d: Device, start: number, latencies: number[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket: Socket = createConnection({ host: '127.0.0.1', port });
    const framer = new Hj212Framer();
    const sentAt = new Map<string, number>();
    let next = 0;
    let answered = 0;
    const send = (): void => {
      while (next < PER_DEVICE && sentAt.size < WINDOW) {
        const i = next++;
        const qn = `${beijingTimestamp(start + i * 1000)}${String(i % 1000).padStart(3, '0')}`;
        const cp = `DataTime=${beijingTimestamp(start + i * 1000)};a34002-Rtd=${40 + (i % 60)},a34002-Flag=N;a34004-Rtd=20;a34001-Rtd=90;LA-Rtd=60.5`;
        sentAt.set(qn, performance.now());
        socket.write(frame(`QN=${qn};ST=39;CN=2011;PW=${d.pw};MN=${d.mn};Flag=5;CP=&&${cp}&&`), 'latin1');
      }
    };
    socket.on('connect', send);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      for (const e of framer.push(chunk)) {
        if (e.kind !== 'frame' || !e.data.includes('CN=9014')) continue;
        const qn = /QN=(\d+)/.exec(e.data)![1];
        const t = sentAt.get(qn);
        if (t === undefined) continue;
        latencies.push(performance.now() - t);
        sentAt.delete(qn);
        answered += 1;
      }
      if (answered === PER_DEVICE) {
        socket.end();
        resolve(answered);
      } else send();
    });
  });
}

/** The same readings as contract v1 over MQTT QoS 1, at most WINDOW awaiting their PUBACK. */
async function mqttDevice(port: number, d: Device, start: number, latencies: number[]): Promise<number> {
  const { code, socket } = await rawConnect({ port, id: d.id, secret: d.secret });
  if (code !== 0) throw new Error(`${d.id}: CONNACK ${code}`);
  return new Promise((resolve) => {
    const sentAt = new Map<number, number>();
    let next = 0;
    let acked = 0;
    let pending = Buffer.alloc(0);
    const send = (): void => {
      while (next < PER_DEVICE && sentAt.size < WINDOW) {
        const i = next++;
        const messageId = (i % 65_000) + 1;
        const payload = JSON.stringify({ ts: start + i * 1000, pm10: 40 + (i % 60), pm25: 20, tsp: 90, noise: 60.5 });
        sentAt.set(messageId, performance.now());
        socket.write(
          generate({
            cmd: 'publish',
            topic: `devices/${d.id}/readings`,
            payload,
            qos: 1,
            messageId,
            retain: false,
            dup: false,
          }),
        );
      }
    };
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      // PUBACK: 0x40 0x02 id-high id-low; nothing else is sent to a device that subscribes to nothing.
      while (pending.length >= 4 && pending[0] === 0x40) {
        const t = sentAt.get(pending.readUInt16BE(2));
        if (t !== undefined) {
          latencies.push(performance.now() - t);
          sentAt.delete(pending.readUInt16BE(2));
          acked += 1;
        }
        pending = pending.subarray(4);
      }
      if (acked === PER_DEVICE) {
        socket.destroy();
        resolve(acked);
      } else send();
    });
    send();
  });
}

async function main(): Promise<void> {
  const influx = await InfluxServer.start();
  const dataDir = mkdtempSync(join(tmpdir(), 'dustwatch-bench-hj212-'));
  const httpPort = await freePort();
  const mqttPort = await freePort();
  const hjPort = await freePort();
  const service = spawnService({
    DUSTWATCH_HTTP_PORT: String(httpPort),
    DUSTWATCH_MQTT_PORT: String(mqttPort),
    DUSTWATCH_HJ212_PORT: String(hjPort),
    // Every bench device comes from 127.0.0.1; real monitors come from their own addresses.
    DUSTWATCH_HJ212_MAX_CONNECTIONS_PER_ADDRESS: '100000',
    DUSTWATCH_DATA_DIR: dataDir,
    DUSTWATCH_INFLUX_URL: influx.url,
    DUSTWATCH_INFLUX_DB: 'bench',
    DUSTWATCH_SNAPSHOT_SECONDS: '0',
  });
  try {
    const base = `http://127.0.0.1:${httpPort}`;
    await waitFor(async () => (await fetch(`${base}/health`)).status === 200, 30_000, 'the service');
    const devices: Device[] = Array.from({ length: DEVICES }, (_, i) => ({
      id: `hj-${String(i).padStart(4, '0')}`,
      secret: `bench-secret-${i}-0123456789abcdef`,
      mn: `BENCHMN${String(i).padStart(6, '0')}`,
      pw: String(100000 + i),
    }));
    log(`importing ${DEVICES} devices`);
    await adminPost(base, '/api/fleet/import', {
      version: 1,
      sites: Array.from({ length: Math.ceil(DEVICES / 100) }, (_, s) => ({
        id: `HJB-${s}`,
        name: `bench ${s}`,
        district: 'Luzhou',
        lat: 36.2,
        lon: 113.1,
        devices: devices
          .slice(s * 100, s * 100 + 100)
          .map((d) => ({ id: d.id, model: 'B', kind: 'site', secret: d.secret, hj212: { mn: d.mn, password: d.pw } })),
      })),
    });

    const count = async (from: number): Promise<number> =>
      Number(
        (
          await influx.rows(
            'bench',
            `SELECT count(pm10) FROM raw.readings WHERE time >= ${from}ms AND time < ${from + PER_DEVICE * 1000}ms`,
          )
        )[0]?.count ?? 0,
      );
    const results: Record<string, unknown> = {};
    // Live data, inside the rules' horizon: each protocol its own hour so the counts stay apart;
    // whole minutes, as DataTime has no milliseconds.
    const minute = (t: number): number => Math.floor(t / 60_000) * 60_000;
    for (const [protocol, start] of [
      ['hj212', minute(Date.now() - 50 * 60_000)],
      ['mqtt', minute(Date.now() - 110 * 60_000)],
    ] as const) {
      log(`${protocol}: ${DEVICES} devices × ${PER_DEVICE} readings`);
      const latencies: number[] = [];
      const cpuBefore = cpuSeconds(service.pid);
      const started = performance.now();
      const acked = (
        await Promise.all(
          devices.map((d) =>
            protocol === 'hj212' ? hj212Device(hjPort, d, start, latencies) : mqttDevice(mqttPort, d, start, latencies),
          ),
        )
      ).reduce((a, b) => a + b, 0);
      const ackSeconds = (performance.now() - started) / 1000;
      await waitFor(async () => (await count(start)) >= acked, 300_000, `InfluxDB to hold every ${protocol} reading`);
      const endToEnd = (performance.now() - started) / 1000;
      results[protocol] = {
        acknowledged: acked,
        inInflux: await count(start),
        acknowledgedPerSecond: Math.round(acked / ackSeconds),
        endToEndReadingsPerSecond: Math.round(acked / endToEnd),
        ackLatencyMs: latencySummary(latencies),
        serviceCpuMicrosecondsPerReading: Math.round(((cpuSeconds(service.pid) - cpuBefore) * 1e6) / acked),
      };
    }
    process.stdout.write(
      JSON.stringify(
        { machine: machine(), load: { devices: DEVICES, perDevice: PER_DEVICE, hj212Window: WINDOW }, ...results },
        null,
        2,
      ) + '\n',
    );
  } finally {
    await stopChild(service);
    await influx.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
