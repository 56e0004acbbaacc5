import type { QuarantineLimits, StoreSet } from '../src';

/** A store set under test, on a database of its own. */
export interface StoresUnderTest extends StoreSet {
  /** The same database opened again (what a restart sees). */
  reopen(quarantine?: QuarantineLimits): Promise<StoreSet>;
  /** Runs raw SQL on the database: the constraint tests insert what the ports never would. */
  exec(sql: string): Promise<void>;
}

/** How a store implementation is put under the contract: a fresh, empty, migrated database per call. */
export interface StoreHarness {
  readonly engine: 'SQLite' | 'PostgreSQL';
  /** Whether several service instances may share one database (their tests run only then). */
  readonly sharedByInstances: boolean;
  fresh(quarantine?: QuarantineLimits): Promise<StoresUnderTest>;
}

export const DEFAULT_QUARANTINE: QuarantineLimits = { quotaBytes: 10_000_000, retentionMs: 30 * 86_400_000 };

/**
 * Opens a fresh store set before each test and closes it after; `stores()` is the current one.
 * Every reopened set is closed too.
 */
export function eachFreshStores(h: StoreHarness, quarantine?: QuarantineLimits): () => StoresUnderTest {
  let current: StoresUnderTest | null = null;
  beforeEach(async () => {
    current = await h.fresh(quarantine);
  });
  afterEach(async () => {
    await current?.close();
    current = null;
  });
  return () => {
    if (!current) throw new Error('stores are open only inside a test');
    return current;
  };
}
