import { Server, Socket, createServer } from 'node:net';
import { maskHj212Password } from '@dustwatch/integrity';
import {
  DATA_COMMANDS,
  Hj212Framer,
  Hj212Message,
  MAX_FUTURE_SKEW_MS,
  QUARANTINE_RAW_LIMIT,
  Rejection,
  crcVariantOf,
  dataAnswer,
  decodeHj212Data,
  parseMessage,
  setTimeCommand,
  wantsAnswer,
} from '@dustwatch/telemetry';
import {
  Clock,
  ContextLogger,
  Device,
  DeviceEdge,
  DeviceLogin,
  IngestCore,
  IngestMetrics,
  Presence,
  RateLimitedLog,
  RegistryService,
  SpoolFullError,
  UNAUTHENTICATED_QUARANTINE,
} from '@dustwatch/core';

export interface Hj212Options {
  readonly host: string;
  readonly port: number;
  /** Oldest acceptable reading age (the raw retention minus a margin). */
  readonly maxReadingAgeMs: number;
  /** Closed when no authenticated frame came for this long: silence and frames that prove nothing alike. */
  readonly idleMs: number;
  /** Closed when a frame begun is not complete this long after its first byte (a slowloris trickle). */
  readonly frameMs: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
  readonly timeService: boolean;
}

/** After this many refused logins on one connection it is closed (the per-address throttle does the rest). */
const MAX_LOGIN_FAILURES_PER_CONNECTION = 3;
/** A device whose real-time clock is off is sent the time at most this often. */
const TIME_SET_INTERVAL_MS = 10 * 60_000;
/** Commands that are answers or heartbeats: accepted, nothing stored (HJ 212-2017 §6.6; 9015 is HJ 212-2025's heartbeat). */
const ACCEPTED_WITHOUT_DATA: ReadonlySet<string> = new Set(['9011', '9012', '9013', '9014', '9015']);
const TIME_REQUEST = '1013';
/**
 * A sender faster than its frames are handled is paused here, and resumed when the queue is
 * short again: a flood of frames costs a bounded queue, not memory without end.
 */
const MAX_QUEUED_FRAMES = 64;
const RESUME_BELOW_FRAMES = 16;
const HANDLED_COMMANDS: ReadonlySet<string> = new Set([
  ...Object.keys(DATA_COMMANDS),
  ...ACCEPTED_WITHOUT_DATA,
  TIME_REQUEST,
]);

interface Connection {
  readonly socket: Socket;
  readonly address: string;
  readonly framer: Hj212Framer;
  /** Frames of one connection are handled in order, so answers go out in order. */
  queue: Promise<void>;
  /** Frames queued and not yet handled: past MAX_QUEUED_FRAMES the socket is paused (TCP backpressure). */
  queued: number;
  loginFailures: number;
  /** The last MN/PW pair that logged in on this connection, and its device. */
  login: { mn: string; pw: string; device: Device & { hj212: NonNullable<Device['hj212']> } } | null;
  lastTimeSetAt: number;
  /** Refreshed by authenticated frames only: bytes, garbage and refused frames do not keep a connection. */
  readonly idleTimer: NodeJS.Timeout;
  /** Armed while a frame is incomplete, from its first byte (or the last frame completed since). */
  frameTimer: NodeJS.Timeout | null;
}

/**
 * The HJ 212-2017 edge: a TCP listener whose frame handler decodes and delegates, like the MQTT
 * hooks. Each frame carries MN and PW, checked through DeviceLogin (throttled like MQTT logins);
 * data commands go to the ingest core, and the 9014 answer (when the frame's A bit asks for
 * one) is written only after the core resolved: answered means on disk, as PUBACK does.
 */
export class Hj212Listener implements DeviceEdge {
  readonly name = 'hj212';
  private server: Server | null = null;
  private boundPort: number | null = null;
  private readonly connections = new Set<Connection>();
  private readonly perAddress = new Map<string, number>();
  /** Device id → its authenticated connections (a device may reconnect before the old socket times out). */
  private readonly byDevice = new Map<string, Set<Connection>>();
  private readonly warnings: RateLimitedLog;

  constructor(
    private readonly logins: DeviceLogin,
    private readonly ingest: IngestCore,
    private readonly presence: Presence,
    private readonly metrics: IngestMetrics,
    private readonly clock: Clock,
    private readonly logger: ContextLogger,
    private readonly options: Hj212Options,
    registry: RegistryService,
  ) {
    logins.declareEdge(this.name);
    registry.onCredentialsRevoked((deviceId) => this.disconnect(deviceId));
    this.warnings = new RateLimitedLog(logger, clock, () => metrics.logLinesSuppressed.inc({ context: 'hj212' }));
  }

  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  get port(): number | null {
    return this.boundPort;
  }

  get connectedCount(): number {
    return this.byDevice.size;
  }

  async start(): Promise<void> {
    this.server = createServer((socket) => this.accept(socket));
    this.server.maxConnections = this.options.maxConnections;
    this.server.on('drop', () => this.metrics.hj212Connections.inc({ outcome: 'refused_full' }));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.options.port, this.options.host, () => resolve());
    });
    const address = this.server.address();
    this.boundPort = typeof address === 'object' && address ? address.port : this.options.port;
    this.logger.log('HJ 212 listener started', { host: this.options.host, port: this.boundPort });
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    for (const c of this.connections) c.socket.destroy();
    await closed;
  }

  disconnect(deviceId: string): void {
    for (const c of this.byDevice.get(deviceId) ?? []) c.socket.destroy();
  }

  private accept(socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    const fromAddress = (this.perAddress.get(address) ?? 0) + 1;
    if (fromAddress > this.options.maxConnectionsPerAddress) {
      this.metrics.hj212Connections.inc({ outcome: 'refused_per_address' });
      this.warnings.warn(`per-address:${address}`, 'HJ 212 connection refused: too many from this address', {
        address,
      });
      socket.destroy();
      return;
    }
    this.perAddress.set(address, fromAddress);
    this.metrics.hj212Connections.inc({ outcome: 'accepted' });
    const connection: Connection = {
      socket,
      address,
      framer: new Hj212Framer(),
      queue: Promise.resolve(),
      queued: 0,
      loginFailures: 0,
      login: null,
      lastTimeSetAt: 0,
      // Not socket.setTimeout: any byte resets that, and one byte a minute held a connection for
      // ever (issue 22). A DTU sends a frame in one burst and one at least every few minutes.
      idleTimer: setTimeout(() => this.timedOut(connection, 'idle'), this.options.idleMs),
      frameTimer: null,
    };
    this.connections.add(connection);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.received(connection, chunk));
    socket.on('error', () => undefined); // a reset is the normal end of a DTU's connection
    socket.once('close', () => this.closed(connection));
  }

  private timedOut(c: Connection, why: 'idle' | 'incomplete_frame'): void {
    this.metrics.hj212Connections.inc({ outcome: why === 'idle' ? 'closed_idle' : 'closed_incomplete_frame' });
    c.socket.destroy();
  }

  private closed(c: Connection): void {
    clearTimeout(c.idleTimer);
    if (c.frameTimer) clearTimeout(c.frameTimer);
    this.connections.delete(c);
    const left = (this.perAddress.get(c.address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(c.address, left);
    else this.perAddress.delete(c.address);
    if (c.login) this.unbind(c, c.login.device.id);
  }

  private received(c: Connection, chunk: Buffer): void {
    const events = c.framer.push(chunk);
    // The incomplete-frame clock starts at a frame's first byte and restarts when one completes,
    // so back-to-back frames split across chunks never trip it.
    if (c.frameTimer && (c.framer.pending === 0 || events.some((e) => e.kind !== 'garbage'))) {
      clearTimeout(c.frameTimer);
      c.frameTimer = null;
    }
    if (c.framer.pending > 0 && !c.frameTimer)
      c.frameTimer = setTimeout(() => this.timedOut(c, 'incomplete_frame'), this.options.frameMs);
    for (const event of events) {
      if (event.kind === 'garbage') this.metrics.hj212GarbageBytes.inc(event.bytes);
      else if (event.kind === 'refused')
        this.enqueue(c, () =>
          this.quarantine(c, null, {
            index: null,
            reasons: [{ code: event.code, message: event.message }],
            raw: event.raw,
          }),
        );
      else this.enqueue(c, () => this.frame(c, event.data, event.crc, event.raw));
    }
  }

  private enqueue(c: Connection, work: () => Promise<void>): void {
    c.queued += 1;
    if (c.queued > MAX_QUEUED_FRAMES) c.socket.pause();
    c.queue = c.queue
      .then(work)
      .catch((error: Error) => {
        // A frame that failed (the registry unreadable) is not answered, so the device sends it again.
        this.warnings.warn(`frame-failed:${c.address}`, 'HJ 212 frame could not be handled', {
          address: c.address,
          error: error.message,
        });
      })
      .finally(() => {
        c.queued -= 1;
        if (c.socket.isPaused() && c.queued < RESUME_BELOW_FRAMES && !c.socket.destroyed) c.socket.resume();
      });
  }

  private async frame(c: Connection, data: string, crc: string, raw: string): Promise<void> {
    if (c.socket.destroyed) return;
    const variant = crcVariantOf(data, crc);
    if (variant === null)
      return this.quarantine(
        c,
        null,
        this.rejection(
          'crc_mismatch',
          `CRC ${crc} matches neither the HJ 212 CRC nor the byte-swapped MODBUS one`,
          raw,
        ),
      );
    const message = parseMessage(data);
    if (message === null)
      return this.quarantine(
        c,
        null,
        this.rejection('malformed_segment', 'no CN or no CP=&&…&& in the data segment', raw),
      );
    const device = await this.authenticate(c, message);
    if (device === null) return;
    c.idleTimer.refresh();
    if (variant !== device.hj212.crc)
      return this.quarantine(
        c,
        device,
        this.rejection(
          'crc_variant',
          variant === 'modbus-swapped'
            ? `the frame carries a byte-swapped MODBUS CRC; this device is set to the HJ 212 CRC (set hj212.crc: modbus-swapped if its firmware sends that)`
            : `the frame carries the HJ 212 CRC; this device is set to modbus-swapped (set hj212.crc: hj212)`,
          raw,
        ),
      );
    this.metrics.hj212Commands.inc({ cn: HANDLED_COMMANDS.has(message.cn) ? message.cn : 'other' });
    if (message.cn in DATA_COMMANDS) return this.data(c, device, message, raw);
    if (message.cn === TIME_REQUEST) {
      if (this.options.timeService) this.send(c, setTimeCommand(message, this.clock.now(), device.hj212.crc));
      return;
    }
    if (!ACCEPTED_WITHOUT_DATA.has(message.cn))
      this.warnings.warn(`cn:${device.id}:${message.cn}`, 'HJ 212 command not handled', {
        deviceId: device.id,
        cn: message.cn,
      });
  }

  /** MN and PW of the frame, checked (throttled) unless this connection already logged in with the same pair. */
  private async authenticate(
    c: Connection,
    message: Hj212Message,
  ): Promise<(Device & { hj212: NonNullable<Device['hj212']> }) | null> {
    const { mn, pw } = message;
    if (c.login && c.login.mn === mn && c.login.pw === pw) return c.login.device;
    const result =
      mn && pw ? await this.logins.loginHj212(mn, pw, c.address) : ({ ok: false, reason: 'bad_credentials' } as const);
    if (!result.ok || !result.device.hj212) {
      c.loginFailures += 1;
      this.warnings.warn(`login:${c.address}`, 'HJ 212 frame refused: unknown MN or wrong PW', {
        mn: String(mn ?? '').slice(0, 32),
        address: c.address,
        reason: result.ok ? 'not an HJ 212 device' : result.reason,
      });
      if (c.loginFailures >= MAX_LOGIN_FAILURES_PER_CONNECTION || (!result.ok && result.reason === 'throttled'))
        c.socket.destroy();
      return null;
    }
    const device = result.device as Device & { hj212: NonNullable<Device['hj212']> };
    if (c.login?.device.id !== device.id) {
      if (c.login) this.unbind(c, c.login.device.id);
      this.bind(c, device.id);
    }
    c.login = { mn: mn!, pw: pw!, device };
    return device;
  }

  private async data(
    c: Connection,
    device: Device & { hj212: NonNullable<Device['hj212']> },
    message: Hj212Message,
    raw: string,
  ): Promise<void> {
    const receivedAt = this.clock.now();
    const decoded = decodeHj212Data(
      message,
      device.hj212.units,
      { deviceId: device.id, receivedAt, maxAgeMs: this.options.maxReadingAgeMs },
      raw,
    );
    for (const code of decoded.skippedCodes)
      this.metrics.hj212SkippedCodes.inc({ code: /^[a-z0-9]{1,10}$/.test(code) ? code : 'other' });
    try {
      await this.ingest.execute({
        deviceId: device.id,
        siteId: device.siteId,
        edge: this.name,
        readings: decoded.readings,
        rejections: decoded.rejections,
        warnings: decoded.warnings,
        aggregates: decoded.aggregate ? [decoded.aggregate] : [],
        receivedAt,
        raw: Buffer.from(maskHj212Password(raw), 'latin1'),
      });
    } catch (error) {
      // No answer: the device keeps the data and sends it again (it retries 3 times, 10 s apart).
      this.warnings.warn(
        error instanceof SpoolFullError ? 'spool-full' : `ingest:${device.id}`,
        error instanceof SpoolFullError
          ? 'SPOOL AT QUOTA: HJ 212 data is NOT answered until InfluxDB drains the backlog'
          : 'HJ 212 ingest failed; frame not answered',
        { deviceId: device.id, error: (error as Error).message },
      );
      return;
    }
    if (wantsAnswer(message)) this.send(c, dataAnswer(message, device.hj212.crc));
    // Only real-time data tells the device's clock: buffered minute data (补传) is old by right.
    const ts = decoded.readings[0]?.ts;
    const clockOff =
      decoded.kind === 'rtd' &&
      (ts !== undefined
        ? Math.abs(ts - receivedAt) > MAX_FUTURE_SKEW_MS
        : decoded.rejections.some((r) => r.reasons.some((x) => x.code === 'ts_in_future' || x.code === 'ts_too_old')));
    if (this.options.timeService && clockOff && receivedAt - c.lastTimeSetAt > TIME_SET_INTERVAL_MS) {
      c.lastTimeSetAt = receivedAt;
      this.send(c, setTimeCommand(message, receivedAt, device.hj212.crc));
    }
  }

  /** A refused frame: counted by the core, kept in the quarantine (capped), never answered. */
  private async quarantine(c: Connection, device: Device | null, rejection: Rejection): Promise<void> {
    try {
      await this.ingest.execute({
        // Before a login there is no device: the frame is kept under the address it came from,
        // within the one budget all unauthenticated senders share.
        deviceId: device?.id ?? `hj212@${c.address}`,
        ...(device ? {} : { quarantineBudget: UNAUTHENTICATED_QUARANTINE }),
        siteId: device?.siteId ?? '',
        edge: this.name,
        readings: [],
        rejections: [rejection],
        warnings: [],
        receivedAt: this.clock.now(),
      });
    } catch (error) {
      this.warnings.warn('quarantine', 'HJ 212 refusal could not be quarantined', { error: (error as Error).message });
    }
  }

  private rejection(code: string, message: string, raw: string): Rejection {
    return { index: null, reasons: [{ code, message }], raw: raw.slice(0, QUARANTINE_RAW_LIMIT) };
  }

  private send(c: Connection, text: string): void {
    if (!c.socket.destroyed) c.socket.write(text, 'latin1');
  }

  private bind(c: Connection, deviceId: string): void {
    const set = this.byDevice.get(deviceId) ?? new Set<Connection>();
    set.add(c);
    if (set.size === 1) {
      this.byDevice.set(deviceId, set);
      this.presence.connected(deviceId, this.clock.now());
    }
  }

  private unbind(c: Connection, deviceId: string): void {
    const set = this.byDevice.get(deviceId);
    if (!set?.delete(c) || set.size > 0) return;
    this.byDevice.delete(deviceId);
    this.presence.disconnected(deviceId, this.clock.now());
  }
}
