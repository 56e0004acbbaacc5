import { IClientOptions, MqttClient, connectAsync } from 'mqtt';
import { deviceTopic, isValidId, parseDeviceTopic } from '@dustwatch/telemetry';
import {
  Clock,
  ContextLogger,
  DeviceEdge,
  DeviceFeedback,
  IngestCore,
  IngestMetrics,
  NotFoundError,
  Presence,
  RateLimitedLog,
  RegistryService,
} from '@dustwatch/core';
import { AlertPublisher } from './mqtt-alert.channel';
import type { MosquittoAccounts } from './mosquitto-accounts';
import { MqttReadingsHandler, feedbackBody } from './readings-handler';

export interface BrokerConsumerOptions {
  /** mqtt(s)://host:port of the broker the devices connect to. */
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  /** This instance's stable name: its sessions are `dustwatch-{instanceId}-{n}`. */
  readonly instanceId: string;
  /** Connections in the shared subscription (each handles one message at a time). */
  readonly consumers: number;
  readonly maxReadingAgeMs: number;
  /** Subscribe to EMQX's client events for presence (EMQX only). */
  readonly clientEvents: boolean;
}

/** Every instance's consumers share one group: the broker gives each message to one of them. */
export const SHARED_READINGS = '$share/dustwatch/devices/+/readings';
/** Devices' status messages (their last will, e.g. `offline`), shared the same way. */
export const SHARED_STATUS = '$share/dustwatch/devices/+/status';
/** EMQX 5's client events (system topics); Mosquitto publishes none. */
export const SHARED_CLIENT_EVENTS = ['connected', 'disconnected'].map(
  (e) => `$share/dustwatch/$SYS/brokers/+/clients/+/${e}`,
);
const CLIENT_EVENT = /^\$SYS\/brokers\/[^/]+\/clients\/([^/]+)\/(connected|disconnected)$/;
/** How long the broker keeps an instance's session (and queues its share of messages) while it is away. */
const SESSION_EXPIRY_SECONDS = 7 * 86_400;
/** A device's site, as looked up for its readings, is trusted this long (a device moved by another instance). */
const SITE_CACHE_MS = 60_000;

/**
 * The MQTT edge with an external broker (several instances, docs/cluster.md). The devices
 * connect to the broker, which authenticates them against Dustwatch's registry and lets each
 * publish only its own topics (docs/cluster.md, "Device authentication"); this instance reads
 * `$share/dustwatch/devices/+/readings` at QoS 1 with persistent sessions and acknowledges a
 * message only once the core made its readings durable — the promise of the embedded broker's
 * PUBACK, kept across the hop: mqtt.js's `customHandleAcks` holds the PUBACK until the callback.
 *
 * A message it cannot keep (spool at quota, an internal error) is not acknowledged: the
 * connection is dropped and re-made, and the broker sends the message again (
 * unacknowledged QoS 1 messages are resent when the session resumes, MQTT 5 §4.4). A message the core
 * committed and the instance died before acknowledging is resent too; the journal recognises it.
 *
 * One connection handles its messages one after the other (mqtt.js waits for each callback), so
 * several connections run in parallel and their commits share the spool's group commit.
 */
export class BrokerConsumer implements DeviceEdge, AlertPublisher {
  readonly name = 'mqtt';
  private clients: MqttClient[] = [];
  private readonly sites = new Map<string, { siteId: string; until: number }>();
  private readonly readings: MqttReadingsHandler;
  private readonly warnings: RateLimitedLog;
  private inFlight = new Set<Promise<unknown>>();
  private stopping = false;

  constructor(
    private readonly registry: RegistryService,
    ingest: IngestCore,
    private readonly presence: Presence,
    private readonly metrics: IngestMetrics,
    private readonly clock: Clock,
    private readonly logger: ContextLogger,
    private readonly options: BrokerConsumerOptions,
    /** Mosquitto's device accounts, when Dustwatch keeps them (DUSTWATCH_MQTT_BROKER_AUTH=mosquitto-dynsec). */
    private readonly accounts: MosquittoAccounts | null = null,
  ) {
    this.warnings = new RateLimitedLog(logger, clock, () => metrics.logLinesSuppressed.inc({ context: 'mqtt' }));
    this.readings = new MqttReadingsHandler(
      ingest,
      metrics,
      clock,
      logger,
      this.warnings,
      this.name,
      options.maxReadingAgeMs,
    );
    registry.onFleetChanged(() => this.sites.clear());
  }

  get listening(): boolean {
    return this.clients.some((c) => c.connected);
  }

  /** No port of its own: devices connect to the broker. */
  get port(): number | null {
    return null;
  }

  /** Devices' connections are the broker's; this instance holds none. */
  get connectedCount(): number {
    return 0;
  }

  async start(): Promise<void> {
    this.stopping = false;
    // First: it grants this instance the shared subscription.
    await this.accounts?.start();
    for (let n = 1; n <= this.options.consumers; n++) this.clients.push(await this.connect(n));
    this.logger.log('consuming readings from the external MQTT broker', {
      broker: this.options.url,
      subscription: SHARED_READINGS,
      sessions: this.clients.map((c) => c.options.clientId),
    });
  }

  /**
   * Stops taking messages, waits for those being made durable (acknowledged), then disconnects;
   * the sessions stay on the broker, which keeps what arrives meanwhile for this instance.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.inFlight]);
    await Promise.all(this.clients.map((c) => c.endAsync(false)));
    this.clients = [];
    await this.accounts?.stop();
  }

  publishAlert(topic: string, payload: string): Promise<void> {
    const client = this.clients.find((c) => c.connected) ?? this.clients[0];
    if (!client) return Promise.reject(new Error('not connected to the MQTT broker'));
    return client.publishAsync(topic, payload, { qos: 1 }).then(() => undefined);
  }

  /** The broker drops the device's connection when its credentials change (docs/cluster.md). */
  disconnect(): void {
    return;
  }

  private async connect(n: number): Promise<MqttClient> {
    const options: IClientOptions = {
      clientId: `dustwatch-${this.options.instanceId}-${n}`,
      username: this.options.username,
      password: this.options.password,
      // MQTT 5: mqtt.js honours customHandleAcks only there.
      protocolVersion: 5,
      // A persistent session: the subscription and the messages not yet acknowledged survive a
      // restart of this instance (MQTT 5 §3.1.2.11.2). It ends a week after the instance was last
      // connected; an instance removed for good should connect once with a clean start
      // (docs/cluster.md), or the broker keeps queueing its share until then.
      clean: false,
      properties: { sessionExpiryInterval: SESSION_EXPIRY_SECONDS },
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      customHandleAcks: (topic, message, _packet, done) => this.onMessage(client, topic, message, done),
    };
    let client!: MqttClient;
    try {
      client = await connectAsync(this.options.url, options, false);
    } catch (error) {
      throw new Error(`MQTT broker at ${this.options.url} cannot be used: ${(error as Error).message}`, {
        cause: error,
      });
    }
    client.on('error', (error) =>
      this.warnings.warn(`broker-error:${n}`, 'MQTT broker connection error', {
        session: options.clientId,
        error: error.message,
      }),
    );
    client.on('offline', () =>
      this.warnings.warn(`broker-offline:${n}`, 'MQTT broker connection lost; reconnecting', {
        session: options.clientId,
      }),
    );
    const filters = [SHARED_READINGS, SHARED_STATUS, ...(this.options.clientEvents ? SHARED_CLIENT_EVENTS : [])];
    const granted = await client.subscribeAsync(filters, { qos: 1 });
    const refused = granted.filter((g) => g.qos !== 1);
    if (refused.length > 0)
      throw new Error(
        `MQTT broker at ${this.options.url} refused ${refused.map((g) => g.topic).join(', ')} at QoS 1 (the instances' account needs them: docs/cluster.md)`,
      );
    return client;
  }

  private onMessage(
    client: MqttClient,
    topic: string,
    payload: Buffer,
    done: (error: Error | number, code?: number) => void,
  ): void {
    // Not acknowledged while stopping: the broker keeps it in this instance's session.
    if (this.stopping) return;
    const parsed = parseDeviceTopic(topic);
    if (parsed?.kind === 'status' || CLIENT_EVENT.test(topic)) {
      this.onPresence(topic, parsed?.deviceId ?? null, payload);
      return done(0);
    }
    if (parsed === null || parsed.kind !== 'readings') {
      this.metrics.publishesRefused.inc({ reason: 'topic_not_allowed' });
      this.warnings.warn(`topic:${topic.slice(0, 80)}`, 'message on an unexpected topic acknowledged and dropped', {
        topic: topic.slice(0, 200),
      });
      return done(0);
    }
    const work = this.siteOf(parsed.deviceId)
      .then(async (siteId) => {
        if (siteId === null) {
          // The broker let it in, the registry does not know it (deleted meanwhile): nothing to keep it for.
          this.metrics.publishesRefused.inc({ reason: 'unknown_device' });
          this.warnings.warn(`unknown:${parsed.deviceId}`, 'readings of a device the registry does not hold dropped', {
            deviceId: parsed.deviceId,
          });
          return done(0);
        }
        const feedback = await this.readings.handle(parsed.deviceId, siteId, payload);
        done(0);
        if (feedback) this.tellDevice(client, parsed.deviceId, feedback);
      })
      .catch(() => {
        // Not acknowledged: a new connection makes the broker send it again.
        client.stream.destroy();
      });
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /**
   * Presence from the broker: EMQX's connected/disconnected events, and the devices' status
   * messages — `online` and `offline` (the last will the reading contract suggests) also mark the
   * connection, since Mosquitto announces none. Presence writes behind: acknowledged at once.
   */
  private onPresence(topic: string, statusOf: string | null, payload: Buffer): void {
    const now = this.clock.now();
    const event = CLIENT_EVENT.exec(topic);
    if (event) {
      const clientId = decodeURIComponent(event[1]);
      if (!isValidId(clientId)) return; // an instance's or a subscriber's session, not a device
      let at = now;
      try {
        const ts = JSON.parse(payload.toString('utf8')) as {
          connected_at?: number;
          disconnected_at?: number;
          ts?: number;
        };
        at = (event[2] === 'connected' ? ts.connected_at : ts.disconnected_at) ?? ts.ts ?? now;
      } catch {
        // no body we can read: the time it arrived
      }
      if (event[2] === 'connected') this.presence.connected(clientId, at);
      else this.presence.disconnected(clientId, at);
      return;
    }
    if (statusOf === null) return;
    const text = payload.toString('utf8');
    this.presence.statusMessage(statusOf, text, now);
    const word = text.trim().toLowerCase();
    if (word === 'online') this.presence.connected(statusOf, now);
    else if (word === 'offline') this.presence.disconnected(statusOf, now);
  }

  private async siteOf(deviceId: string): Promise<string | null> {
    const now = this.clock.now();
    const cached = this.sites.get(deviceId);
    if (cached && cached.until > now) return cached.siteId;
    const device = await this.registry.getDevice(deviceId).catch((error: Error) => {
      if (error instanceof NotFoundError) return null;
      throw error;
    });
    if (device === null) return null;
    this.sites.set(deviceId, { siteId: device.siteId, until: now + SITE_CACHE_MS });
    return device.siteId;
  }

  private tellDevice(client: MqttClient, deviceId: string, feedback: DeviceFeedback): void {
    client.publish(deviceTopic(deviceId, 'errors'), feedbackBody(feedback), { qos: 1 }, () => undefined);
  }
}
