/**
 * The accepted-readings journal entry of one reading: its device time and the values the
 * stateful consumers (rule windows) need, as JSON. Its key (device, ts) also identifies a
 * redelivered reading, which is then neither spooled nor counted twice.
 */
export interface JournalEntry {
  readonly deviceId: string;
  readonly ts: number;
  readonly vals: string;
}

/** One line of line protocol for InfluxDB, with its journal entry (none for readings without a device time, or for non-reading points). */
export interface SpoolEntry {
  readonly line: string;
  readonly journal: JournalEntry | null;
}

export interface SpoolBatch {
  readonly firstId: number;
  readonly lastId: number;
  readonly lines: string[];
  readonly bytes: number;
  readonly oldestReceivedAt: number;
}

/**
 * The durable hand-off between "acknowledged to the device" and "acknowledged by InfluxDB"
 * (the spool), plus the journal of recent accepted readings. `commit` resolves only when the
 * entries are on disk; the edge acknowledges only then.
 */
export interface ReadingsStore {
  readonly depth: number;
  readonly bytes: number;
  readonly quota: number;
  readonly overQuota: boolean;
  /** Durably stores the entries; resolves with how many were redeliveries of journalled readings (not stored again). */
  commit(entries: readonly SpoolEntry[], receivedAt: number): Promise<{ duplicates: number }>;
  /** The oldest lines, in arrival order. */
  peek(maxLines: number): Promise<SpoolBatch | null>;
  /**
   * Deletes a batch InfluxDB acknowledged and, in the same transaction, notes the hours of its
   * late readings whose hourly roll-up is now owed (so a crash cannot lose the debt).
   */
  remove(batch: SpoolBatch, lateHours?: readonly number[]): Promise<void>;
  /** Hours whose roll-up is owed, oldest first (the writer's list after a restart). */
  pendingRollUps(): Promise<number[]>;
  /** Those hours are rolled up. */
  rolledUp(hours: readonly number[]): Promise<void>;
  /** Moves a batch InfluxDB refused as malformed to the dead letters: kept, counted, never retried blindly. */
  bury(batch: SpoolBatch, error: string, now: number): Promise<void>;
  writable(): Promise<boolean>;
  oldestReceivedAt(): Promise<number | null>;
  deadCount(): Promise<number>;
  /** Journal entries from `since` on, per device in time order: state to rebuild after a restart. */
  journalSince(since: number): Promise<JournalEntry[]>;
  /** Called after each commit; the writer uses it to wake up. */
  onCommitted(listener: () => void): () => void;
  /** Commits whatever is pending now (shutdown). */
  drain(): Promise<void>;
}
