import type { AlertStore } from './alert-store';
import type { ApiKeyStore } from './api-key-store';
import type { OutboxStore } from './outbox-store';
import type { PeopleStore } from './people-store';
import type { PresenceStore } from './presence-store';
import type { QuarantineStore } from './quarantine-store';
import type { RegistryStore } from './registry-store';
import type { ReportStore } from './report-store';
import type { AlertEventSignal, RuleFeed } from './rule-feed';

/** How much refused input the quarantine keeps. */
export interface QuarantineLimits {
  /** Bytes of raw text and reasons kept; past it the oldest rows are deleted down to 90 %. */
  readonly quotaBytes: number;
  /** Rows older than this (by receive time) are deleted, checked once an hour. */
  readonly retentionMs: number;
}

/**
 * Every shared store port on one database (SQLite in the data folder, or PostgreSQL): what the
 * service, the admin CLI and the port contract tests open. The readings spool is not here: it
 * stays on each instance's own disk (docs/architecture.md, "Stores").
 */
export interface StoreSet {
  /** `sqlite` or `postgres`: for logs, health and benchmark labels. */
  readonly engine: 'sqlite' | 'postgres';
  readonly registry: RegistryStore;
  readonly people: PeopleStore;
  readonly apiKeys: ApiKeyStore;
  readonly presence: PresenceStore;
  readonly quarantine: QuarantineStore;
  readonly alerts: AlertStore;
  readonly outbox: OutboxStore;
  readonly reports: ReportStore;
  /** The shared rule feed and owner lease (several instances); PostgreSQL only. */
  readonly ruleFeed?: RuleFeed;
  /** Alert events committed by any instance (several instances); PostgreSQL only. */
  readonly alertSignal?: AlertEventSignal;
  /** Resolves when the database answers; rejects with the reason when it does not (health). */
  ping(): Promise<void>;
  /** Waits for the writes under way, then closes the database. */
  close(): Promise<void>;
}
