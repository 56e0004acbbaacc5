import type { JournalEntry } from './readings-store';

/** A journal entry with the time the instance accepted it: one accepted reading on its way to the rules. */
export interface FeedEntry extends JournalEntry {
  readonly receivedAt: number;
}

/** A feed entry with its place in the shared feed: strictly increasing in the order entries became visible. */
export interface SequencedFeedEntry extends FeedEntry {
  readonly seq: number;
}

/**
 * Several instances behind one broker (docs/cluster.md): the accepted readings of every instance
 * in one ordered, shared feed (PostgreSQL), so one instance at a time — the rule owner — judges
 * every device's readings, and a new owner rebuilds the same windows from it.
 */
export interface RuleFeed {
  /**
   * Appends entries; an entry whose (device, ts) is in the feed already (a QoS 1 redelivery that
   * reached another instance) is ignored. Appends are serialised, so a reader that saw `seq` = n
   * never later sees an entry below n appear.
   */
  append(entries: readonly FeedEntry[]): Promise<void>;
  /** Entries after `seq`, in seq order. */
  after(seq: number, limit: number): Promise<SequencedFeedEntry[]>;
  /** Entries with reading time from `since` on and seq up to `upToSeq`, per device in time order (a new owner's windows). */
  window(since: number, upToSeq: number): Promise<JournalEntry[]>;
  /** Deletes entries whose reading and acceptance times are both before `before`; resolves with how many. */
  trim(before: number): Promise<number>;
  /** Takes the rule owner's lease if nobody holds it; null when another instance does. */
  tryLease(owner: string): Promise<RuleOwnerLease | null>;
}

/**
 * The rule owner's lease: a PostgreSQL session advisory lock on a connection of its own, so a
 * dead owner's lease ends with its connection (kill -9: at once; a vanished host: within the
 * keep-alive time). `cursor` is the last feed seq whose alert changes are committed.
 */
export interface RuleOwnerLease {
  readonly owner: string;
  /** Resolves when the lease is lost (its connection ended): stop judging at once. */
  readonly lost: Promise<Error>;
  cursor(): Promise<number>;
  /** Records that every entry up to `seq` is judged and its alert changes committed. */
  advance(seq: number): Promise<void>;
  /** Gives the lease up (shutdown). */
  release(): Promise<void>;
}

/** The local hand-off of accepted readings to the shared feed: written with the spool's commit, so none is lost on the way. */
export interface FeedOutbox {
  /** The oldest entries not yet in the shared feed, with the id of the last one. */
  peekFeed(max: number): Promise<{ readonly lastId: number; readonly entries: FeedEntry[] } | null>;
  /** Those entries are in the shared feed. */
  removeFeed(lastId: number): Promise<void>;
  /** Entries waiting (health, metrics). */
  readonly feedDepth: number;
}

/** Several instances: a nudge that alert events were committed somewhere (PostgreSQL LISTEN/NOTIFY). */
export interface AlertEventSignal {
  /** Tells every instance (this one too) that alert events were committed. */
  notify(): Promise<void>;
  /** Calls `onNudge` at every notification until the returned function is called. */
  listen(onNudge: () => void): Promise<() => Promise<void>>;
}
