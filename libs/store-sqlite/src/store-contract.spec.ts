import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_QUARANTINE, StoreHarness, storeContract } from '@dustwatch/core/testing';
import { openSqliteStores } from './sqlite-stores';
import { openDatabase } from './sqlite';

/** Every port's contract on SQLite: a database file in a temp folder per test. */
const sqlite: StoreHarness = {
  engine: 'SQLite',
  fresh: async (quarantine = DEFAULT_QUARANTINE) => {
    const dir = mkdtempSync(join(tmpdir(), 'dustwatch-db-'));
    const file = join(dir, 'dustwatch.db');
    const stores = openSqliteStores(file, quarantine);
    return {
      ...stores,
      reopen: async (limits = quarantine) => openSqliteStores(file, limits),
      exec: async (sql) => {
        const db = openDatabase(file, []);
        try {
          db.exec(sql);
        } finally {
          db.close();
        }
      },
      close: async () => {
        await stores.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

storeContract(sqlite);
