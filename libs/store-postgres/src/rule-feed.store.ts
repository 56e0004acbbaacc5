import type { PoolClient } from 'pg';
import { FeedEntry, JournalEntry, RuleFeed, RuleOwnerLease, SequencedFeedEntry } from '@dustwatch/core';
import { PgDatabase } from './pg';

/** Appends take this transaction lock, so seqs become visible in order (see `append`). */
const FEED_APPEND_LOCK = 0x66656564; // "feed"
/** The rule owner's session lock. */
const RULE_OWNER_LOCK = 0x72756c65; // "rule"
/**
 * The server drops a vanished owner's connection, and with it the lease, after about
 * idle + interval × count seconds (the defaults would be two hours): 10 + 5 × 3 = 25 s.
 */
const LEASE_KEEPALIVE = { idle: 10, interval: 5, count: 3 };

/**
 * The shared rule feed on PostgreSQL.
 *
 * Order: an identity value is taken when a row is inserted, not when it commits, so two
 * concurrent appends could commit seq 11 before seq 10, and a reader that already passed 11
 * would never see 10. Appends therefore hold one transaction lock: each takes its seqs and
 * commits before the next begins. Appends are batches (the forwarder's), so the lock is taken
 * a few times a second per instance, not per reading.
 */
export class PgRuleFeed implements RuleFeed {
  constructor(private readonly db: PgDatabase) {}

  async append(entries: readonly FeedEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.db.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [FEED_APPEND_LOCK]);
      await client.query(
        `INSERT INTO rule_feed (device_id, ts, vals, received_at)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[])
         ON CONFLICT (device_id, ts) DO NOTHING`,
        [
          entries.map((e) => e.deviceId),
          entries.map((e) => e.ts),
          entries.map((e) => e.vals),
          entries.map((e) => e.receivedAt),
        ],
      );
    });
  }

  after(seq: number, limit: number): Promise<SequencedFeedEntry[]> {
    return this.db.rows<SequencedFeedEntry>(
      `SELECT seq, device_id AS "deviceId", ts, vals, received_at AS "receivedAt"
       FROM rule_feed WHERE seq > $1 ORDER BY seq LIMIT $2`,
      [seq, limit],
    );
  }

  window(since: number, upToSeq: number): Promise<JournalEntry[]> {
    return this.db.rows<JournalEntry>(
      `SELECT device_id AS "deviceId", ts, vals FROM rule_feed WHERE ts >= $1 AND seq <= $2 ORDER BY device_id, ts`,
      [since, upToSeq],
    );
  }

  trim(before: number): Promise<number> {
    return this.db.changes('DELETE FROM rule_feed WHERE ts < $1 AND received_at < $1', [before]);
  }

  async tryLease(owner: string): Promise<RuleOwnerLease | null> {
    // A connection of its own, kept out of the pool while held: the lock lives as long as it does.
    const client = await this.db.pool.connect();
    let done = false;
    let lose: (error: Error) => void = () => undefined;
    const lost = new Promise<Error>((resolve) => (lose = resolve));
    /** Returns the connection once (a broken one is discarded by the pool); an end we did not ask for loses the lease. */
    const finish = (error?: Error, unasked = false): void => {
      if (done) return;
      done = true;
      client.off('error', onError);
      client.off('end', onEnd);
      client.release(error);
      if (unasked) lose(error ?? new Error('the lease connection ended'));
    };
    const onError = (error: Error): void => finish(error, true);
    const onEnd = (): void => finish(new Error('the lease connection ended'), true);
    client.on('error', onError);
    client.on('end', onEnd);
    try {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [RULE_OWNER_LOCK]);
      if (!rows[0]?.ok) {
        finish();
        return null;
      }
      // Only on the lease's connection (a refused attempt, every second on each non-owner, costs one query).
      await client.query(
        `SELECT set_config('tcp_keepalives_idle', $1, false), set_config('tcp_keepalives_interval', $2, false),
                set_config('tcp_keepalives_count', $3, false)`,
        [String(LEASE_KEEPALIVE.idle), String(LEASE_KEEPALIVE.interval), String(LEASE_KEEPALIVE.count)],
      );
      await client.query(
        `INSERT INTO rule_owner (id, owner, cursor, since) VALUES (1, $1, 0, (extract(epoch FROM now()) * 1000)::bigint)
         ON CONFLICT (id) DO UPDATE SET owner = EXCLUDED.owner, since = EXCLUDED.since`,
        [owner],
      );
    } catch (error) {
      finish(error as Error);
      throw error;
    }
    return new PgOwnerLease(owner, client, lost, finish);
  }
}

class PgOwnerLease implements RuleOwnerLease {
  constructor(
    readonly owner: string,
    private readonly client: PoolClient,
    readonly lost: Promise<Error>,
    private readonly finish: (error?: Error) => void,
  ) {}

  async cursor(): Promise<number> {
    const { rows } = await this.client.query<{ cursor: number }>('SELECT cursor FROM rule_owner WHERE id = 1');
    return rows[0]?.cursor ?? 0;
  }

  async advance(seq: number): Promise<void> {
    // On the lease's own connection: a former owner whose connection is gone cannot move the cursor.
    await this.client.query('UPDATE rule_owner SET cursor = GREATEST(cursor, $1) WHERE id = 1 AND owner = $2', [
      seq,
      this.owner,
    ]);
  }

  async release(): Promise<void> {
    try {
      await this.client.query('SELECT pg_advisory_unlock($1)', [RULE_OWNER_LOCK]);
      this.finish();
    } catch (error) {
      this.finish(error as Error);
    }
  }
}
