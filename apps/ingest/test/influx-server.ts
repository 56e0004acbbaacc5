import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';

const INFLUXD = '/usr/bin/influxd';
const CONFIG = '/etc/influxdb/influxdb.conf';

/** Why influxd cannot start here, or null when it can. */
export function influxdMissing(): string | null {
  if (!existsSync(INFLUXD) || !existsSync(CONFIG)) {
    return `influxd not found (${INFLUXD}). Install Debian's InfluxDB: apt-get update && apt-get install -y influxdb`;
  }
  return null;
}

/**
 * A throwaway InfluxDB 1.x (Debian's package) on free loopback ports with its own folders, for
 * integration tests and benchmarks. It can be stopped and started again on the same data, to
 * play an outage.
 */
export class InfluxServer {
  private child: ChildProcess | null = null;

  private constructor(
    readonly dir: string,
    readonly httpPort: number,
    private readonly rpcPort: number,
    private readonly authEnabled: boolean,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  /** @param options.auth turn on HTTP auth (INFLUXDB_HTTP_AUTH_ENABLED); create a user before writing. */
  static async start(options: { auth?: boolean } = {}): Promise<InfluxServer> {
    const missing = influxdMissing();
    if (missing) throw new Error(missing);
    const dir = mkdtempSync(join(tmpdir(), 'dustwatch-influx-'));
    const server = new InfluxServer(dir, await freePort(), await freePort(), options.auth ?? false);
    await server.resume();
    return server;
  }

  /** Starts influxd (again) on the same ports and folders and waits for /ping. */
  async resume(): Promise<void> {
    // influxd gets only its own settings: nothing from the test's environment leaks into it.
    const env = {
      INFLUXDB_META_DIR: join(this.dir, 'meta'),
      INFLUXDB_DATA_DIR: join(this.dir, 'data'),
      INFLUXDB_DATA_WAL_DIR: join(this.dir, 'wal'),
      INFLUXDB_HTTP_BIND_ADDRESS: `127.0.0.1:${this.httpPort}`,
      INFLUXDB_BIND_ADDRESS: `127.0.0.1:${this.rpcPort}`,
      INFLUXDB_MONITOR_STORE_ENABLED: 'false',
      INFLUXDB_HTTP_LOG_ENABLED: 'false',
      INFLUXDB_REPORTING_DISABLED: 'true',
      INFLUXDB_DATA_QUERY_LOG_ENABLED: 'false',
      INFLUXDB_CONTINUOUS_QUERIES_LOG_ENABLED: 'false',
      INFLUXDB_HTTP_MAX_BODY_SIZE: '0',
      INFLUXDB_HTTP_AUTH_ENABLED: this.authEnabled ? 'true' : 'false',
    };
    const child = spawn(INFLUXD, ['-config', CONFIG], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    this.child = child;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`influxd exited with ${child.exitCode}: ${stderr}`);
      try {
        const res = await fetch(`${this.url}/ping`);
        if (res.status === 204) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`influxd did not answer /ping within 20 s: ${stderr}`);
  }

  /** Stops influxd (the outage); `resume` brings it back with its data. */
  async pause(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  async stop(): Promise<void> {
    await this.pause();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Runs an InfluxQL query and returns the first series' rows as objects. */
  async rows(
    database: string,
    q: string,
    auth?: { username: string; password: string },
  ): Promise<Record<string, unknown>[]> {
    const params: Record<string, string> = { db: database, q, epoch: 'ms' };
    if (auth) Object.assign(params, { u: auth.username, p: auth.password });
    const res = await fetch(`${this.url}/query?${new URLSearchParams(params)}`, { method: 'POST' });
    const body = (await res.json()) as {
      results: {
        error?: string;
        series?: { columns: string[]; values: unknown[][]; tags?: Record<string, string> }[];
      }[];
    };
    const result = body.results[0];
    if (result.error) throw new Error(result.error);
    return (result.series ?? []).flatMap((s) =>
      s.values.map((v) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) })),
    );
  }
}
