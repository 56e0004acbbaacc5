import type { Aedes, AedesOptions, Client, AuthenticateError, PublishPacket, Subscription } from 'aedes';
import { Server, Socket, createServer } from 'node:net';
import { deviceTopic, isValidId, mayPublish, maySubscribe, mayWatchAlerts } from '@dustwatch/telemetry';
import {
  API_KEY_USERNAME,
  ApiKeyAuthenticator,
  Clock,
  ContextLogger,
  DeviceEdge,
  DeviceFeedback,
  DeviceLogin,
  IngestCore,
  IngestMetrics,
  Presence,
  Principal,
  RateLimitedLog,
  RegistryService,
} from '@dustwatch/core';
import { FrameSizeGuard, PacketTooLargeError } from './frame-size-guard';
import { AlertPublisher } from './mqtt-alert.channel';
import { MqttReadingsHandler, feedbackBody } from './readings-handler';

// aedes 1.x is ESM-only. Node's own require (20.19+ loads ES modules) works both in the built
// service and under jest, whose module registry cannot load ESM without extra transforms.
const nodeRequire = require;
const { Aedes: AedesBroker } = nodeRequire('aedes') as { Aedes: { createBroker(opts: AedesOptions): Promise<Aedes> } };

// MQTT 3.1.1 §3.2.2.3 CONNACK return codes.
const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

export const MAX_PACKET_BYTES = 64 * 1024;

export interface BrokerOptions {
  readonly host: string;
  readonly port: number;
  /** Oldest acceptable reading age (the raw retention minus a margin). */
  readonly maxReadingAgeMs: number;
  /** Caps like HJ 212's, fitted to the open-file limit at start: idle sockets must not take every descriptor. */
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
}

interface DeviceClient extends Client {
  /** Set once the CONNECT authenticated; topics precomputed for the per-PUBLISH checks. */
  dustwatch?: { kind: 'device'; siteId: string; readingsTopic: string } | { kind: 'subscriber'; principal: Principal };
}

function refusal(code: number, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code }) as AuthenticateError;
}

/**
 * The embedded MQTT edge. Its hooks authenticate, authorise and delegate; nothing else:
 * - authenticate: client id = username = device id, password = device secret (CONNACK 2/4/5).
 * - authorizePublish: a device publishes only `devices/{own}/readings|status`. Readings go to the
 *   ingest use case and the hook returns only once they are on disk, because aedes writes the
 *   QoS 1 PUBACK right after this hook (lib/handlers/publish.js): ack means durable.
 * - authorizeSubscribe: only below `devices/{own}/`; anything else gets SUBACK 0x80.
 * - Alert subscribers (control rooms, site gateways) connect with username `@api` and an API key
 *   as password; they may subscribe to `alerts/...` only and publish nothing.
 * Take-over: a CONNECT for a connected id replaces the old session (MQTT-3.1.4-2), but only after
 * it authenticated, so nobody without the device's secret can kick a live device.
 */
export class DeviceBroker implements DeviceEdge, AlertPublisher {
  readonly name = 'mqtt';
  private aedes: Aedes | null = null;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly perAddress = new Map<string, number>();
  private readonly connected = new Map<string, Client>();
  private boundPort: number | null = null;
  /** Warnings anyone can trigger are rate-limited per address or device and reason. */
  private readonly warnings: RateLimitedLog;
  private readonly readings: MqttReadingsHandler;

  constructor(
    private readonly registry: RegistryService,
    ingest: IngestCore,
    private readonly presence: Presence,
    private readonly metrics: IngestMetrics,
    private readonly clock: Clock,
    private readonly logger: ContextLogger,
    private readonly options: BrokerOptions,
    private readonly apiKeys: ApiKeyAuthenticator,
    private readonly logins: DeviceLogin,
  ) {
    registry.onCredentialsRevoked((deviceId) => this.disconnect(deviceId));
    logins.declareEdge(this.name);
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
  }

  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  get port(): number | null {
    return this.boundPort;
  }

  get connectedCount(): number {
    return this.connected.size;
  }

  async start(): Promise<void> {
    this.aedes = await AedesBroker.createBroker({
      id: 'dustwatch-ingest',
      maxClientsIdLength: 64,
      concurrency: 1000,
      authenticate: (client, username, password, done) => {
        void this.authenticate(client as DeviceClient, username, password, done);
      },
      authorizePublish: (client, packet, done) => this.authorizePublish(client as DeviceClient | null, packet, done),
      authorizeSubscribe: (client, sub, done) => this.authorizeSubscribe(client as DeviceClient, sub, done),
    });
    const aedes = this.aedes;
    aedes.on('client', (client) => this.onConnected(client as DeviceClient));
    aedes.on('clientDisconnect', (client) => this.onDisconnected(client));
    aedes.on('clientError', (client, error) => {
      // A refused CONNECT ends in a client error too; it was logged (rate-limited) when refused.
      if ((error as Error & { errorCode?: number }).errorCode !== undefined) return;
      this.warnings.warn(`client-error:${client.id}`, 'MQTT client error', {
        deviceId: client.id,
        error: error.message,
      });
    });

    this.server = createServer((socket) => this.accept(socket, aedes));
    this.server.maxConnections = this.options.maxConnections;
    this.server.on('drop', () => this.metrics.mqttConnections.inc({ outcome: 'refused_full' }));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.options.port, this.options.host, () => resolve());
    });
    const address = this.server.address();
    this.boundPort = typeof address === 'object' && address ? address.port : this.options.port;
    this.logger.log('MQTT broker listening', { host: this.options.host, port: this.boundPort });
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    // close() stops accepting and resolves only once every connection is gone: drop the devices'
    // connections first, or a shutdown with devices online would wait for them forever.
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    for (const socket of this.sockets) socket.destroy();
    await closed;
    if (this.aedes) await new Promise<void>((resolve) => this.aedes!.close(() => resolve()));
    this.aedes = null;
  }

  /** Publishes an alert event at QoS 1; resolves once the broker has routed (and, for offline persistent sessions, stored) it. */
  publishAlert(topic: string, payload: string): Promise<void> {
    const aedes = this.aedes;
    if (!aedes) return Promise.reject(new Error('MQTT broker not running'));
    return new Promise((resolve, reject) => {
      aedes.publish(
        { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false },
        (error?: Error) => (error ? reject(error) : resolve()),
      );
    });
  }

  /** Drops a device's connection (credentials rotated or device disabled). */
  disconnect(deviceId: string): void {
    this.connected.get(deviceId)?.close();
  }

  private accept(socket: Socket, aedes: Aedes): void {
    const address = socket.remoteAddress ?? 'unknown';
    const fromAddress = (this.perAddress.get(address) ?? 0) + 1;
    if (fromAddress > this.options.maxConnectionsPerAddress) {
      this.metrics.mqttConnections.inc({ outcome: 'refused_per_address' });
      this.warnings.warn(`per-address:${address}`, 'MQTT connection refused: too many from this address', { address });
      socket.destroy();
      return;
    }
    this.perAddress.set(address, fromAddress);
    this.metrics.mqttConnections.inc({ outcome: 'accepted' });
    this.sockets.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
    });
    // Packets over 64 KiB are refused at their header, before aedes buffers them. aedes pulls
    // bytes with `conn.read()` (lib/client.js nextBatch), so the guard scans exactly what it
    // pulls. Wrapping the socket in a Transform + Duplex did the same but put two more stream
    // hops on every PUBACK write (~3 µs a message in bench:ingest).
    const guard = new FrameSizeGuard(MAX_PACKET_BYTES);
    const read = socket.read.bind(socket);
    socket.read = (size?: number) => {
      const chunk = read(size) as Buffer | null;
      if (chunk === null || socket.destroyed) return chunk;
      const error = guard.scan(chunk);
      if (error === null) return chunk;
      this.metrics.publishesRefused.inc({
        reason: error instanceof PacketTooLargeError ? 'packet_too_large' : 'malformed_packet',
      });
      this.warnings.warn(`dropped:${socket.remoteAddress}`, 'MQTT connection dropped', {
        remote: socket.remoteAddress,
        error: error.message,
      });
      socket.destroy();
      return null;
    };
    aedes.handle(socket);
  }

  private async authenticate(
    client: DeviceClient,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): Promise<void> {
    const remote = (client.conn as Partial<Socket>).remoteAddress ?? 'unknown';
    const refuse = (code: number, message: string): void => {
      this.metrics.connectsRefused.inc({ code: String(code) });
      this.warnings.warn(`connect:${remote}:${code}`, 'MQTT CONNECT refused', {
        clientId: String(client.id).slice(0, 80),
        remote,
        code,
        reason: message,
      });
      done(refusal(code, message), false);
    };
    if (!isValidId(client.id)) return refuse(IDENTIFIER_REJECTED, 'client id is not a valid device id');
    if (username !== API_KEY_USERNAME && username !== client.id)
      return refuse(IDENTIFIER_REJECTED, 'client id must equal the username (the device id)');
    if (!password || password.length === 0) return refuse(BAD_USERNAME_OR_PASSWORD, 'password (device secret) missing');
    try {
      if (username === API_KEY_USERNAME) return await this.authenticateSubscriber(client, password, refuse, done);
      const result = await this.logins.login(this.name, client.id, password.toString('utf8'), remote);
      if (!result.ok) {
        if (result.reason === 'throttled')
          return refuse(SERVER_UNAVAILABLE, 'too many failed logins from this address or for this device: try later');
        return result.reason === 'disabled'
          ? refuse(NOT_AUTHORIZED, 'device is disabled')
          : refuse(BAD_USERNAME_OR_PASSWORD, 'unknown device or wrong secret');
      }
      const previous = this.connected.get(client.id);
      if (previous) {
        // Counted here: aedes closes the older connection before it announces the new one. Two
        // clients with one id close each other's connection in turn with no refusal on either side
        // (MQTT-3.1.4-2): two monitors configured alike, or two simulators playing one fleet.
        this.metrics.sessionTakeovers.inc();
        this.warnings.warn(
          `takeover:${client.id}`,
          'MQTT device connected again while still connected: the older connection is closed; if this repeats, two clients use this device id',
          { deviceId: client.id, previous: (previous.conn as Partial<Socket>).remoteAddress, remote },
        );
      }
      client.dustwatch = {
        kind: 'device',
        siteId: result.device.siteId,
        readingsTopic: deviceTopic(client.id, 'readings'),
      };
      done(null, true);
    } catch (error) {
      this.logger.error('device authentication failed', { deviceId: client.id, error: (error as Error).message });
      done(refusal(3, 'server unavailable'), false); // 3 = Server unavailable
    }
  }

  private async authenticateSubscriber(
    client: DeviceClient,
    password: Buffer | undefined,
    refuse: (code: number, message: string) => void,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): Promise<void> {
    const principal =
      password && password.length > 0 ? await this.apiKeys.principalOf(password.toString('utf8')) : undefined;
    if (!principal) return refuse(BAD_USERNAME_OR_PASSWORD, 'unknown or revoked API key');
    // A subscriber must not take over a device's session by borrowing its client id.
    if (await this.registry.deviceExists(client.id))
      return refuse(
        IDENTIFIER_REJECTED,
        'client id belongs to a device; alert subscribers need a client id of their own',
      );
    client.dustwatch = { kind: 'subscriber', principal };
    done(null, true);
  }

  private authorizePublish(
    client: DeviceClient | null,
    packet: PublishPacket,
    done: (error?: Error | null) => void,
  ): void {
    if (client === null) return done(null); // the service's own publishes (errors topic)
    const session = client.dustwatch;
    if (session === undefined) return done(new Error('unauthenticated client'));
    if (session.kind === 'subscriber') {
      this.metrics.publishesRefused.inc({ reason: 'topic_not_allowed' });
      return done(new Error(`API-key client ${client.id} may not publish`));
    }
    if (packet.topic === session.readingsTopic) return this.ingestReadings(client, session.siteId, packet, done);
    if (!mayPublish(client.id, packet.topic)) {
      // MQTT 3.1.1 has no negative PUBACK: refusing means closing the connection (MQTT-3.3.5-2).
      this.metrics.publishesRefused.inc({ reason: 'topic_not_allowed' });
      this.warnings.warn(`topic:${client.id}`, 'MQTT PUBLISH refused: topic not allowed', {
        deviceId: client.id,
        topic: packet.topic.slice(0, 200),
      });
      return done(new Error(`device ${client.id} may not publish to ${packet.topic}`));
    }
    // Its own status topic, e.g. its last will.
    this.presence.statusMessage(client.id, Buffer.from(packet.payload).toString('utf8'), this.clock.now());
    done(null);
  }

  /** Hands the readings to the core; PUBACK (the hook's return) only after they are durable. */
  private ingestReadings(
    client: DeviceClient,
    siteId: string,
    packet: PublishPacket,
    done: (error?: Error | null) => void,
  ): void {
    packet.retain = false; // readings are a stream, never a retained message
    this.readings.handle(client.id, siteId, packet.payload as Buffer).then(
      (feedback) => {
        if (feedback) this.tellDevice(client.id, feedback);
        done(null);
      },
      (error: Error) => done(error),
    );
  }

  private authorizeSubscribe(
    client: DeviceClient,
    sub: Subscription,
    done: (error: Error | null, subscription?: Subscription | null) => void,
  ): void {
    const allowed =
      client.dustwatch?.kind === 'subscriber' ? mayWatchAlerts(sub.topic) : maySubscribe(client.id, sub.topic);
    if (allowed) return done(null, sub);
    this.metrics.subscribesRefused.inc();
    this.warnings.warn(`subscribe:${client.id}`, 'MQTT SUBSCRIBE refused', {
      deviceId: client.id,
      topic: sub.topic.slice(0, 200),
    });
    done(null, null); // aedes answers SUBACK 0x80 for a null subscription
  }

  /** Feedback on `devices/{id}/errors` (contract v1). */
  private tellDevice(deviceId: string, feedback: DeviceFeedback): void {
    this.aedes?.publish(
      {
        cmd: 'publish',
        topic: deviceTopic(deviceId, 'errors'),
        payload: Buffer.from(feedbackBody(feedback)),
        qos: 1,
        retain: false,
        dup: false,
      },
      () => undefined,
    );
  }

  private onConnected(client: DeviceClient): void {
    if (client.dustwatch?.kind !== 'device') return;
    this.connected.set(client.id, client);
    this.metrics.connectedDevices.set(this.connected.size);
    this.presence.connected(client.id, this.clock.now());
  }

  private onDisconnected(client: Client): void {
    // After a take-over the old session's disconnect arrives after the new one connected.
    if (this.connected.get(client.id) !== client) return;
    this.connected.delete(client.id);
    this.metrics.connectedDevices.set(this.connected.size);
    this.presence.disconnected(client.id, this.clock.now());
  }
}
