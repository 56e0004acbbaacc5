import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigFromEnvironment } from '@dustwatch/core';
import { PG_TABLES, openPostgres, redactedUrl } from '@dustwatch/store-postgres';
import { MAIN_MIGRATIONS, PEPPER_FILE, openDatabase } from '@dustwatch/store-sqlite';
import { option, progressLine } from './cli-io';

/** Rows per INSERT: 500 rows of the widest table (alerts, 31 columns) stay far below PostgreSQL's 65,535 parameters. */
const BATCH_ROWS = 500;

/**
 * `dustwatch-admin migrate-store --from sqlite --to URL`: copies every shared table of the
 * SQLite installation into an empty PostgreSQL database, in one PostgreSQL transaction, read
 * from one SQLite snapshot. The two schemas have the same columns (libs/store-postgres/src/schema.ts),
 * so rows are copied as they are, ids included, and each identity sequence is moved past the
 * copied ids. Counts are compared table by table before the commit; a mismatch rolls it all back.
 */
export async function migrateStore(args: string[], usage: string): Promise<number> {
  const config = loadConfigFromEnvironment('cli');
  const from = option(args, '--from');
  const to = option(args, '--to') ?? config.databaseUrl;
  if (from !== 'sqlite' || !to) {
    process.stderr.write(`migrate-store needs --from sqlite and --to URL (or DUSTWATCH_DATABASE_URL)\n\n${usage}\n`);
    return 2;
  }
  if (!/^postgres(ql)?:\/\//.test(to)) {
    process.stderr.write(`--to must be a postgres:// URL\n`);
    return 2;
  }
  const file = join(config.dataDir, 'dustwatch.db');
  if (!existsSync(file)) {
    process.stderr.write(`no SQLite database at ${file} (DUSTWATCH_DATA_DIR=${config.dataDir})\n`);
    return 1;
  }
  const sqlite = await openDatabase(file, MAIN_MIGRATIONS); // brings an older file's schema up to date first
  const pg = await openPostgres(to);
  const started = Date.now();
  try {
    const occupied: string[] = [];
    for (const { name } of PG_TABLES) {
      const n = (await pg.one<{ n: number }>(`SELECT count(*) AS n FROM ${name}`))!.n;
      if (n > 0) occupied.push(`${name} (${n} rows)`);
    }
    if (occupied.length > 0) {
      process.stderr.write(`the target database is not empty: ${occupied.join(', ')}; nothing copied\n`);
      return 1;
    }
    const counts: Record<string, { sqlite: number; postgres: number }> = {};
    sqlite.exec('BEGIN'); // one snapshot of every table (WAL): rows written meanwhile are not half-copied
    try {
      await pg.transaction(async (client) => {
        for (const { name, identity } of PG_TABLES) {
          const pgColumns = new Set(
            (
              await client.query<{ column_name: string }>(
                'SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1',
                [name],
              )
            ).rows.map((r) => r.column_name),
          );
          const columns = (
            sqlite.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(name) as string[]
          ).filter((c) => pgColumns.has(c));
          const total = sqlite.prepare(`SELECT count(*) FROM ${name}`).pluck().get() as number;
          let copied = 0;
          let batch: unknown[][] = [];
          const flush = async (): Promise<void> => {
            if (batch.length === 0) return;
            const params = batch.flat();
            const values = batch
              .map((_, r) => `(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(', ')})`)
              .join(', ');
            await client.query(`INSERT INTO ${name} (${columns.join(', ')}) VALUES ${values}`, params);
            copied += batch.length;
            batch = [];
            progressLine(`copying ${name} ${copied}/${total}`, false);
          };
          const rows = sqlite
            .prepare(`SELECT ${columns.join(', ')} FROM ${name}`)
            .raw()
            .iterate();
          for (const row of rows as Iterable<unknown[]>) {
            batch.push(row);
            if (batch.length === BATCH_ROWS) await flush();
          }
          await flush();
          if (identity && total > 0)
            await client.query(`SELECT setval(pg_get_serial_sequence($1, 'id'), (SELECT max(id) FROM ${name}))`, [
              name,
            ]);
          const landed = (await client.query<{ n: number }>(`SELECT count(*) AS n FROM ${name}`)).rows[0].n;
          counts[name] = { sqlite: total, postgres: landed };
          progressLine(`copied ${name}: ${total} rows in SQLite, ${landed} in PostgreSQL`, true);
        }
        const wrong = Object.entries(counts).filter(([, c]) => c.sqlite !== c.postgres);
        if (wrong.length > 0)
          throw new Error(
            `row counts differ (${wrong.map(([t, c]) => `${t}: ${c.sqlite} ≠ ${c.postgres}`).join(', ')}); rolled back`,
          );
      });
    } finally {
      sqlite.exec('COMMIT');
    }
    process.stdout.write(
      JSON.stringify({ from: file, to: redactedUrl(to), tables: counts, seconds: (Date.now() - started) / 1000 }) +
        '\n',
    );
    process.stderr.write(
      `done. Device secrets are checked with ${join(config.dataDir, PEPPER_FILE)}: give every instance that uses the PostgreSQL database a copy of it (same DUSTWATCH_DATA_DIR layout), or every device needs a new secret.\n`,
    );
    return 0;
  } finally {
    sqlite.close();
    await pg.close();
  }
}
