/** Helpers shared by the benchmark scripts: processes, CPU accounting, the service under test. */
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { percentile } from '../../devices-sim/src/load';

export const ROOT = resolve(__dirname, '../..');
/** BENCH_MAIN_JS runs the same bench against another build (e.g. the commit before, for an A/B). */
export const MAIN_JS = process.env.BENCH_MAIN_JS ?? join(ROOT, 'dist/apps/ingest/apps/ingest/src/main.js');
export const ADMIN_KEY = 'bench-admin-key-0123456789';

export function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** p50, p99 and max of latencies in ms, one decimal (the simulator's percentile rule). */
export function latencySummary(values: readonly number[]): { p50: number; p99: number; max: number } {
  const sorted = Float64Array.from(values).sort();
  const at = (p: number): number => +percentile(sorted, p).toFixed(1);
  return { p50: at(50), p99: at(99), max: at(100) };
}

export function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

export async function waitFor(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 Hz)
}

export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((r) => {
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });
}

export function machine(): { cpus: number; cpuModel: string | undefined; memoryGiB: number; node: string } {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

/**
 * Starts the built service as its own process; its logs go to stderr, stdout stays for the
 * figures. With `onLogLine`, its log lines are handed over instead (JSON, one per line).
 */
export function spawnService(
  env: Record<string, string>,
  onLogLine?: (line: string) => void,
  /** Runs it under `ulimit -n` (soft and hard): what a service with that many descriptors does. */
  openFileLimit?: number,
): ChildProcess {
  // BENCH_SERVICE_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the service.
  const nodeArgs = (process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const [command, args] =
    openFileLimit === undefined
      ? [process.execPath, [...nodeArgs, MAIN_JS]]
      : ['bash', ['-c', `ulimit -n ${openFileLimit} && exec "$0" "$@"`, process.execPath, ...nodeArgs, MAIN_JS]];
  const child = spawn(command, args, {
    env: {
      ...process.env,
      DUSTWATCH_ADMIN_API_KEY: ADMIN_KEY,
      DUSTWATCH_HTTP_HOST: '127.0.0.1',
      DUSTWATCH_MQTT_HOST: '127.0.0.1',
      DUSTWATCH_LOG_LEVEL: 'warn',
      DUSTWATCH_HJ212_PORT: '0',
      ...env,
    },
    stdio: onLogLine ? ['ignore', 'pipe', 'pipe'] : ['ignore', 2, 2],
  });
  // A bench that dies of an uncaught error must not leave the service running.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  if (onLogLine) {
    for (const stream of [child.stdout!, child.stderr!]) {
      let rest = '';
      stream.on('data', (chunk: Buffer) => {
        const lines = (rest + chunk.toString('utf8')).split('\n');
        rest = lines.pop() ?? '';
        lines.forEach(onLogLine);
      });
    }
  }
  return child;
}

export async function adminPost<T>(base: string, path: string, body: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Creates one site with `count` devices named `<prefix>-NNNN`; returns their credentials. */
export async function provisionDevices(
  base: string,
  siteId: string,
  prefix: string,
  count: number,
): Promise<{ id: string; secret: string }[]> {
  await adminPost(base, '/api/sites', { id: siteId, name: siteId, district: 'Luzhou', lat: 36.2, lon: 113.1 });
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const id = `${prefix}-${String(i).padStart(4, '0')}`;
      const { secret } = await adminPost<{ secret: string }>(base, '/api/devices', {
        id,
        siteId,
        model: 'B',
        kind: 'site',
      });
      return { id, secret };
    }),
  );
}
