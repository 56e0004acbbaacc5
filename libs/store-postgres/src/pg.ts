import { Pool, PoolClient, QueryResultRow, types } from 'pg';
import { Umzug, UmzugStorage } from 'umzug';
import { PG_MIGRATIONS } from './schema';

/**
 * BIGINT (int8) columns hold epoch milliseconds and counts: parsed as numbers (exact below
 * 2^53, which milliseconds reach in the year 287,396), not the driver's default strings. Set on
 * the pool's own type set, not the driver's global one.
 */
const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === types.builtins.INT8
      ? (value: string) => Number(value)
      : types.getTypeParser(oid, format)) as typeof types.getTypeParser,
};

/** The lock key the migrations hold: two instances starting at once migrate one after the other. */
const MIGRATION_LOCK = 0x64757374; // "dust"

/** Anything that runs a query: the pool, or one client inside a transaction. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(
    sql: string,
    params?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
}

/** A PostgreSQL connection pool with the two things every store needs: a query and a transaction. */
export class PgDatabase {
  constructor(readonly pool: Pool) {}

  async rows<R extends QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(sql, params)).rows;
  }

  async one<R extends QueryResultRow>(sql: string, params: unknown[] = []): Promise<R | undefined> {
    return (await this.pool.query<R>(sql, params)).rows[0];
  }

  /** Rows the statement changed. */
  async changes(sql: string, params: unknown[] = []): Promise<number> {
    return (await this.pool.query(sql, params)).rowCount ?? 0;
  }

  /** BEGIN … COMMIT on one pooled connection; ROLLBACK when `work` throws. */
  async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    return this.withClient(async (client) => {
      try {
        await client.query('BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  /**
   * A pooled connection for `work`. While it is checked out the pool does not listen to it: a
   * server that ends the connection then (a restart, an outage) makes it emit `error`, which
   * unheard would crash the process. Heard here; the broken connection is discarded, not reused.
   */
  async withClient<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    const onError = (error: Error): void => {
      broken = error;
    };
    client.on('error', onError);
    try {
      return await work(client);
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

export interface PgOptions {
  /** Connections at most (each a file descriptor here and a backend process there). */
  readonly maxConnections?: number;
}

/**
 * Connects to `url` and brings the schema up to date with umzug (the migration runner; the
 * history is the `schema_migrations` table). Migrations run under an advisory lock, each in its
 * own transaction (PostgreSQL's DDL is transactional): a failed one leaves no half schema.
 */
export async function openPostgres(url: string, options: PgOptions = {}): Promise<PgDatabase> {
  const pool = new Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    // A database that does not answer fails a request (and the health check) in 5 s, not never.
    connectionTimeoutMillis: 5000,
    keepAlive: true,
    types: typeParsers,
  });
  // An idle client's error (the server restarted) must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const db = new PgDatabase(pool);
  try {
    await migrate(db);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new Error(`PostgreSQL at ${redactedUrl(url)} cannot be used: ${(error as Error).message}`, { cause: error });
  }
  return db;
}

/** A database URL without its password, for logs and messages. */
export function redactedUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

function migrate(db: PgDatabase): Promise<void> {
  return db.withClient(async (client) => {
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)',
      );
      // umzug calls `up`, then `logMigration`: the migration opens the transaction and the log
      // entry commits it, so a migration and its record land together.
      const storage: UmzugStorage<PoolClient> = {
        executed: async () =>
          (await client.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name')).rows.map(
            (r) => r.name,
          ),
        logMigration: async ({ name }) => {
          await client.query('INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)', [name, Date.now()]);
          await client.query('COMMIT');
        },
        unlogMigration: async ({ name }) => {
          await client.query('DELETE FROM schema_migrations WHERE name = $1', [name]);
        },
      };
      const umzug = new Umzug<PoolClient>({
        context: client,
        storage,
        logger: undefined,
        migrations: PG_MIGRATIONS.map((m) => ({
          name: m.name,
          up: async () => {
            await client.query('BEGIN');
            try {
              await client.query(m.sql);
            } catch (error) {
              await client.query('ROLLBACK');
              throw error; // umzug names the migration: "Migration 0001-initial (up) failed: Original error: …"
            }
          },
        })),
      });
      await umzug.up();
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    }
  });
}
