import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Umzug, UmzugStorage } from 'umzug';
import { WriteQueue } from '@dustwatch/core';

export type Db = Database.Database;

/** A database connection with its write queue (see WriteQueue). */
export interface QueuedDb {
  readonly db: Db;
  readonly writes: WriteQueue;
}

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * Opens a SQLite file in WAL mode and brings its schema up to date with umzug (the migration
 * runner also used for PostgreSQL): pending migrations in version order, each in its own
 * transaction, recorded in `schema_migrations` (version, name, applied_at) — the table
 * installations from before umzug already carry, so they continue where they were. WAL lets the
 * HTTP API read while the ingest path commits; `synchronous` is FULL by default so an
 * acknowledged reading survives not only kill -9 (NORMAL would do) but also a power cut.
 */
export async function openDatabase(
  file: string,
  migrations: readonly Migration[],
  synchronous: 'full' | 'normal' = 'full',
): Promise<Db> {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  try {
    await migrate(db, migrations);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

async function migrate(db: Db, migrations: readonly Migration[]): Promise<void> {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
  );
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  const nameOf = (m: Migration): string => `${String(m.version).padStart(4, '0')} ${m.name}`;
  const byName = new Map(ordered.map((m) => [nameOf(m), m]));
  // umzug calls `up`, then `logMigration`: the migration opens the transaction, its record commits it.
  const storage: UmzugStorage = {
    executed: async () => {
      const applied = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
      return ordered.filter((m) => applied.has(m.version)).map(nameOf);
    },
    logMigration: async ({ name }) => {
      const m = byName.get(name)!;
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        Date.now(),
      );
      db.exec('COMMIT');
    },
    unlogMigration: async ({ name }) => {
      db.prepare('DELETE FROM schema_migrations WHERE version = ?').run(byName.get(name)!.version);
    },
  };
  await new Umzug({
    storage,
    logger: undefined,
    migrations: ordered.map((m) => ({
      name: nameOf(m),
      up: async () => {
        db.exec('BEGIN IMMEDIATE');
        try {
          db.exec(m.sql);
        } catch (error) {
          db.exec('ROLLBACK');
          throw error; // umzug names the migration: "Migration 0009 … (up) failed: Original error: …"
        }
      },
    })),
  }).up();
}

export const MAIN_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'registry, device status, quarantine',
    sql: `
      CREATE TABLE sites (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, district TEXT NOT NULL,
        lat REAL NOT NULL, lon REAL NOT NULL, area_m2 REAL,
        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
      );
      CREATE TABLE devices (
        id TEXT PRIMARY KEY, site_id TEXT NOT NULL REFERENCES sites(id),
        model TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('site', 'background')),
        enabled INTEGER NOT NULL DEFAULT 1, secret_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
      );
      CREATE INDEX devices_site ON devices(site_id);
      CREATE TABLE device_status (
        device_id TEXT PRIMARY KEY REFERENCES devices(id),
        online INTEGER NOT NULL DEFAULT 0,
        last_connect_at INTEGER, last_disconnect_at INTEGER, last_seen_at INTEGER
      );
      CREATE TABLE quarantine (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        device_id TEXT NOT NULL, received_at INTEGER NOT NULL,
        batch_index INTEGER, reasons TEXT NOT NULL, raw TEXT NOT NULL
      );
      CREATE INDEX quarantine_device ON quarantine(device_id, received_at);
    `,
  },
  {
    version: 2,
    name: 'last status message (e.g. the last will) per device',
    sql: `
      ALTER TABLE device_status ADD COLUMN last_status TEXT;
      ALTER TABLE device_status ADD COLUMN last_status_at INTEGER;
    `,
  },
  {
    version: 3,
    name: 'alerts, their history, rule state, notification outbox, API keys',
    sql: `
      CREATE TABLE alerts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        subject TEXT NOT NULL, rule TEXT NOT NULL, metric TEXT NOT NULL,
        site_id TEXT NOT NULL, district TEXT NOT NULL, device_id TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved', 'closed')),
        -- 1 while the condition holds (open or acknowledged); NULL afterwards, so the partial
        -- unique index below admits one active alert per (subject, rule) and any number of old ones.
        active INTEGER CHECK (active = 1),
        severity TEXT NOT NULL, threshold REAL NOT NULL,
        opened_at INTEGER NOT NULL, first_exceedance_at INTEGER NOT NULL, last_exceedance_at INTEGER NOT NULL,
        peak_value REAL, peak_at INTEGER, last_value REAL,
        evidence_from INTEGER, evidence_to INTEGER,
        acknowledged_by TEXT, acknowledged_at INTEGER,
        resolved_at INTEGER, resolved_reason TEXT,
        closed_by TEXT, closed_at INTEGER, close_note TEXT,
        last_notified_at INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX alerts_one_active ON alerts(subject, rule) WHERE active = 1;
      CREATE INDEX alerts_state ON alerts(state, opened_at);
      CREATE INDEX alerts_site ON alerts(site_id, opened_at);
      CREATE TABLE alert_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        alert_id INTEGER NOT NULL REFERENCES alerts(id),
        type TEXT NOT NULL, at INTEGER NOT NULL, actor TEXT,
        severity TEXT NOT NULL, state TEXT NOT NULL, value REAL, note TEXT,
        -- the alert as it stood right after this event: what notifications and SSE replays show
        alert_snapshot TEXT NOT NULL
      );
      CREATE INDEX alert_events_alert ON alert_events(alert_id, id);
      CREATE TABLE rule_state (
        subject TEXT NOT NULL, rule TEXT NOT NULL, phase TEXT NOT NULL, since INTEGER NOT NULL, severity TEXT NOT NULL,
        PRIMARY KEY (subject, rule)
      ) WITHOUT ROWID;
      CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        delivery_id TEXT NOT NULL UNIQUE, event_id INTEGER NOT NULL REFERENCES alert_events(id),
        channel TEXT NOT NULL, state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL,
        last_error TEXT, created_at INTEGER NOT NULL, delivered_at INTEGER
      );
      CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
      CREATE TABLE api_keys (
        id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('admin', 'inspector', 'viewer')),
        key_hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, revoked_at INTEGER
      );
    `,
  },
  {
    version: 4,
    name: 'outbox claims (a lease per row, so two dispatchers never deliver the same row)',
    sql: `
      ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
      ALTER TABLE outbox ADD COLUMN claimed_until INTEGER;
      CREATE INDEX outbox_channel_pending ON outbox(channel, state, id);
    `,
  },
  {
    version: 5,
    name: 'HJ 212 identity of a device (MN, access password hash, CRC variant, particulate units)',
    sql: `
      CREATE TABLE device_hj212 (
        device_id TEXT PRIMARY KEY REFERENCES devices(id),
        mn TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        crc TEXT NOT NULL CHECK (crc IN ('hj212', 'modbus-swapped')),
        units TEXT NOT NULL DEFAULT '{}'
      );
    `,
  },
  {
    version: 6,
    name: 'compliance reports, one row per version, and the hours late readings revised',
    sql: `
      CREATE TABLE reports (
        kind TEXT NOT NULL CHECK (kind IN ('daily', 'weekly', 'monthly')),
        period TEXT NOT NULL, version INTEGER NOT NULL,
        computed_at INTEGER NOT NULL, data_as_of INTEGER NOT NULL, computed_by TEXT NOT NULL,
        summary_sent_at INTEGER, body TEXT NOT NULL,
        PRIMARY KEY (kind, period, version)
      );
      CREATE TABLE revised_hours (hour_start INTEGER PRIMARY KEY, last_received_at INTEGER NOT NULL) WITHOUT ROWID;
    `,
  },
  {
    version: 7,
    name: "people's accounts (scrypt password hashes) and their browser sessions (token and CSRF hashes)",
    sql: `
      CREATE TABLE users (
        name TEXT PRIMARY KEY, display_name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'inspector', 'viewer')),
        password_hash TEXT NOT NULL, created_at INTEGER NOT NULL, disabled_at INTEGER
      ) WITHOUT ROWID;
      CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY, user_name TEXT NOT NULL REFERENCES users(name),
        csrf_hash TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX sessions_user ON sessions(user_name);
    `,
  },
  {
    version: 8,
    name: 'when the service raised an alert (its response deadline runs from then) and when it was escalated as overdue (once)',
    sql: `
      ALTER TABLE alerts ADD COLUMN raised_at INTEGER;
      UPDATE alerts SET raised_at = opened_at;
      ALTER TABLE alerts ADD COLUMN overdue_at INTEGER;
      -- Alerts from before this version are not escalated all at once on upgrade.
      UPDATE alerts SET overdue_at = opened_at WHERE acknowledged_at IS NULL;
    `,
  },
  {
    version: 9,
    name: "alerts keep their rule's display name, history entries the person's display name, as they were at the time",
    sql: `
      ALTER TABLE alerts ADD COLUMN rule_name TEXT;
      ALTER TABLE alert_events ADD COLUMN actor_name TEXT;
    `,
  },
];

export const SPOOL_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'spool and dead letters',
    sql: `
      CREATE TABLE spool (id INTEGER PRIMARY KEY AUTOINCREMENT, received_at INTEGER NOT NULL, line TEXT NOT NULL);
      CREATE TABLE spool_dead (
        id INTEGER PRIMARY KEY AUTOINCREMENT, spool_id INTEGER NOT NULL, received_at INTEGER NOT NULL,
        line TEXT NOT NULL, failed_at INTEGER NOT NULL, error TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'rule window samples, committed with the readings they come from',
    sql: `
      -- No index on ts: it would cost every reading a second B-tree insert, to speed up a prune
      -- that runs once a minute over a table holding a few hours.
      CREATE TABLE rule_samples (device_id TEXT NOT NULL, ts INTEGER NOT NULL, vals TEXT NOT NULL, PRIMARY KEY (device_id, ts)) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: 'the rule samples become the journal of every accepted reading (state rebuild and redelivery check)',
    sql: `ALTER TABLE rule_samples RENAME TO readings_journal;`,
  },
  {
    version: 4,
    name: 'hours whose hourly roll-up is owed (late readings InfluxDB has taken), kept across a crash',
    sql: `CREATE TABLE rollup_pending (hour_start INTEGER PRIMARY KEY) WITHOUT ROWID;`,
  },
  {
    version: 5,
    name: 'accepted readings on their way to the shared rule feed (several instances), committed with the spool',
    // AUTOINCREMENT: an id is never reused, so "up to id n is forwarded" stays true after deletes.
    sql: `CREATE TABLE feed_outbox (
      id INTEGER PRIMARY KEY AUTOINCREMENT, device_id TEXT NOT NULL, ts INTEGER NOT NULL,
      vals TEXT NOT NULL, received_at INTEGER NOT NULL);`,
  },
];
