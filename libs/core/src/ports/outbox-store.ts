import { AlertEventView } from '../alerts/alert.model';

export interface OutboxRow {
  id: number;
  deliveryId: string;
  eventId: number;
  alertId: number;
  channel: string;
  attempts: number;
  nextAttemptAt: number;
}

export type OutboxState = 'pending' | 'delivered' | 'dead';

export interface OutboxView {
  id: number;
  deliveryId: string;
  eventId: number;
  alertId: number;
  channel: string;
  state: OutboxState;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

export type DeliveryOutcome = { id: number; attempts: number; at: number } & (
  { ok: true } | { ok: false; nextAttemptAt: number; error: string; dead: boolean }
);

/**
 * The notification outbox. Rows are written by the alert ledger in its unit of work
 * (AlertTx.enqueue) and delivered by whoever *claims* them: a claim is a lease (owner, until) taken in one
 * statement, so two dispatchers — two service instances — never deliver the same row at once,
 * and a crashed one's lease simply runs out. A row is never claimed while an earlier pending row
 * of the same alert and channel is leased to someone else, so each receiver sees one alert's
 * events in order.
 */
export interface OutboxStore {
  /** Leases the oldest due rows of a channel to `owner` until `now + leaseMs`. */
  claim(channel: string, limit: number, owner: string, now: number, leaseMs: number): Promise<OutboxRow[]>;
  events(ids: readonly number[]): Promise<Map<number, AlertEventView>>;
  /** Records a round of outcomes in one transaction and releases their leases. */
  recordOutcomes(outcomes: readonly DeliveryOutcome[]): Promise<void>;
  retry(id: number, now: number): Promise<boolean>;
  list(state: OutboxState | undefined, limit: number): Promise<OutboxView[]>;
  counts(): Promise<Record<string, number>>;
  pruneDelivered(before: number): Promise<number>;
}
