/**
 * bench:alerts — alert latency, from the publish of the crossing reading to the signed webhook's
 * arrival at a receiver, through the built service, a real InfluxDB and the embedded broker.
 *
 * "fleet": 152 devices each report once a second (60× a real monitor); ~10 of them a second send
 * a crossing reading, which opens an alert, and resolve it with their next reading.
 * "full load": the same while bench:ingest-level load runs (152 other devices, single QoS 1
 * readings as fast as PUBACKs return, window 32) through the same service.
 * "alert storm": every device crosses every other second (76 alerts opened and 76 resolved a
 * second), far beyond any real city, to show where the alert path saturates.
 *
 * The crossing rule is an extra rule in the bench's rule file — PM10 ≥ 1000 over a 1-minute
 * window, cleared below 500 — so every crossing reading opens an alert by itself; the default
 * rules run alongside it on every reading. In the same run it prints the bare webhook round
 * trip (the receiver answering a plain POST) as the floor.
 *
 *   npm run bench:alerts -- [--devices 152] [--seconds 30] [--stride 15] [--load-per-device 3000] [--phases fleet,full,storm]
 */
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { MqttClient } from 'mqtt';
import { InfluxServer } from '../../apps/ingest/test/influx-server';
import { freePort } from '../../apps/ingest/test/free-port';
import { connectAll, percentile, runLoad } from '../../devices-sim/src/load';
import { ROOT, arg, cpuSeconds, log, machine, provisionDevices, spawnService, stopChild, waitFor } from './common';

const DEVICES = arg('devices', 152);
const SECONDS = arg('seconds', 30);
/** Every STRIDE-th device crosses each second: 152 / 15 ≈ 10 alerts opened (and 10 resolved) a second. */
const STRIDE = arg('stride', 15);
const PHASES = (
  process.argv.includes('--phases') ? process.argv[process.argv.indexOf('--phases') + 1] : 'fleet,full,storm'
).split(',');
const LOAD_PER_DEVICE = arg('load-per-device', 3000);
const MIN = 60_000;

interface Stats {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}
function stats(values: number[]): Stats {
  const sorted = Float64Array.from(values).sort();
  const round = (x: number | undefined): number => (x === undefined ? NaN : +x.toFixed(1));
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1]),
  };
}

/**
 * The fleet reporting: every device publishes one reading a second (60× a real monitor's rate),
 * spread over the second. In each round the devices with i % stride == round % stride publish a
 * crossing reading (PM10 2000) instead of a normal one (PM10 80, which also resolves their
 * previous alert). Each reading has its own 1-minute window (stamps 2 minutes apart).
 */
async function fleetRounds(
  clients: MqttClient[],
  ids: string[],
  seconds: number,
  stride: number,
  firstTs: number,
  sent: Map<string, number>,
  latencies: number[],
): Promise<{ crossings: number; readings: number }> {
  let crossings = 0;
  for (let round = 0; round < seconds; round++) {
    const roundStart = performance.now();
    const ts = firstTs + round * 2 * MIN;
    clients.forEach((client, i) => {
      const crossing = i % stride === round % stride;
      if (crossing) crossings++;
      setTimeout(
        () => {
          if (crossing) sent.set(ids[i], performance.now());
          client.publish(`devices/${ids[i]}/readings`, JSON.stringify({ ts, pm10: crossing ? 2000 : 80 }), { qos: 1 });
        },
        (i / clients.length) * 1000,
      );
    });
    await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (performance.now() - roundStart))));
  }
  await waitFor(async () => latencies.length >= crossings, 30_000, 'every alert at the webhook').catch(() => undefined);
  // A normal reading from everyone resolves the last round's alerts, so the next phase starts clean.
  await Promise.all(
    clients.map((client, i) =>
      client.publishAsync(`devices/${ids[i]}/readings`, JSON.stringify({ ts: firstTs + seconds * 2 * MIN, pm10: 80 }), {
        qos: 1,
      }),
    ),
  );
  await new Promise((r) => setTimeout(r, 1000));
  return { crossings, readings: seconds * clients.length };
}

async function main(): Promise<void> {
  const influx = await InfluxServer.start();
  const dataDir = mkdtempSync(join(tmpdir(), 'dustwatch-bench-alerts-'));
  const [httpPort, mqttPort, hookPort] = [await freePort(), await freePort(), await freePort()];

  // The webhook receiver: notes when each device's "opened" arrives.
  const sent = new Map<string, number>();
  let latencies: number[] = [];
  let deliveries = 0;
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const arrived = performance.now();
      deliveries++;
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        event: { type: string };
        alert: { deviceId: string; rule: string };
      };
      if (body.event.type === 'opened' && body.alert.rule === 'bench-crossing') {
        const at = sent.get(body.alert.deviceId);
        if (at !== undefined) latencies.push(arrived - at);
        sent.delete(body.alert.deviceId);
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(hookPort, '127.0.0.1', () => r()));

  // The rules the service ships with (from the build), plus the bench's crossing rule.
  const { DEFAULT_RULES_FILE } = (await import(join(ROOT, 'dist/apps/ingest/libs/rules/src/index.js'))) as {
    DEFAULT_RULES_FILE: { rules: unknown[] };
  };
  const rulesFile = join(dataDir, 'bench-rules.json');
  writeFileSync(
    rulesFile,
    JSON.stringify({
      evaluationHorizonMinutes: 10_080,
      rules: [
        ...DEFAULT_RULES_FILE.rules,
        {
          id: 'bench-crossing',
          kind: 'window',
          metric: 'pm10',
          windowMinutes: 1,
          raise: [{ severity: 'warning', op: '>=', value: 1000 }],
          clear: { op: '<', value: 500 },
        },
      ],
    }),
  );
  const service = spawnService({
    DUSTWATCH_HTTP_PORT: String(httpPort),
    DUSTWATCH_MQTT_PORT: String(mqttPort),
    DUSTWATCH_DATA_DIR: dataDir,
    DUSTWATCH_INFLUX_URL: influx.url,
    DUSTWATCH_INFLUX_DB: 'bench',
    DUSTWATCH_RULES_FILE: rulesFile,
    DUSTWATCH_WEBHOOK_URL: `http://127.0.0.1:${hookPort}/hook`,
    DUSTWATCH_WEBHOOK_SECRET: 'bench-webhook-secret-0123',
    DUSTWATCH_ALERT_RENOTIFY_MINUTES: '0',
  });
  try {
    const base = `http://127.0.0.1:${httpPort}`;
    await waitFor(async () => (await fetch(`${base}/health`)).status === 200, 30_000, 'the service');

    // Floor: a plain POST round trip to the same receiver from this process.
    const floor: number[] = [];
    for (let i = 0; i < 500; i++) {
      const t = performance.now();
      await fetch(`http://127.0.0.1:${hookPort}/hook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ event: { type: 'floor' }, alert: { deviceId: '-', rule: '-' } }),
      });
      floor.push(performance.now() - t);
    }

    log(`provisioning ${DEVICES} probe devices and ${DEVICES} load devices`);
    const probes = await provisionDevices(base, 'PROBES', 'probe', DEVICES);
    const loaders = await provisionDevices(base, 'LOAD', 'load', DEVICES);
    const probeClients = await connectAll(mqttPort, probes);
    const probeIds = probes.map((d) => d.id);

    const phase = async (name: string, stride: number, firstTs: number, withLoad: boolean) => {
      latencies = [];
      sent.clear();
      log(
        `${name}: ${DEVICES} devices reporting every second, ${Math.round(DEVICES / stride)} crossings a second${withLoad ? `, while ${DEVICES} other devices × ${LOAD_PER_DEVICE} readings run at full speed` : ''}`,
      );
      const loadClients = withLoad ? await connectAll(mqttPort, loaders) : [];
      const loadRun = withLoad
        ? runLoad(
            loadClients,
            loaders.map((d) => d.id),
            LOAD_PER_DEVICE,
            32,
            Date.now() - LOAD_PER_DEVICE * 1000 - 10 * MIN,
          )
        : null;
      if (loadRun) await new Promise((r) => setTimeout(r, 1000)); // let the load reach its pace
      const cpu = cpuSeconds(service.pid);
      const t = performance.now();
      const run = await fleetRounds(probeClients, probeIds, SECONDS, stride, firstTs, sent, latencies);
      const serviceCpuCores = +((cpuSeconds(service.pid) - cpu) / ((performance.now() - t) / 1000)).toFixed(2);
      const load = loadRun ? await loadRun : null;
      for (const c of loadClients) c.end(true);
      return {
        crossingsPerSecond: Math.round(DEVICES / stride),
        alertsExpected: run.crossings,
        alertsReceived: latencies.length,
        latencyMs: stats(latencies),
        serviceCpuCores,
        ...(load
          ? {
              ingestLoad: {
                readings: load.acked,
                errors: load.errors,
                pubackPerSecond: Math.round(load.acked / load.seconds),
                loadSeconds: +load.seconds.toFixed(1),
                alertPhaseSeconds: SECONDS,
              },
            }
          : {}),
      };
    };
    const DAY = 24 * 60 * MIN;
    const skipped = { alertsExpected: 0, alertsReceived: 0, latencyMs: stats([]), ingestLoad: undefined };
    const fleet = PHASES.includes('fleet') ? await phase('fleet', STRIDE, Date.now() - 6.5 * DAY, false) : skipped;
    const fullLoad = PHASES.includes('full') ? await phase('full load', STRIDE, Date.now() - 5.5 * DAY, true) : skipped;
    const storm = PHASES.includes('storm') ? await phase('alert storm', 2, Date.now() - 4.5 * DAY, false) : skipped;
    for (const c of probeClients) c.end(true);

    const result = {
      machine: machine(),
      webhookRoundTripFloorMs: stats(floor),
      fleet,
      fullLoad,
      storm,
      webhookDeliveries: deliveries,
      // a goal counts only if every alert arrived: a lost or late-beyond-the-wait alert is a miss
      goals: {
        fleetP99Under100ms: fleet.alertsReceived === fleet.alertsExpected && fleet.latencyMs.p99 < 100,
        fullLoadP99Under1s: fullLoad.alertsReceived === fullLoad.alertsExpected && fullLoad.latencyMs.p99 < 1000,
      },
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    const line = (name: string, p: { latencyMs: Stats; alertsExpected: number }): string =>
      `${name} p50 ${p.latencyMs.p50} ms p99 ${p.latencyMs.p99} ms (${p.latencyMs.count}/${p.alertsExpected} alerts)`;
    process.stdout.write(
      `\nalert latency, publish → signed webhook received: ${line('fleet', fleet)}; ${line('under full load', fullLoad)} with ingest at ${fullLoad.ingestLoad?.pubackPerSecond} readings/s; ${line('storm', storm)}; bare webhook POST p50 ${result.webhookRoundTripFloorMs.p50} ms\n`,
    );
  } catch (error) {
    process.stderr.write(`bench:alerts failed: ${(error as Error).stack}\n`);
    process.exitCode = 1;
  } finally {
    await stopChild(service);
    await influx.stop();
    receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  process.stderr.write(`bench:alerts failed: ${error.message}\n`);
  process.exit(1);
});
