import { randomUUID } from 'node:crypto';
import { MqttClient, connectAsync } from 'mqtt';
import { deviceTopic } from '@dustwatch/telemetry';
import { BrokerAccounts, ContextLogger, IngestMetrics, RegistryService, Scheduler, TimerHandle } from '@dustwatch/core';

const CONTROL = '$CONTROL/dynamic-security/v1';
const RESPONSE = `${CONTROL}/response`;
const ANSWER_MS = 5000;
const RECONCILE_MS = 60_000;
/** The instances' own role: read the shared readings, answer devices, publish alerts. */
export const INSTANCE_ROLE = 'dustwatch-instance';
const deviceRole = (deviceId: string): string => `dustwatch-device-${deviceId}`;

interface Command {
  readonly command: string;
  readonly [field: string]: unknown;
}
interface Response {
  readonly command: string;
  readonly error?: string;
  readonly correlationData?: string;
  readonly data?: unknown;
}

export interface MosquittoAccountsOptions {
  readonly url: string;
  /** The instances' account; it must hold dynamic security's admin role (docs/cluster.md). */
  readonly username: string;
  readonly password: string;
  readonly instanceId: string;
}

/**
 * Device accounts in Mosquitto 2's dynamic-security plugin, kept in step with the registry
 * (docs/cluster.md, "Device authentication"): one client per device, bound to its client id,
 * with a role of its own — Mosquitto 2.0's dynamic security has no %u/%c substitution, so each
 * role names the device's topics literally (measured: a `devices/%u/readings` ACL refused the
 * device's own publish). Changing a client's password or disabling it drops its live
 * connection at once (measured: 1–2 ms). Enabled flags are reconciled with the registry every
 * minute, so a change the broker missed (it was down) is made then.
 */
export class MosquittoAccounts implements BrokerAccounts {
  private client: MqttClient | null = null;
  private readonly waiting = new Map<string, (responses: Response[]) => void>();
  private timer: TimerHandle | null = null;

  constructor(
    private readonly registry: RegistryService,
    private readonly scheduler: Scheduler,
    private readonly metrics: IngestMetrics,
    private readonly logger: ContextLogger,
    private readonly options: MosquittoAccountsOptions,
  ) {}

  /** Connects, checks that this account holds the instances' role, then reconciles once and every minute. */
  async start(): Promise<void> {
    try {
      this.client = await connectAsync(
        this.options.url,
        {
          clientId: `dustwatch-${this.options.instanceId}-accounts`,
          username: this.options.username,
          password: this.options.password,
          protocolVersion: 5,
          reconnectPeriod: 1000,
          connectTimeout: 10_000,
        },
        false,
      );
    } catch (error) {
      throw new Error(`MQTT broker at ${this.options.url} cannot be used: ${(error as Error).message}`, {
        cause: error,
      });
    }
    this.client.on('message', (_topic, payload) => this.answer(payload));
    this.client.on('error', (error) => this.logger.warn('dynamic-security connection error', { error: error.message }));
    await this.client.subscribeAsync(RESPONSE, { qos: 1 });
    // Granted at broker setup (scripts/mosquitto-dynsec-setup.sh), not here: dynamic security
    // drops the connection of a client whose roles change, which would be this one.
    if (!(await this.holds(this.options.username, INSTANCE_ROLE)))
      throw new Error(
        `the broker account ${this.options.username} lacks the role ${INSTANCE_ROLE}: run scripts/mosquitto-dynsec-setup.sh against the broker (docs/cluster.md)`,
      );
    await this.reconcile();
    this.timer = this.scheduler.every(RECONCILE_MS, () => void this.reconcile());
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    await this.client?.endAsync();
    this.client = null;
  }

  async setSecrets(accounts: readonly { deviceId: string; secret: string }[]): Promise<void> {
    for (const { deviceId, secret } of accounts) {
      const role = deviceRole(deviceId);
      const [created, client] = await this.send([
        {
          command: 'createRole',
          rolename: role,
          acls: [
            { acltype: 'publishClientSend', topic: deviceTopic(deviceId, 'readings'), allow: true },
            { acltype: 'publishClientSend', topic: deviceTopic(deviceId, 'status'), allow: true },
            { acltype: 'subscribeLiteral', topic: deviceTopic(deviceId, 'errors'), allow: true },
          ],
        },
        {
          command: 'createClient',
          username: deviceId,
          clientid: deviceId,
          password: secret,
          roles: [{ rolename: role }],
        },
      ]);
      if (created.error && !/already exists/i.test(created.error)) throw this.refused(created);
      if (!client.error) continue;
      if (!/already exists/i.test(client.error)) throw this.refused(client);
      // An existing account: a new password (which drops the live connection), and its role.
      const [password] = await this.send([{ command: 'setClientPassword', username: deviceId, password: secret }]);
      if (password.error) throw this.refused(password);
      await this.grantRole(deviceId, role);
    }
  }

  /** Adds the role unless the client has it (adding a held role answers "Internal error" in 2.0.11). */
  private async grantRole(username: string, rolename: string): Promise<void> {
    if (await this.holds(username, rolename)) return;
    const [added] = await this.send([{ command: 'addClientRole', username, rolename }]);
    // Another instance starting at the same moment may have added it in between.
    if (added.error && !(await this.holds(username, rolename))) throw this.refused(added);
  }

  private async holds(username: string, rolename: string): Promise<boolean> {
    const [client] = await this.send([{ command: 'getClient', username }]);
    if (client.error) throw this.refused(client);
    const roles = (client.data as { client?: { roles?: { rolename: string }[] } } | undefined)?.client?.roles ?? [];
    return roles.some((r) => r.rolename === rolename);
  }

  async setEnabled(deviceId: string, enabled: boolean): Promise<void> {
    try {
      const [r] = await this.send([{ command: enabled ? 'enableClient' : 'disableClient', username: deviceId }]);
      if (r.error) throw this.refused(r);
    } catch (error) {
      this.metrics.brokerAccountFailures.inc();
      this.logger.warn('device account not changed at the broker; the next reconciliation retries', {
        deviceId,
        enabled,
        error: (error as Error).message,
      });
    }
  }

  /** Makes each device's enabled flag at the broker the registry's; counts accounts the broker lacks. */
  async reconcile(): Promise<void> {
    try {
      const [listed] = await this.send([{ command: 'listClients', verbose: true, count: -1 }]);
      if (listed.error) throw this.refused(listed);
      const atBroker = new Map(
        ((listed.data as { clients?: { username: string; disabled?: boolean }[] }).clients ?? []).map((c) => [
          c.username,
          c.disabled === true,
        ]),
      );
      let missing = 0;
      for (const device of await this.registry.listDevices()) {
        const disabled = atBroker.get(device.id);
        if (disabled === undefined) missing += 1;
        else if (disabled === device.enabled) await this.setEnabled(device.id, device.enabled);
      }
      this.metrics.brokerAccountsMissing.set(missing);
      if (missing > 0)
        this.logger.warn('devices without an account at the broker cannot connect: rotate their secrets', { missing });
    } catch (error) {
      this.logger.warn('device accounts not reconciled with the broker; retried in a minute', {
        error: (error as Error).message,
      });
    }
  }

  private refused(response: Response, hint = ''): Error {
    return new Error(`Mosquitto dynamic security refused ${response.command}: ${response.error}${hint}`);
  }

  /** One request; every instance's admin connection hears every response, so each command carries a correlation id. */
  private send(commands: readonly Command[]): Promise<Response[]> {
    const client = this.client;
    if (!client) return Promise.reject(new Error('not connected to the broker'));
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`Mosquitto dynamic security did not answer within ${ANSWER_MS} ms`));
      }, ANSWER_MS);
      this.waiting.set(id, (responses) => {
        clearTimeout(timer);
        resolve(responses);
      });
      client
        .publishAsync(CONTROL, JSON.stringify({ commands: commands.map((c) => ({ ...c, correlationData: id })) }), {
          qos: 1,
        })
        .catch((error: Error) => {
          clearTimeout(timer);
          this.waiting.delete(id);
          reject(error);
        });
    });
  }

  private answer(payload: Buffer): void {
    let responses: Response[];
    try {
      responses = (JSON.parse(payload.toString('utf8')) as { responses: Response[] }).responses;
    } catch {
      return;
    }
    const id = responses[0]?.correlationData;
    const done = id ? this.waiting.get(id) : undefined;
    if (!done) return;
    this.waiting.delete(id!);
    done(responses);
  }
}
