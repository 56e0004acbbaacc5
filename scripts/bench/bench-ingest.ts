/**
 * bench:ingest — N devices publish QoS 1 readings through the ingest service into a real
 * InfluxDB; prints end-to-end readings/s (counted in InfluxDB), PUBACK latency and the
 * service's peak RSS, and, in the same run on the same machine, the bare aedes broker's QoS 1
 * throughput with the same clients and payloads as the ceiling.
 *
 *   npm run bench:ingest -- [--devices 152] [--per-device 1000] [--window 32]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { InfluxServer } from '../../apps/ingest/test/influx-server';
import { freePort } from '../../apps/ingest/test/free-port';
import { connectAll, percentile, runLoad, LoadResult } from '../../devices-sim/src/load';
import { arg, cpuSeconds, log, machine, peakRssMb, provisionDevices, spawnService, stopChild, waitFor } from './common';

const DEVICES = arg('devices', 152);
const PER_DEVICE = arg('per-device', 1000);
const WINDOW = arg('window', 32);

function summary(result: LoadResult): { msgsPerS: number; p50: number; p90: number; p99: number; max: number } {
  const sorted = result.latenciesMs.slice().sort();
  return {
    msgsPerS: result.acked / result.seconds,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
  };
}

async function bareBroker(
  ids: string[],
): Promise<{ result: LoadResult; brokerCpuSeconds: number; loadGeneratorCpuSeconds: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(__dirname, 'bare-broker.js'), String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((r) => child.stdout!.once('data', () => r()));
  const clients = await connectAll(
    port,
    ids.map((id) => ({ id })),
  );
  const cpuBefore = cpuSeconds(child.pid);
  const lgBefore = process.cpuUsage();
  const result = await runLoad(clients, ids, PER_DEVICE, WINDOW, Date.now() - 3_600_000);
  const brokerCpuSeconds = cpuSeconds(child.pid) - cpuBefore;
  const lg = process.cpuUsage(lgBefore);
  for (const c of clients) c.end(true);
  await stopChild(child);
  return { result, brokerCpuSeconds, loadGeneratorCpuSeconds: (lg.user + lg.system) / 1e6 };
}

async function main(): Promise<void> {
  const influx = await InfluxServer.start();
  const dataDir = mkdtempSync(join(tmpdir(), 'dustwatch-bench-'));
  const httpPort = await freePort();
  const mqttPort = await freePort();
  // BENCH_SERVICE_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the service.
  const service = spawnService({
    DUSTWATCH_HTTP_PORT: String(httpPort),
    DUSTWATCH_MQTT_PORT: String(mqttPort),
    DUSTWATCH_DATA_DIR: dataDir,
    DUSTWATCH_INFLUX_URL: influx.url,
    DUSTWATCH_INFLUX_DB: 'bench',
  });
  try {
    const base = `http://127.0.0.1:${httpPort}`;
    await waitFor(async () => (await fetch(`${base}/health`)).status === 200, 30_000, 'the service');
    log(`provisioning ${DEVICES} devices`);
    const devices = await provisionDevices(base, 'BENCH', 'bench', DEVICES);
    const ids = devices.map((d) => d.id);
    const total = DEVICES * PER_DEVICE;

    log(`dustwatch: ${DEVICES} devices × ${PER_DEVICE} readings, window ${WINDOW}`);
    const clients = await connectAll(mqttPort, devices);
    // Live data: inside the CQ's look-back, as a fleet reporting in real time would be.
    const startTs = Date.now() - 30 * 60_000;
    const cpuBefore = {
      service: cpuSeconds(service.pid),
      influxd: cpuSeconds(influx.pid),
      loadGenerator: process.cpuUsage(),
    };
    const started = process.hrtime.bigint();
    const load = await runLoad(clients, ids, PER_DEVICE, WINDOW, startTs);
    let stored = 0;
    await waitFor(
      async () => {
        const rows = await influx.rows('bench', 'SELECT count(pm10) FROM raw.readings');
        stored = Number(rows[0]?.count ?? 0);
        return stored >= load.acked;
      },
      300_000,
      'InfluxDB to hold every acknowledged reading',
    );
    const endToEndSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const lg = process.cpuUsage(cpuBefore.loadGenerator);
    const cpu = {
      service: +(cpuSeconds(service.pid) - cpuBefore.service).toFixed(2),
      influxd: +(cpuSeconds(influx.pid) - cpuBefore.influxd).toFixed(2),
      loadGenerator: +((lg.user + lg.system) / 1e6).toFixed(2),
      wallSeconds: +endToEndSeconds.toFixed(2),
    };
    const rss = peakRssMb(service.pid!);
    for (const c of clients) c.end(true);
    const ingest = summary(load);

    log('bare aedes broker, same clients and payloads');
    const bareRun = await bareBroker(ids);
    const bare = summary(bareRun.result);

    const endToEnd = stored / endToEndSeconds;
    const result = {
      machine: machine(),
      load: { devices: DEVICES, perDevice: PER_DEVICE, window: WINDOW, readings: total },
      dustwatch: {
        acked: load.acked,
        errors: load.errors,
        storedInInflux: stored,
        pubackPerSecond: Math.round(ingest.msgsPerS),
        endToEndReadingsPerSecond: Math.round(endToEnd),
        pubackLatencyMs: {
          p50: +ingest.p50.toFixed(2),
          p90: +ingest.p90.toFixed(2),
          p99: +ingest.p99.toFixed(2),
          max: +ingest.max.toFixed(2),
        },
        peakRssMiB: Math.round(rss),
        cpuSecondsDuringRun: cpu,
      },
      bareAedes: {
        pubackPerSecond: Math.round(bare.msgsPerS),
        pubackLatencyMs: { p50: +bare.p50.toFixed(2), p99: +bare.p99.toFixed(2) },
        cpuSecondsDuringRun: {
          broker: +bareRun.brokerCpuSeconds.toFixed(2),
          loadGenerator: +bareRun.loadGeneratorCpuSeconds.toFixed(2),
          wallSeconds: +bareRun.result.seconds.toFixed(2),
        },
      },
      cpuMicrosecondsPerReading: {
        service: Math.round((cpu.service / total) * 1e6),
        influxd: Math.round((cpu.influxd / total) * 1e6),
        loadGenerator: Math.round((cpu.loadGenerator / total) * 1e6),
        bareBroker: Math.round((bareRun.brokerCpuSeconds / total) * 1e6),
      },
      ratioEndToEndToBare: +(endToEnd / bare.msgsPerS).toFixed(3),
      goals: { endToEndAtLeast20000: endToEnd >= 20_000, atLeast60PercentOfBare: endToEnd / bare.msgsPerS >= 0.6 },
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(
      `\nend-to-end ${Math.round(endToEnd)} readings/s (InfluxDB-counted), PUBACK p50 ${ingest.p50.toFixed(1)} ms p99 ${ingest.p99.toFixed(1)} ms, peak RSS ${Math.round(rss)} MiB\n` +
        `bare aedes ${Math.round(bare.msgsPerS)} msg/s → ratio ${((endToEnd / bare.msgsPerS) * 100).toFixed(0)} %\n`,
    );
  } catch (error) {
    process.stderr.write(`bench:ingest failed: ${(error as Error).stack}\n`);
    process.exitCode = 1;
  } finally {
    await stopChild(service);
    await influx.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  process.stderr.write(`bench:ingest failed: ${error.message}\n`);
  process.exit(1);
});
