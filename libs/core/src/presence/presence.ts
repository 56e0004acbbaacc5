import { Clock } from '../kernel/clock';
import { ContextLogger } from '../kernel/logger';
import { Scheduler, TimerHandle } from '../kernel/scheduler';
import { DevicePresence, PresenceStore } from '../ports/presence-store';

/**
 * Two views of one device's presence, merged field by field: the later of each time; `online` and
 * the status text from the view whose latest event of their kind is the later one (a tie keeps
 * `a`'s). The PostgreSQL store merges the same way when several instances write.
 */
export function mergePresence(a: DevicePresence, b: DevicePresence): DevicePresence {
  const max = (x: number | null, y: number | null): number | null => (x === null ? y : y === null ? x : Math.max(x, y));
  const lastEvent = (p: DevicePresence): number => Math.max(p.lastConnectAt ?? -1, p.lastDisconnectAt ?? -1);
  const statusFromB = (b.lastStatusAt ?? -1) > (a.lastStatusAt ?? -1);
  return {
    online: lastEvent(b) > lastEvent(a) ? b.online : a.online,
    lastConnectAt: max(a.lastConnectAt, b.lastConnectAt),
    lastDisconnectAt: max(a.lastDisconnectAt, b.lastDisconnectAt),
    lastSeenAt: max(a.lastSeenAt, b.lastSeenAt),
    lastStatus: statusFromB ? b.lastStatus : a.lastStatus,
    lastStatusAt: max(a.lastStatusAt, b.lastStatusAt),
  };
}

const EMPTY: DevicePresence = {
  online: false,
  lastConnectAt: null,
  lastDisconnectAt: null,
  lastSeenAt: null,
  lastStatus: null,
  lastStatusAt: null,
};

/**
 * The one owner of who is connected and when each device was last heard from. State lives here,
 * in memory, and every reader (the API, the fleet snapshot, the offline rule) reads it here, so
 * no read ever flushes anything. Changes are written behind, in one transaction per flush
 * (every `flushMs` and at shutdown): an fsync per CONNECT would stall a reconnect storm of the
 * whole fleet, and last-seen changes with every reading.
 */
export class Presence {
  private readonly state = new Map<string, DevicePresence>();
  private dirty = new Map<string, DevicePresence>();
  private timer: TimerHandle | null = null;
  private reloadTimer: TimerHandle | null = null;

  /**
   * @param sharedReloadMs several instances (docs/cluster.md): the devices' connections are the
   *   broker's and their readings spread over every instance, so the record is shared — each
   *   instance writes what it heard and merges the others' from the store this often. 0: this
   *   instance is the only one (the default).
   */
  constructor(
    private readonly store: PresenceStore,
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
    private readonly logger: ContextLogger,
    private readonly flushMs = 2000,
    private readonly sharedReloadMs = 0,
  ) {}

  /** Loads the record; at start-up of the only instance nobody is connected yet, whatever the last run recorded. */
  async start(): Promise<void> {
    const now = this.clock.now();
    for (const [id, p] of await this.store.loadAll()) {
      this.state.set(id, p);
      if (p.online && this.sharedReloadMs === 0)
        this.update(id, { online: false, lastDisconnectAt: p.lastDisconnectAt ?? now });
    }
    await this.flush();
    this.timer = this.scheduler.every(this.flushMs, () => void this.flush());
    if (this.sharedReloadMs > 0)
      this.reloadTimer = this.scheduler.every(this.sharedReloadMs, () => void this.mergeShared());
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    this.reloadTimer?.cancel();
    this.timer = null;
    await this.flush();
  }

  /**
   * Several instances: what the others wrote, merged field by field (the newer of each). Only
   * the rows saved in the last three rounds (a write that commits a little late is still seen;
   * merging a row twice changes nothing), not every device each time.
   */
  private async mergeShared(): Promise<void> {
    try {
      const recent = this.store.loadRecent
        ? await this.store.loadRecent(3 * this.sharedReloadMs)
        : await this.store.loadAll();
      for (const [id, theirs] of recent) {
        const mine = this.state.get(id);
        this.state.set(id, mine ? Object.assign(mine, mergePresence(mine, theirs)) : theirs);
      }
    } catch (error) {
      this.logger.warn('shared device presence not read; retried', { error: (error as Error).message });
    }
  }

  connected(deviceId: string, at: number): void {
    this.update(deviceId, { online: true, lastConnectAt: at });
  }

  disconnected(deviceId: string, at: number): void {
    this.update(deviceId, { online: false, lastDisconnectAt: at });
  }

  /** An accepted reading arrived. */
  seen(deviceId: string, at: number): void {
    const entry = this.state.get(deviceId);
    if (entry && entry.lastSeenAt !== null && entry.lastSeenAt >= at) return;
    if (entry) {
      entry.lastSeenAt = at;
      this.dirty.set(deviceId, entry);
    } else this.update(deviceId, { lastSeenAt: at });
  }

  /** A message on the device's status topic, typically its last will ("offline"). */
  statusMessage(deviceId: string, text: string, at: number): void {
    this.update(deviceId, { lastStatus: text.slice(0, 256), lastStatusAt: at });
  }

  get(deviceId: string): Readonly<DevicePresence> {
    return this.state.get(deviceId) ?? EMPTY;
  }

  lastSeenAt(deviceId: string): number | undefined {
    return this.state.get(deviceId)?.lastSeenAt ?? undefined;
  }

  /** Writes what changed since the last flush. A failed write keeps the changes for the next one. */
  async flush(): Promise<void> {
    if (this.dirty.size === 0) return;
    const batch = this.dirty;
    this.dirty = new Map();
    try {
      await this.store.save(batch);
    } catch (error) {
      for (const [id, p] of batch) if (!this.dirty.has(id)) this.dirty.set(id, p);
      this.logger.error('device presence not saved; will retry', {
        devices: batch.size,
        error: (error as Error).message,
      });
    }
  }

  /** Mutates in place: `seen` runs for every reading and should not allocate. */
  private update(deviceId: string, change: Partial<DevicePresence>): void {
    let entry = this.state.get(deviceId);
    if (!entry) {
      entry = { ...EMPTY };
      this.state.set(deviceId, entry);
    }
    Object.assign(entry, change);
    this.dirty.set(deviceId, entry);
  }
}
