import mqtt, { MqttClient } from 'mqtt';
import { ModelDevice, Overlays, readingValues } from './model';
import { hashUnit } from './noise';
import { malformedPayload } from './payloads';
import { Scenario } from './scenarios';

export interface SimDevice extends ModelDevice {
  readonly secret: string;
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
  /** Devices the broker refused at CONNECT, with the reason. */
  connectRefusals: Record<string, string>;
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

/** One simulated monitor: its MQTT connection, an outbox with a bounded in-flight window, reconnects with backoff. */
class DeviceAgent {
  client: MqttClient | null = null;
  connected = false;
  silenced = false;
  stopping = false;
  inFlight = 0;
  backoffMs = 1000;
  readonly outbox: Message[] = [];
  readonly buffered: string[] = [];
  nextT = 0;

  constructor(
    readonly device: SimDevice,
    private readonly fleet: FleetConnection,
  ) {}

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
        this.connected = true;
        this.backoffMs = 1000;
        this.fleet.stats.connected += 1;
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
        if (this.connected) this.fleet.stats.connected -= 1;
        this.connected = false;
        if (!settled) {
          settled = true;
          reject(new SimulatorError(`${this.device.id}: the connection to ${this.fleet.url} closed before CONNACK`));
        }
        if (!this.stopping && !this.silenced) this.scheduleReconnect();
      });
    });
  }

  private reconnectPending = false;

  private scheduleReconnect(): void {
    if (this.reconnectPending) return;
    this.reconnectPending = true;
    const delay = this.backoffMs / 2 + Math.random() * this.backoffMs; // jitter, so a fleet does not reconnect in lockstep
    this.backoffMs = Math.min(30_000, this.backoffMs * 2);
    setTimeout(() => {
      this.reconnectPending = false;
      if (this.stopping || this.silenced || this.connected) return;
      this.fleet.stats.reconnects += 1;
      this.client?.removeAllListeners();
      this.client?.end(true);
      this.connect().catch(() => undefined); // its close handler schedules the next attempt
    }, delay).unref();
  }

  /** Drops the connection on purpose (silence scenario or reconnect storm). */
  drop(reconnect: boolean): void {
    this.silenced = !reconnect;
    if (this.connected) this.fleet.stats.connected -= 1;
    this.connected = false;
    const client = this.client;
    client?.end(true);
    // end() does not emit 'close' for a connection we dropped ourselves in every mqtt.js state:
    // schedule the reconnect here for a storm.
    if (reconnect && client) this.scheduleReconnect();
  }

  resume(): void {
    this.silenced = false;
    if (!this.connected) this.connect().catch(() => undefined);
  }

  enqueue(message: Message): void {
    this.outbox.push(message);
    this.pump();
  }

  /** True while PUBLISHes can go out: mqtt.js fails them synchronously on a closing client. */
  private get sendable(): boolean {
    const client = this.client;
    return this.connected && client !== null && client.connected && !client.disconnecting;
  }

  pump(): void {
    const client = this.client;
    while (client && this.sendable && this.inFlight < this.fleet.window && this.outbox.length > 0) {
      const message = this.outbox.shift()!;
      this.inFlight += 1;
      this.fleet.stats.messagesSent += 1;
      client.publish(this.topic, message.payload, { qos: 1, dup: message.dup }, (error) => {
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
    return this.outbox.length === 0 && this.inFlight === 0 && this.buffered.length === 0;
  }

  async close(): Promise<void> {
    this.stopping = true;
    const client = this.client;
    if (client) await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
  }
}

/** A fleet of simulated monitors connected to one broker. */
export class FleetConnection {
  readonly stats: RunnerStats;
  readonly agents: DeviceAgent[];
  onAck: (agent: DeviceAgent) => void = () => undefined;

  constructor(
    readonly url: string,
    devices: readonly SimDevice[],
    readonly window: number,
  ) {
    this.agents = devices.map((d) => new DeviceAgent(d, this));
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
      connectRefusals: {},
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
  for (const agent of fleet.agents) releaseSilence(agent, Infinity, options.scenarios);
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
  const ts = skew && skew.kind === 'clock-skew' ? t + skew.skewSeconds * 1000 : t;
  const reading = JSON.stringify({ ts, ...readingValues(options.seed, agent.device, t, options.overlays) });
  if (silence) {
    // The device is off the network: it keeps its readings and sends them when it is back.
    if (!agent.silenced) agent.drop(false);
    agent.buffered.push(reading);
    return;
  }
  agent.enqueue({ payload: reading, readings: 1, malformed: false, dup: false });
  if (twice) agent.enqueue({ payload: reading, readings: 0, malformed: false, dup: true });
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
    agent.outbox.push({ payload: `[${chunk.join(',')}]`, readings: chunk.length, malformed: false, dup: false });
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
