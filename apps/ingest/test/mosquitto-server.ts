import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './free-port';

const MOSQUITTO = '/usr/sbin/mosquitto';
const MOSQUITTO_CTRL = '/usr/bin/mosquitto_ctrl';
const SETUP_SCRIPT = resolve(__dirname, '../../../scripts/mosquitto-dynsec-setup.sh');
const DYNSEC_PLUGIN = '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so';

/** The instances' own account on the broker (admin of its dynamic security). */
export const INSTANCE_USER = { username: 'dustwatch', password: 'instance-secret-0123456789' };

/**
 * Debian's Mosquitto 2 as a throwaway broker: a temp folder, a free port on 127.0.0.1, the
 * dynamic-security plugin with the instances' account as its admin (Dustwatch creates the
 * device accounts itself: DUSTWATCH_MQTT_BROKER_AUTH=mosquitto-dynsec), persistence on, and no
 * limit on messages queued for a persistent session (the default 1,000 would drop readings the
 * broker already acknowledged while an instance is down).
 */
export class MosquittoServer {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly proc: ChildProcess,
    readonly log: string[],
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  static async start(): Promise<MosquittoServer> {
    if (!existsSync(MOSQUITTO))
      throw new Error(
        `${MOSQUITTO} is missing: apt-get install -y mosquitto mosquitto-clients (or bash scripts/ensure-deps.sh --with-mosquitto)`,
      );
    const dir = mkdtempSync(join(tmpdir(), 'dustwatch-mosquitto-'));
    const dynsec = join(dir, 'dynamic-security.json');
    execFileSync(MOSQUITTO_CTRL, ['dynsec', 'init', dynsec, INSTANCE_USER.username, INSTANCE_USER.password], {
      stdio: 'ignore',
    });
    const log: string[] = [];
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      writeFileSync(
        join(dir, 'mosquitto.conf'),
        [
          `listener ${port} 127.0.0.1`,
          'allow_anonymous false',
          `plugin ${DYNSEC_PLUGIN}`,
          `plugin_opt_config_file ${dynsec}`,
          'persistence true',
          `persistence_location ${dir}/`,
          'max_queued_messages 0',
          'user root',
          'log_dest stderr',
          'log_type error',
          '',
        ].join('\n'),
      );
      const proc = spawn(MOSQUITTO, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
      proc.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
      if (await waitForPort(port, proc)) {
        // What an operator runs once: the instances' role (docs/cluster.md).
        execFileSync(
          'bash',
          [SETUP_SCRIPT, '127.0.0.1', String(port), INSTANCE_USER.username, INSTANCE_USER.password],
          { stdio: 'ignore' },
        );
        return new MosquittoServer(dir, port, proc, log);
      }
      if (attempt >= 3) throw new Error(`mosquitto did not start: ${log.join('')}`);
    }
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null) {
      const exited = new Promise((resolve) => this.proc.once('exit', resolve));
      this.proc.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
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
