import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';

const MOSQUITTO = '/usr/sbin/mosquitto';
const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';

/** The instances' own account on the broker. */
export const INSTANCE_USER = { username: 'dustwatch', password: 'instance-secret-0123456789' };

/**
 * Debian's Mosquitto 2 as a throwaway broker: a temp folder, a free port on 127.0.0.1, a
 * password file and ACL (devices publish only their own topics, the instances read the shared
 * readings subscription and publish alerts), persistence on, no limit on messages queued for a
 * persistent session (the default 1,000 would drop readings the broker already acknowledged
 * while an instance is down).
 */
export class MosquittoServer {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private proc: ChildProcess,
    readonly log: string[],
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  static async start(devices: Record<string, string> = {}): Promise<MosquittoServer> {
    if (!existsSync(MOSQUITTO))
      throw new Error(
        `${MOSQUITTO} is missing: apt-get install -y mosquitto mosquitto-clients (or bash scripts/ensure-deps.sh --with-mosquitto)`,
      );
    const dir = mkdtempSync(join(tmpdir(), 'dustwatch-mosquitto-'));
    writeFileSync(
      join(dir, 'acl'),
      [
        `user ${INSTANCE_USER.username}`,
        'topic read $share/dustwatch/devices/+/readings',
        'topic read devices/+/readings',
        'topic write devices/+/errors',
        'topic write alerts/#',
        '',
        '# every other account is a device: client id = username = device id',
        'pattern write devices/%u/readings',
        'pattern write devices/%u/status',
        'pattern read devices/%u/errors',
        '',
      ].join('\n'),
    );
    const server = new MosquittoServer(dir, 0, null as unknown as ChildProcess, []);
    server.writePasswords(devices);
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      writeFileSync(
        join(dir, 'mosquitto.conf'),
        [
          `listener ${port} 127.0.0.1`,
          'allow_anonymous false',
          `password_file ${join(dir, 'passwd')}`,
          `acl_file ${join(dir, 'acl')}`,
          'persistence true',
          `persistence_location ${dir}/`,
          'max_queued_messages 0',
          'user root',
          'log_dest stderr',
          'log_type error',
          'log_type warning',
          '',
        ].join('\n'),
      );
      const proc = spawn(MOSQUITTO, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
      proc.stderr!.on('data', (d: Buffer) => server.log.push(d.toString()));
      const up = await waitForPort(port, proc);
      if (up) return Object.assign(server, { port, proc }) as MosquittoServer;
      if (attempt >= 3) throw new Error(`mosquitto did not start: ${server.log.join('')}`);
    }
  }

  /** Replaces the device accounts (plus the instances' own) and makes the broker reload them (SIGHUP). */
  setDevices(devices: Record<string, string>): void {
    this.writePasswords(devices);
    this.proc.kill('SIGHUP');
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null) {
      const exited = new Promise((resolve) => this.proc.once('exit', resolve));
      this.proc.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private writePasswords(devices: Record<string, string>): void {
    const file = join(this.dir, 'passwd');
    const lines = Object.entries({ [INSTANCE_USER.username]: INSTANCE_USER.password, ...devices }).map(
      ([user, password]) => `${user}:${password}`,
    );
    writeFileSync(file, lines.join('\n') + '\n');
    execFileSync(MOSQUITTO_PASSWD, ['-U', file]); // hashes the plain-text passwords in place
  }
}

async function waitForPort(port: number, proc: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) return false;
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
