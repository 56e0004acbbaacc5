import mqtt, { MqttClient } from 'mqtt';
import { Socket, createConnection } from 'node:net';
import { Hj212Framer, parseMessage } from '@dustwatch/telemetry';
import { SimHj212, brokenFrames, nextQn, readingFrame } from './hj212-frames';
import { ModelDevice, Overlays, readingValues } from './model';
import { hashUnit } from './noise';
import { malformedPayload } from './payloads';
import { Scenario } from './scenarios';

export interface SimDevice extends ModelDevice {
  readonly secret: string;
  /** Present for a monitor that uploads HJ 212 over TCP (when the run has an HJ 212 address). */
  readonly hj212?: SimHj212;
}

export interface RunnerStats {
  devices: number;
  connected: number;
  messagesSent: number;
  messagesAcked: number;
  /** Valid readings inside acknowledged messages (malformed payloads not counted). */
  readingsAcked: number;
  malformedAcked: number;
  /** Readings the service refused, by first reason, as reported on devices/{id}/errors. */
  refusedByReason: Record<string, number>;
  publishRetries: number;
  reconnects: number;
  /**
   * Connections the service closed within STABLE_CONNECTION_MS of accepting them, with no refusal:
   * the mark of another client using the same device ids (a second simulator on the same fleet).
   */
  earlyDrops: number;
  /** Devices the broker refused at CONNECT, with the reason. */
  connectRefusals: Record<string, string>;
  /** HJ 212 monitors, and the times the service set their clock (CN 1012). */
  hj212Devices: number;
  hj212ClockSets: number;
}

interface Message {
  readonly payload: string | Buffer;
  readonly readings: number;
  readonly malformed: boolean;
  readonly dup: boolean;
}

/** Why the broker refused a CONNECT, in words (MQTT 3.1.1 §3.2.2.3). */
const CONNACK_TEXT: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'identifier rejected',
  3: 'server unavailable',
  4: 'bad username or password (check the fleet file matches the imported registry)',
  5: 'not authorized (device disabled?)',
};

export class SimulatorError extends Error {}

/** A connection that lasted this long earns a fresh backoff; a shorter one keeps backing off. */
export const STABLE_CONNECTION_MS = 30_000;

/** One simulated monitor: its connection, an outbox with a bounded in-flight window, reconnects with backoff. */
abstract class DeviceAgent {
  connected = false;
  silenced = false;
  stopping = false;
  inFlight = 0;
  backoffMs = 1000;
  readonly outbox: Message[] = [];
  readonly buffered: string[] = [];
  nextT = 0;
  /** The service set this monitor's clock (HJ 212 CN 1012): a clock-skew scenario ends there. */
  clockSet = false;
  /** Sends its buffered upload only after live data resumed (real DTUs do; MQTT agents send it first). */
  readonly uploadsAfterLive: boolean = false;
  readonly deferredUpload: Message[] = [];

  constructor(
    readonly device: SimDevice,
    protected readonly fleet: FleetConnection,
  ) {}

  abstract connect(): Promise<void>;
  /** True while messages can go out. */
  protected abstract get sendable(): boolean;
  /** Sends one message; `done` once the service acknowledged it durably, or with an error. */
  protected abstract transmit(message: Message, done: (error?: Error) => void): void;
  /** Closes the connection; `graceful` lets what is in flight finish. */
  protected abstract hangUp(graceful: boolean): Promise<void>;

  protected reconnectPending = false;
  private connectedAt = 0;

  /** CONNACK (MQTT) or TCP connect (HJ 212). The backoff resets only once the connection proves stable. */
  protected onOpened(): void {
    this.connected = true;
    this.connectedAt = Date.now();
    this.fleet.stats.connected += 1;
  }

  /**
   * The connection closed without our asking. Resetting the backoff on every CONNACK made two
   * clients sharing one id (two simulators on one fleet) kick each other about once a second
   * each: 29,400 reconnects in 6 minutes. Now they back off to 30 s and the run says why.
   */
  protected onClosedByPeer(): void {
    if (!this.connected) return;
    this.fleet.stats.connected -= 1;
    this.connected = false;
    if (Date.now() - this.connectedAt >= STABLE_CONNECTION_MS) this.backoffMs = 1000;
    else if (!this.stopping && !this.silenced) this.fleet.stats.earlyDrops += 1;
  }

  protected scheduleReconnect(): void {
    if (this.reconnectPending) return;
    this.reconnectPending = true;
    const delay = this.backoffMs / 2 + Math.random() * this.backoffMs; // jitter, so a fleet does not reconnect in lockstep
    this.backoffMs = Math.min(30_000, this.backoffMs * 2);
    setTimeout(() => {
      this.reconnectPending = false;
      if (this.stopping || this.silenced || this.connected) return;
      this.fleet.stats.reconnects += 1;
      void this.hangUp(false);
      this.connect().catch(() => undefined); // its close handler schedules the next attempt
    }, delay).unref();
  }

  /** Drops the connection on purpose (silence scenario or reconnect storm). */
  drop(reconnect: boolean): void {
    this.silenced = !reconnect;
    if (this.connected) this.fleet.stats.connected -= 1;
    this.connected = false;
    void this.hangUp(false);
    if (reconnect) this.scheduleReconnect();
  }

  resume(): void {
    this.silenced = false;
    if (!this.connected) this.connect().catch(() => undefined);
  }

  enqueue(message: Message): void {
    this.outbox.push(message);
    this.pump();
  }

  pump(): void {
    while (this.sendable && this.inFlight < this.fleet.window && this.outbox.length > 0) {
      const message = this.outbox.shift()!;
      this.inFlight += 1;
      this.fleet.stats.messagesSent += 1;
      this.transmit(message, (error) => {
        this.inFlight -= 1;
        if (error) {
          // Not acknowledged: keep it and send it again after reconnecting (at least once; a
          // redelivered reading is stored once by the service).
          this.fleet.stats.publishRetries += 1;
          if (!this.stopping) this.outbox.unshift(message);
        } else {
          this.fleet.stats.messagesAcked += 1;
          if (message.malformed) this.fleet.stats.malformedAcked += 1;
          else this.fleet.stats.readingsAcked += message.readings;
        }
        this.fleet.onAck(this);
        setImmediate(() => this.pump());
      });
    }
  }

  get idle(): boolean {
    return (
      this.outbox.length === 0 && this.inFlight === 0 && this.buffered.length === 0 && this.deferredUpload.length === 0
    );
  }

  /** The buffered upload, once live data has gone out again. */
  releaseDeferredUpload(): void {
    if (this.deferredUpload.length === 0) return;
    this.outbox.push(...this.deferredUpload.splice(0));
    this.pump();
  }

  async close(): Promise<void> {
    this.stopping = true;
    await this.hangUp(true);
  }
}

/** A monitor speaking contract v1 over MQTT. */
class MqttAgent extends DeviceAgent {
  client: MqttClient | null = null;

  get topic(): string {
    return `devices/${this.device.id}/readings`;
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const client = mqtt.connect(this.fleet.url, {
        clientId: this.device.id,
        username: this.device.id,
        password: this.device.secret,
        protocolVersion: 4,
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: 10_000,
      });
      this.client = client;
      let settled = false;
      client.on('connect', () => {
        this.onOpened();
        client.subscribe(`devices/${this.device.id}/errors`, { qos: 1 });
        settled = true;
        resolve();
        this.pump();
      });
      client.on('message', (_topic, payload) => this.fleet.onErrorReport(payload));
      client.on('error', (error: Error & { code?: number | string }) => {
        if (typeof error.code === 'number') {
          this.fleet.stats.connectRefusals[this.device.id] =
            `CONNACK ${error.code}: ${CONNACK_TEXT[error.code] ?? 'refused'}`;
          this.stopping = true; // the credentials will not get better by retrying
        }
        if (!settled) {
          settled = true;
          reject(
            new SimulatorError(
              typeof error.code === 'number'
                ? `${this.device.id}: the broker refused the connection (CONNACK ${error.code}: ${CONNACK_TEXT[error.code] ?? 'refused'})`
                : `${this.device.id}: cannot reach the broker at ${this.fleet.url} (${error.code ?? error.message})`,
            ),
          );
        }
      });
      client.on('close', () => {
        if (this.client !== client || (!this.connected && settled && (this.silenced || this.reconnectPending))) return;
        this.onClosedByPeer();
        if (!settled) {
          settled = true;
          reject(new SimulatorError(`${this.device.id}: the connection to ${this.fleet.url} closed before CONNACK`));
        }
        if (!this.stopping && !this.silenced) this.scheduleReconnect();
      });
    });
  }

  /** True while PUBLISHes can go out: mqtt.js fails them synchronously on a closing client. */
  protected get sendable(): boolean {
    const client = this.client;
    return this.connected && client !== null && client.connected && !client.disconnecting;
  }

  protected transmit(message: Message, done: (error?: Error) => void): void {
    this.client!.publish(this.topic, message.payload, { qos: 1, dup: message.dup }, (error) => done(error));
  }

  protected async hangUp(graceful: boolean): Promise<void> {
    const client = this.client;
    if (!client) return;
    if (!graceful) {
      client.removeAllListeners('close');
      client.end(true);
      return;
    }
    await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
  }
}

/**
 * A monitor speaking HJ 212-2017 over TCP (docs/hj212.md): each reading a real-time frame (CN
 * 2011) answered by CN 9014; a buffered upload after an outage as minute data (CN 2051), sent
 * after live data has resumed, as real DTUs do; frames written in two TCP segments; its clock set
 * by the service's CN 1012.
 */
class Hj212Agent extends DeviceAgent {
  override readonly uploadsAfterLive = true;
  private socket: Socket | null = null;
  private readonly awaiting = new Map<string, { settle: (error?: Error) => void; timer: NodeJS.Timeout }>();

  constructor(
    device: SimDevice,
    fleet: FleetConnection,
    private readonly address: { host: string; port: number },
  ) {
    super(device, fleet);
  }

  private get hj(): SimHj212 {
    return this.device.hj212!;
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(this.address);
      this.socket = socket;
      const framer = new Hj212Framer();
      let settled = false;
      socket.once('connect', () => {
        this.onOpened();
        settled = true;
        resolve();
        this.pump();
      });
      socket.on('data', (chunk) => {
        for (const e of framer.push(chunk)) if (e.kind === 'frame') this.answer(e.data);
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        if (settled) return;
        settled = true;
        reject(
          new SimulatorError(
            `${this.device.id}: cannot reach the HJ 212 listener at ${this.address.host}:${this.address.port} (${error.code ?? error.message})`,
          ),
        );
      });
      socket.on('close', () => {
        if (this.socket !== socket) return;
        this.onClosedByPeer();
        this.failAwaiting(new Error('connection closed'));
        if (!this.stopping && !this.silenced) this.scheduleReconnect();
      });
    });
  }

  private answer(data: string): void {
    const message = parseMessage(data);
    if (message?.cn === '1012') {
      this.clockSet = true;
      this.fleet.stats.hj212ClockSets += 1;
      return;
    }
    const waiting = message?.cn === '9014' && message.qn ? this.awaiting.get(message.qn) : undefined;
    if (!waiting) return;
    this.forget(message!.qn!);
    waiting.settle();
  }

  protected get sendable(): boolean {
    return this.connected && this.socket !== null && !this.socket.destroyed;
  }

  protected transmit(message: Message, done: (error?: Error) => void): void {
    const now = Date.now();
    if (message.malformed) {
      // Broken frames are never answered (or answered as kept): sent, not awaited.
      for (const f of brokenFrames(this.hj, now)) this.write(f);
      return done();
    }
    const text = typeof message.payload === 'string' ? message.payload : message.payload.toString('utf8');
    const batch = text.startsWith('[');
    const readings = (batch ? JSON.parse(text) : [JSON.parse(text)]) as { ts: number }[];
    // Settled once: when every frame of the message is answered, or at the first failure.
    let left = readings.length;
    let settled = false;
    const qns = readings.map(() => nextQn(now));
    const settle = (error?: Error): void => {
      if (settled) return;
      if (error) {
        settled = true;
        for (const qn of qns) this.forget(qn);
        return done(error);
      }
      if (--left === 0) {
        settled = true;
        done();
      }
    };
    readings.forEach((reading, i) => {
      // A device waits 10 s for its answer (HJ 212-2017 §6.5), then sends again.
      const timer = setTimeout(() => settle(new Error(`no 9014 for QN ${qns[i]} within 10 s`)), 10_000);
      timer.unref();
      this.awaiting.set(qns[i], { settle, timer });
      this.write(readingFrame(this.hj, reading, batch ? '2051' : '2011', qns[i]));
    });
  }

  private forget(qn: string): void {
    const waiting = this.awaiting.get(qn);
    if (!waiting) return;
    clearTimeout(waiting.timer);
    this.awaiting.delete(qn);
  }

  /** Written in two TCP segments at an arbitrary point: the listener must reassemble. */
  private write(text: string): void {
    const cut = 1 + Math.floor(Math.random() * (text.length - 1));
    this.socket?.write(text.slice(0, cut), 'latin1');
    this.socket?.write(text.slice(cut), 'latin1');
  }

  private failAwaiting(error: Error): void {
    const waiting = [...this.awaiting.values()];
    for (const w of waiting) clearTimeout(w.timer);
    this.awaiting.clear();
    for (const w of waiting) w.settle(error);
  }

  protected async hangUp(graceful: boolean): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    if (!socket) return;
    if (graceful) await new Promise<void>((resolve) => socket.end(() => resolve()));
    else socket.destroy();
    this.failAwaiting(new Error('connection closed'));
  }
}

/** A fleet of simulated monitors connected to one broker. */
export class FleetConnection {
  readonly stats: RunnerStats;
  readonly agents: DeviceAgent[];
  onAck: (agent: DeviceAgent) => void = () => undefined;

  /**
   * @param hj212 where HJ 212 monitors (devices with `hj212`) connect; without it every device
   *   uses MQTT.
   */
  constructor(
    readonly url: string,
    devices: readonly SimDevice[],
    readonly window: number,
    hj212?: { host: string; port: number },
  ) {
    this.agents = devices.map((d) => (d.hj212 && hj212 ? new Hj212Agent(d, this, hj212) : new MqttAgent(d, this)));
    this.stats = {
      devices: devices.length,
      connected: 0,
      messagesSent: 0,
      messagesAcked: 0,
      readingsAcked: 0,
      malformedAcked: 0,
      refusedByReason: {},
      publishRetries: 0,
      reconnects: 0,
      earlyDrops: 0,
      connectRefusals: {},
      hj212Devices: this.agents.filter((a) => a instanceof Hj212Agent).length,
      hj212ClockSets: 0,
    };
  }

  /**
   * Connects every device, 25 at a time. Fails with a clear message when the broker cannot be
   * reached at all or refuses every device; a few refusals are reported in the summary.
   */
  async connectAll(): Promise<void> {
    const failures: SimulatorError[] = [];
    for (let i = 0; i < this.agents.length; i += 25) {
      const results = await Promise.allSettled(this.agents.slice(i, i + 25).map((a) => a.connect()));
      for (const r of results) if (r.status === 'rejected') failures.push(r.reason as SimulatorError);
      if (i === 0 && failures.length === results.length) break; // nothing gets through: say so now
    }
    if (failures.length > 0 && this.stats.connected === 0) {
      for (const a of this.agents) a.stopping = true;
      await this.close();
      throw new SimulatorError(failures[0].message);
    }
  }

  onErrorReport(payload: Buffer): void {
    try {
      const report = JSON.parse(payload.toString()) as { rejected?: { reasons?: { code?: string }[] }[] };
      for (const r of report.rejected ?? []) {
        const code = r.reasons?.[0]?.code ?? 'unknown';
        this.stats.refusedByReason[code] = (this.stats.refusedByReason[code] ?? 0) + 1;
      }
    } catch {
      this.stats.refusedByReason['unparsable_error_report'] =
        (this.stats.refusedByReason['unparsable_error_report'] ?? 0) + 1;
    }
  }

  get idle(): boolean {
    return this.agents.every((a) => a.idle || a.stopping);
  }

  /** Waits until every queued message is acknowledged, or the timeout passes. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.idle) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
    // Error reports for the last messages arrive just after their PUBACKs.
    await new Promise((r) => setTimeout(r, 300));
    return true;
  }

  async close(): Promise<void> {
    await Promise.all(this.agents.map((a) => a.close()));
  }
}

export interface RunOptions {
  readonly seed: number;
  readonly intervalMs: number;
  /** Simulated milliseconds per wall millisecond. */
  readonly speed: number;
  readonly start: number;
  readonly end: number;
  readonly scenarios: readonly Scenario[];
  readonly overlays: Overlays;
  /** Wall clock; injectable for tests. */
  readonly now?: () => number;
  readonly shouldStop?: () => boolean;
  readonly onTick?: (simNow: number) => void;
}

const MINUTE = 60_000;

/**
 * Contract v1 allows 500 readings per array, and the broker refuses packets over 64 KiB: a full
 * 10-metric reading is ~190 bytes, so 500 of them would not fit. Arrays stop at whichever comes first.
 */
export const MAX_ARRAY_READINGS = 500;
export const MAX_ARRAY_BYTES = 60_000;

export function chunkReadings(readings: readonly string[]): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let bytes = 2;
  for (const r of readings) {
    if (current.length > 0 && (current.length >= MAX_ARRAY_READINGS || bytes + r.length + 1 > MAX_ARRAY_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 2;
    }
    current.push(r);
    bytes += r.length + 1;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Reading times of a device: a fixed per-device phase inside the interval, so a fleet does not publish in bursts. */
export function firstReadingTime(seed: number, deviceId: string, start: number, intervalMs: number): number {
  const phase = Math.floor(hashUnit(seed, `phase:${deviceId}`, 0) * intervalMs);
  const t = Math.floor(start / intervalMs) * intervalMs + phase;
  return t < start ? t + intervalMs : t;
}

/**
 * Plays the fleet from `start` to `end` in simulated time at `speed`, applying the scenarios.
 * Returns when the period is over (or shouldStop) and every queued message is acknowledged.
 */
export async function runFleet(
  fleet: FleetConnection,
  options: RunOptions,
): Promise<{ simulatedFrom: number; simulatedTo: number; stoppedEarly: boolean }> {
  const wall = options.now ?? Date.now;
  const wallStart = wall();
  const simNow = (): number => options.start + (wall() - wallStart) * options.speed;
  for (const a of fleet.agents)
    a.nextT = firstReadingTime(options.seed, a.device.id, options.start, options.intervalMs);
  const oneShots = options.scenarios.filter((s) => s.kind === 'malformed' || s.kind === 'reconnect-storm');
  const fired = new Set<Scenario>();
  let stoppedEarly = false;
  let reached = options.start;

  while (true) {
    const now = Math.min(simNow(), options.end);
    reached = now;
    for (const agent of fleet.agents) {
      while (agent.nextT <= now) {
        produce(agent, agent.nextT, options);
        agent.nextT += options.intervalMs;
      }
      releaseSilence(agent, now, options.scenarios);
    }
    for (const s of oneShots) {
      if (fired.has(s) || s.at > now) continue;
      fired.add(s);
      if (s.kind === 'malformed') {
        const agent = fleet.agents.find((a) => a.device.id === s.device);
        for (const kind of s.payloads)
          agent?.enqueue({ payload: malformedPayload(kind, wall()), readings: 0, malformed: true, dup: false });
      } else if (s.kind === 'reconnect-storm') {
        for (const agent of fleet.agents) if (!agent.silenced) agent.drop(true);
      }
    }
    options.onTick?.(now);
    if (now >= options.end) break;
    if (options.shouldStop?.()) {
      stoppedEarly = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const agent of fleet.agents) {
    releaseSilence(agent, Infinity, options.scenarios);
    agent.releaseDeferredUpload(); // the run ends: no live reading to wait for
  }
  return { simulatedFrom: options.start, simulatedTo: reached, stoppedEarly };
}

function produce(agent: DeviceAgent, t: number, options: RunOptions): void {
  const id = agent.device.id;
  const silence = options.scenarios.find(
    (s) => s.kind === 'silence' && s.device === id && t >= s.at && t < s.at + s.minutes * MINUTE,
  );
  const skew = options.scenarios.find(
    (s) => s.kind === 'clock-skew' && s.device === id && t >= s.at && t < s.at + s.minutes * MINUTE,
  );
  const twice = options.scenarios.some(
    (s) => s.kind === 'duplicates' && s.device === id && t >= s.at && t < s.at + s.minutes * MINUTE,
  );
  const ts = skew && skew.kind === 'clock-skew' && !agent.clockSet ? t + skew.skewSeconds * 1000 : t;
  const reading = JSON.stringify({ ts, ...readingValues(options.seed, agent.device, t, options.overlays) });
  if (silence) {
    // The device is off the network: it keeps its readings and sends them when it is back.
    if (!agent.silenced) agent.drop(false);
    agent.buffered.push(reading);
    return;
  }
  agent.enqueue({ payload: reading, readings: 1, malformed: false, dup: false });
  if (twice) agent.enqueue({ payload: reading, readings: 0, malformed: false, dup: true });
  agent.releaseDeferredUpload();
}

/** After a silence, the buffered readings go out as arrays of up to 500 (contract v1). */
function releaseSilence(agent: DeviceAgent, now: number, scenarios: readonly Scenario[]): void {
  if (!agent.silenced) return;
  const id = agent.device.id;
  const stillSilent = scenarios.some(
    (s) => s.kind === 'silence' && s.device === id && now >= s.at && now < s.at + s.minutes * MINUTE,
  );
  if (stillSilent) return;
  for (const chunk of chunkReadings(agent.buffered)) {
    const upload = { payload: `[${chunk.join(',')}]`, readings: chunk.length, malformed: false, dup: false };
    (agent.uploadsAfterLive ? agent.deferredUpload : agent.outbox).push(upload);
  }
  agent.buffered.length = 0;
  agent.resume();
}

/**
 * Historic readings for [from, to): each device publishes its series as arrays of up to 500,
 * oldest first, refilled as PUBACKs come back so memory stays flat for long periods.
 */
export async function backfillFleet(
  fleet: FleetConnection,
  options: {
    seed: number;
    intervalMs: number;
    from: number;
    to: number;
    overlays: Overlays;
    batch?: number;
    onProgress?: (acked: number, total: number) => void;
    shouldStop?: () => boolean;
  },
): Promise<{ total: number; stoppedEarly: boolean }> {
  const batch = options.batch ?? MAX_ARRAY_READINGS;
  let total = 0;
  for (const agent of fleet.agents) {
    agent.nextT = firstReadingTime(options.seed, agent.device.id, options.from, options.intervalMs);
    if (agent.nextT < options.to) total += Math.ceil((options.to - agent.nextT) / options.intervalMs);
  }
  const refill = (agent: DeviceAgent): void => {
    if (options.shouldStop?.()) return;
    while (agent.outbox.length < fleet.window && agent.nextT < options.to) {
      const readings: string[] = [];
      let bytes = 2;
      while (readings.length < batch && bytes < MAX_ARRAY_BYTES - 400 && agent.nextT < options.to) {
        const reading = JSON.stringify({
          ts: agent.nextT,
          ...readingValues(options.seed, agent.device, agent.nextT, options.overlays),
        });
        readings.push(reading);
        bytes += reading.length + 1;
        agent.nextT += options.intervalMs;
      }
      agent.enqueue({ payload: `[${readings.join(',')}]`, readings: readings.length, malformed: false, dup: false });
    }
  };
  fleet.onAck = (agent) => {
    refill(agent);
    options.onProgress?.(fleet.stats.readingsAcked, total);
  };
  for (const agent of fleet.agents) refill(agent);
  while (!(fleet.idle && fleet.agents.every((a) => a.nextT >= options.to || a.stopping))) {
    if (options.shouldStop?.()) return { total, stoppedEarly: true };
    await new Promise((r) => setTimeout(r, 50));
  }
  return { total, stoppedEarly: false };
}
