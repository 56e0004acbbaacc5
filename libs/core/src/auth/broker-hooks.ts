import { timingSafeEqual, createHash } from 'node:crypto';
import { isValidId, mayPublish, maySubscribe, mayWatchAlerts } from '@dustwatch/telemetry';
import { RegistryService } from '../registry/registry.service';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { DeviceLogin } from './device-login';

/** The username an API-key client (alert subscriber) connects with; `@` is never part of a device id. */
export const API_KEY_USERNAME = '@api';
/** The instances' own sessions are `dustwatch-{instance}-{n}` (and `-accounts`). */
const INSTANCE_CLIENT_PREFIX = 'dustwatch-';
/** The instances' shared subscriptions: readings, status messages, EMQX's client events (presence). */
const INSTANCE_FILTERS: ReadonlySet<string> = new Set([
  '$share/dustwatch/devices/+/readings',
  '$share/dustwatch/devices/+/status',
  '$share/dustwatch/$SYS/brokers/+/clients/+/connected',
  '$share/dustwatch/$SYS/brokers/+/clients/+/disconnected',
]);

export interface BrokerConnect {
  readonly clientId: string;
  readonly username: string;
  readonly password: string;
  /** The device's address as the broker saw it: the failure throttles count per address. */
  readonly peerHost: string;
}

export interface BrokerAccess {
  readonly clientId: string;
  readonly username: string;
  readonly topic: string;
  readonly action: 'publish' | 'subscribe';
}

export type BrokerVerdict = { readonly allow: true } | { readonly allow: false; readonly reason: string };

/** Compares two secrets in constant time (their digests: the lengths may differ). */
export const equalSecrets = (a: string, b: string): boolean =>
  timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

/**
 * The broker asks, Dustwatch's registry answers (EMQX 5's HTTP authentication and authorisation,
 * docs/cluster.md): the same rules as the embedded broker's hooks — client id = username =
 * device id with the device's secret (through DeviceLogin and its failure throttles, counted per
 * the device's own address), a device publishes only `devices/{own}/readings|status` and
 * subscribes below `devices/{own}/`, API-key clients watch `alerts/...`, and the instances' own
 * account reads the shared readings subscription and publishes alerts and device feedback.
 */
export class BrokerHooks {
  constructor(
    private readonly registry: RegistryService,
    private readonly logins: DeviceLogin,
    private readonly apiKeys: ApiKeyAuthenticator,
    private readonly instanceAccount: { readonly username: string; readonly password: string } | null,
  ) {
    logins.declareEdge(BROKER_EDGE);
  }

  async authenticate(connect: BrokerConnect): Promise<BrokerVerdict> {
    const { clientId, username, password, peerHost } = connect;
    if (this.isInstance(username)) {
      if (!clientId.startsWith(INSTANCE_CLIENT_PREFIX)) return deny('an instance session id starts with dustwatch-');
      return equalSecrets(password, this.instanceAccount!.password) ? { allow: true } : deny('wrong instance password');
    }
    if (username === API_KEY_USERNAME) {
      if (isValidId(clientId) && (await this.registry.deviceExists(clientId)))
        return deny('client id belongs to a device; alert subscribers need a client id of their own');
      return (await this.apiKeys.principalOf(password)) ? { allow: true } : deny('unknown or revoked API key');
    }
    if (!isValidId(clientId) || clientId !== username) return deny('client id must equal the username (the device id)');
    const result = await this.logins.login(BROKER_EDGE, clientId, password, peerHost);
    return result.ok ? { allow: true } : deny(result.reason);
  }

  authorize(access: BrokerAccess): BrokerVerdict {
    const { clientId, username, topic, action } = access;
    if (this.isInstance(username))
      return action === 'subscribe'
        ? INSTANCE_FILTERS.has(topic)
          ? { allow: true }
          : deny('instances subscribe to their shared subscriptions only')
        : /^alerts\/.+/.test(topic) || /^devices\/[^/+#]+\/errors$/.test(topic)
          ? { allow: true }
          : deny('instances publish alerts and device feedback only');
    if (username === API_KEY_USERNAME)
      return action === 'subscribe' && mayWatchAlerts(topic)
        ? { allow: true }
        : deny('API-key clients watch alerts only');
    if (clientId !== username) return deny('client id must equal the username (the device id)');
    const allowed = action === 'publish' ? mayPublish(clientId, topic) : maySubscribe(clientId, topic);
    return allowed ? { allow: true } : deny(`device ${clientId} may not ${action} ${topic.slice(0, 200)}`);
  }

  private isInstance(username: string): boolean {
    return this.instanceAccount !== null && username === this.instanceAccount.username;
  }
}

/** Logins through the broker's hooks are counted as their own edge (failure throttles per edge). */
export const BROKER_EDGE = 'broker';

const deny = (reason: string): BrokerVerdict => ({ allow: false, reason });
