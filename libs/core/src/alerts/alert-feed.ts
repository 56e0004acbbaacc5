import { AlertEventView } from './alert.model';

/**
 * Committed alert events, in process: wakes the notification dispatcher and feeds the live SSE
 * streams. It carries nothing that is not already in SQLite, so a listener that misses an event
 * (a reconnecting SSE client) replays it from `alert_events` by id.
 */
export class AlertFeed {
  private readonly listeners = new Set<(events: readonly AlertEventView[]) => void>();

  subscribe(listener: (events: readonly AlertEventView[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(events: readonly AlertEventView[]): void {
    if (events.length === 0) return;
    for (const listener of this.listeners) listener(events);
  }
}
