import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SPOOL_MIGRATIONS, openDatabase } from './sqlite';

describe('SQLite schema migrations (umzug)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'dustwatch-migrate-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('continue a file where it was: only the versions it lacks run, each recorded once', async () => {
    const file = join(dir, 'spool.db');
    (await openDatabase(file, SPOOL_MIGRATIONS.slice(0, 2))).close(); // an installation two versions behind
    const db = await openDatabase(file, SPOOL_MIGRATIONS);
    try {
      expect(db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all()).toEqual(
        SPOOL_MIGRATIONS.map((m) => ({ version: m.version, name: m.name })),
      );
      expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'readings_journal'").pluck().get()).toBe(1);
    } finally {
      db.close();
    }
  });

  it('roll a failing migration back whole, naming it, and run it again on the next open', async () => {
    const file = join(dir, 'x.db');
    const broken = {
      version: 1,
      name: 'two tables, the second one wrong',
      sql: 'CREATE TABLE a (x); CREATE TABLE b (',
    };
    // (under jest a SqliteError comes from another realm, and umzug wraps it as a "non-error value")
    await expect(openDatabase(file, [broken])).rejects.toThrow(
      /^Migration 0001 two tables, the second one wrong \(up\) failed: .*incomplete input/,
    );
    const fixed = { ...broken, sql: 'CREATE TABLE a (x); CREATE TABLE b (y);' };
    const db = await openDatabase(file, [fixed]); // table a was rolled back with the rest: no "already exists"
    try {
      expect(db.prepare('SELECT version FROM schema_migrations').pluck().all()).toEqual([1]);
    } finally {
      db.close();
    }
  });
});
