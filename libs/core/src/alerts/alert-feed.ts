import { ContextLogger } from '../kernel/logger';
import { Scheduler, TimerHandle } from '../kernel/scheduler';
import { AlertStore } from '../ports/alert-store';
import { AlertEventSignal } from '../ports/rule-feed';
import { AlertEventView } from './alert.model';

/**
 * Committed alert events, in process: wakes the notification dispatcher and feeds the live SSE
 * streams. It carries nothing that is not already in the store, so a listener that misses an
 * event (a reconnecting SSE client) replays it from `alert_events` by id.
 */
export class AlertFeed {
  private readonly listeners = new Set<(events: readonly AlertEventView[]) => void>();

  subscribe(listener: (events: readonly AlertEventView[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Events this instance just committed. */
  publish(events: readonly AlertEventView[]): void {
    this.deliver(events);
  }

  async start(): Promise<void> {
    return;
  }

  async stop(): Promise<void> {
    return;
  }

  protected deliver(events: readonly AlertEventView[]): void {
    if (events.length === 0) return;
    for (const listener of this.listeners) listener(events);
  }
}

/** The reader looks this often even without a notification (one lost while its connection was down). */
const POLL_MS = 1000;

/**
 * Several instances (docs/cluster.md): every instance's listeners get every instance's events,
 * in id order. A local commit only notifies (LISTEN/NOTIFY); each instance then reads the events
 * after the last one it delivered from the shared store and delivers them — its own the same
 * way, so an SSE stream on instance C sees an alert raised on A, and never an id below one it
 * already sent (the PostgreSQL alert store makes ids visible in order).
 */
export class SharedAlertFeed extends AlertFeed {
  private cursor = 0;
  private reading: Promise<void> | null = null;
  private again = false;
  private unlisten: (() => Promise<void>) | null = null;
  private timer: TimerHandle | null = null;

  constructor(
    private readonly store: AlertStore,
    private readonly signal: AlertEventSignal,
    private readonly scheduler: Scheduler,
    private readonly logger: ContextLogger,
  ) {
    super();
  }

  override publish(events: readonly AlertEventView[]): void {
    if (events.length === 0) return;
    this.signal.notify().catch((error: Error) =>
      this.logger.warn('alert events not announced to the other instances; they read them within a second', {
        error: error.message,
      }),
    );
    this.read();
  }

  override async start(): Promise<void> {
    this.cursor = await this.store.lastEventId();
    this.unlisten = await this.signal.listen(() => this.read());
    this.timer = this.scheduler.every(POLL_MS, () => this.read());
  }

  override async stop(): Promise<void> {
    this.timer?.cancel();
    await this.unlisten?.();
    await this.reading;
  }

  /** One reader at a time; a nudge while it reads makes it read once more. */
  private read(): void {
    if (this.reading) {
      this.again = true;
      return;
    }
    this.again = false;
    this.reading = this.readAll()
      .catch((error: Error) => this.logger.warn('alert events not read; retried', { error: error.message }))
      .finally(() => {
        this.reading = null;
        if (this.again) this.read();
      });
  }

  private async readAll(): Promise<void> {
    for (let page = await this.store.eventsAfter(this.cursor, 500); page.length > 0;) {
      this.cursor = page[page.length - 1].id;
      this.deliver(page);
      page = page.length < 500 ? [] : await this.store.eventsAfter(this.cursor, 500);
    }
  }
}
