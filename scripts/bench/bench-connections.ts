/**
 * bench:connections — how many devices one instance holds on the embedded broker and what they
 * cost: RSS per connection, PUBACK latency at one reading per device every 10 s, and how long the
 * whole fleet takes to be connected again after a restart of the service. The devices run in
 * `--processes` load processes (each with its own descriptor limit).
 *
 *   npm run bench:connections -- [--devices 15000] [--processes 2] [--seconds 60]
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import readline from 'node:readline';
import { freePort } from '../../apps/ingest/test/free-port';
import { InfluxServer } from '../../apps/ingest/test/influx-server';
import { ADMIN_KEY, arg, latencySummary, log, machine, spawnService, stopChild, waitFor } from './common';

const DEVICES = arg('devices', 15_000);
const PROCESSES = arg('processes', 2);
const SECONDS = arg('seconds', 60);
const GOAL_DEVICES = 20_000;

const rssMiB = (pid: number): number =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

/** A load process and a way to ask it something and wait for its one-line answer. */
function loadProcess(
  port: number,
  file: string,
  offset: number,
): { proc: ChildProcess; ask: (cmd: object) => Promise<Record<string, unknown>> } {
  const proc = spawn(process.execPath, [join(__dirname, 'connections-client.js'), String(port), file, String(offset)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const answers: { resolve: (line: Record<string, unknown>) => void; reject: (error: Error) => void }[] = [];
  readline.createInterface({ input: proc.stdout! }).on('line', (line) => answers.shift()?.resolve(JSON.parse(line)));
  // A load process that dies must fail the bench, not leave it waiting for an answer.
  proc.once('exit', (code) => {
    for (const waiting of answers.splice(0)) waiting.reject(new Error(`a load process exited (${code})`));
  });
  const ask = (cmd: object): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      answers.push({ resolve, reject });
      if (Object.keys(cmd).length > 0) proc.stdin!.write(JSON.stringify(cmd) + '\n');
    });
  return { proc, ask };
}

async function main(): Promise<void> {
  const influx = await InfluxServer.start();
  const dataDir = mkdtempSync(join(tmpdir(), 'dustwatch-bench-connections-'));
  const httpPort = await freePort();
  const mqttPort = await freePort();
  const env = {
    DUSTWATCH_HTTP_PORT: String(httpPort),
    DUSTWATCH_MQTT_PORT: String(mqttPort),
    DUSTWATCH_DATA_DIR: dataDir,
    DUSTWATCH_INFLUX_URL: influx.url,
    DUSTWATCH_INFLUX_DB: 'bench',
    DUSTWATCH_SNAPSHOT_SECONDS: '0',
    DUSTWATCH_REPORT_HOUR: '-1',
  };
  const base = `http://127.0.0.1:${httpPort}`;
  const healthy = (): Promise<void> =>
    waitFor(async () => (await fetch(`${base}/health`)).status === 200, 60_000, 'the service');
  let service = spawnService(env);
  const loaders: ReturnType<typeof loadProcess>[] = [];
  try {
    await healthy();
    log(`provisioning ${DEVICES} devices (fleet import)`);
    const devices = Array.from({ length: DEVICES }, (_, i) => ({
      id: `conn-${String(i).padStart(5, '0')}`,
      secret: randomBytes(18).toString('base64url'),
    }));
    const sites = [];
    for (let s = 0; s * 100 < DEVICES; s++)
      sites.push({
        id: `CONN-${s}`,
        name: `Site ${s}`,
        district: 'Luzhou',
        lat: 36.2,
        lon: 113.1,
        devices: devices.slice(s * 100, s * 100 + 100).map((d) => ({ ...d, model: 'B', kind: 'site' })),
      });
    const imported = await fetch(`${base}/api/fleet/import`, {
      method: 'POST',
      headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ version: 1, sites }),
    });
    if (imported.status >= 300) throw new Error(`fleet import: ${imported.status} ${await imported.text()}`);

    for (let p = 0; p < PROCESSES; p++) {
      const file = join(dataDir, `devices-${p}.json`);
      const share = Math.ceil(DEVICES / PROCESSES);
      writeFileSync(file, JSON.stringify(devices.slice(p * share, (p + 1) * share)));
      const loader = loadProcess(mqttPort, file, p * share);
      await loader.ask({}); // ready
      loaders.push(loader);
    }
    const rssBefore = rssMiB(service.pid!);
    log(`connecting ${DEVICES} devices from ${PROCESSES} processes`);
    const started = Date.now();
    const connects = await Promise.all(loaders.map((l) => l.ask({ cmd: 'connect' })));
    const connectSeconds = (Date.now() - started) / 1000;
    const failed = connects.find((c) => c['error']);
    if (failed) throw new Error(`connect: ${String(failed['error'])}`);
    await new Promise((r) => setTimeout(r, 5000)); // let allocation settle before measuring
    const rssConnected = rssMiB(service.pid!);
    const perConnectionKiB = ((rssConnected - rssBefore) * 1024) / DEVICES;

    log(`one reading per device every 10 s for ${SECONDS} s`);
    const published = await Promise.all(loaders.map((l) => l.ask({ cmd: 'publish', seconds: SECONDS })));
    const latencies = published.flatMap((r) => r['latencies'] as number[]);
    const acked = published.reduce((n, r) => n + Number(r['acked']), 0);
    const errors = published.reduce((n, r) => n + Number(r['errors']), 0);
    const rssUnderLoad = rssMiB(service.pid!);

    log('restarting the service (SIGTERM, start on the same data folder)');
    const stopAt = Date.now();
    await stopChild(service);
    service = spawnService(env);
    await healthy();
    const upAt = Date.now();
    const reconnects = await Promise.all(loaders.map((l) => l.ask({ cmd: 'await-reconnect' })));
    const allBackAt = upAt + Math.max(...reconnects.map((r) => Number(r['reconnectedMs'])));

    const result = {
      machine: machine(),
      load: { devices: DEVICES, processes: PROCESSES, seconds: SECONDS, readingEverySeconds: 10 },
      connect: { seconds: +connectSeconds.toFixed(1), perSecond: Math.round(DEVICES / connectSeconds) },
      rssMiB: {
        provisionedIdle: Math.round(rssBefore),
        connected: Math.round(rssConnected),
        underLoad: Math.round(rssUnderLoad),
      },
      perConnectionKiB: +perConnectionKiB.toFixed(1),
      puback: { acked, errors, ms: latencySummary(latencies) },
      restart: {
        stopToHealthySeconds: +((upAt - stopAt) / 1000).toFixed(1),
        healthyToAllReconnectedSeconds: +((allBackAt - upAt) / 1000).toFixed(1),
        note: 'devices retry after 1-6 s (random), as a fleet would',
      },
      goal: {
        devices: GOAL_DEVICES,
        extrapolatedRssMiB: Math.round(rssUnderLoad + ((GOAL_DEVICES - DEVICES) * perConnectionKiB) / 1024),
        under1GiB: rssUnderLoad + ((GOAL_DEVICES - DEVICES) * perConnectionKiB) / 1024 < 1024,
        measuredDirectly: DEVICES >= GOAL_DEVICES,
      },
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(
      `${DEVICES} devices: ${Math.round(rssConnected)} MiB connected (${perConnectionKiB.toFixed(1)} KiB each), PUBACK p99 ${result.puback.ms.p99} ms at one reading / 10 s each, all back ${result.restart.healthyToAllReconnectedSeconds} s after the restarted service was healthy\n`,
    );
  } catch (error) {
    process.stderr.write(`bench:connections failed: ${(error as Error).stack}\n`);
    process.exitCode = 1;
  } finally {
    for (const l of loaders) l.proc.kill('SIGKILL');
    await stopChild(service);
    await influx.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  process.stderr.write(`bench:connections failed: ${error.message}\n`);
  process.exit(1);
});
