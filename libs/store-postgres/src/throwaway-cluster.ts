import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

const BIN = '/usr/lib/postgresql/15/bin';
const INSTALL = 'apt-get update && apt-get install -y postgresql-15';

/** Why a throwaway cluster cannot start here, or null when it can. */
export function postgresMissing(): string | null {
  return existsSync(join(BIN, 'initdb')) && existsSync(join(BIN, 'postgres'))
    ? null
    : `PostgreSQL 15 not found (${BIN}). Install Debian's package: ${INSTALL}`;
}

/** The unprivileged account the cluster runs as when we are root (PostgreSQL refuses to run as root). */
function runAs(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error(`no "postgres" account to run the cluster as; ${INSTALL} creates it`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * A throwaway PostgreSQL 15 cluster for tests and benchmarks: `initdb` in a temp folder, the
 * server on a free loopback port (and a socket in that folder), run as the `postgres` account
 * when we are root — never the system service. `database()` hands out a fresh database per
 * test; `pause()`/`resume()` play an outage; `stop()` ends the server and removes the folder.
 */
export class ThrowawayPostgres {
  private child: ChildProcess | null = null;
  private databases = 0;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly owner: { uid: number; gid: number } | null,
  ) {}

  static async start(): Promise<ThrowawayPostgres> {
    const missing = postgresMissing();
    if (missing) throw new Error(missing);
    const owner = runAs();
    const dir = mkdtempSync(join(tmpdir(), 'dustwatch-pg-'));
    if (owner) chownSync(dir, owner.uid, owner.gid);
    const data = join(dir, 'data');
    execFileSync(
      join(BIN, 'initdb'),
      ['-D', data, '-U', 'dustwatch', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8'],
      {
        stdio: 'pipe',
        ...(owner ?? {}),
      },
    );
    // A random high port, another on a clash: the store library opens no sockets of its own to find a free one.
    for (let attempt = 1; ; attempt++) {
      const cluster = new ThrowawayPostgres(dir, 20_000 + Math.floor(Math.random() * 40_000), owner);
      try {
        await cluster.resume();
        return cluster;
      } catch (error) {
        if (attempt >= 5 || !/could not (bind|create listen)/i.test((error as Error).message)) {
          rmSync(dir, { recursive: true, force: true });
          throw error;
        }
      }
    }
  }

  /** Starts the server (again) on the same port and data, and waits until it takes connections. */
  async resume(): Promise<void> {
    const child = spawn(
      join(BIN, 'postgres'),
      [
        '-D',
        join(this.dir, 'data'),
        '-p',
        String(this.port),
        '-h',
        '127.0.0.1',
        '-k',
        this.dir,
        '-c',
        'max_connections=200',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], ...(this.owner ?? {}) },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    this.child = child;
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`postgres exited with ${child.exitCode}: ${stderr}`);
      const client = new Client({ connectionString: this.url('postgres') });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.end();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`postgres did not accept connections within 30 s: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  url(database: string): string {
    return `postgres://dustwatch@127.0.0.1:${this.port}/${database}`;
  }

  /** A new empty database; its URL. */
  async database(prefix = 'dustwatch'): Promise<string> {
    const name = `${prefix}_${process.pid}_${++this.databases}`;
    const client = new Client({ connectionString: this.url('postgres') });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${name}`); // a name made here of [a-z0-9_], not input
    } finally {
      await client.end();
    }
    return this.url(name);
  }

  /** Stops the server (an outage); `resume` brings it back with its data. */
  async pause(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null)
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGINT'); // fast shutdown: ends sessions, no wait for clients to leave
      });
  }

  async stop(): Promise<void> {
    await this.pause();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
