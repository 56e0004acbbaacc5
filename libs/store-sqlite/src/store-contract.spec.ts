import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_QUARANTINE, StoreHarness, storeContract } from '@dustwatch/core/testing';
import { openSqliteStores } from './sqlite-stores';
import { openDatabase } from './sqlite';

/** Every port's contract on SQLite: a database file in a temp folder per test. */
const sqlite: StoreHarness = {
  engine: 'SQLite',
  sharedByInstances: false,
  fresh: async (quarantine = DEFAULT_QUARANTINE) => {
    const dir = mkdtempSync(join(tmpdir(), 'dustwatch-db-'));
    const file = join(dir, 'dustwatch.db');
    const stores = await openSqliteStores(file, quarantine);
    return {
      ...stores,
      reopen: (limits = quarantine) => openSqliteStores(file, limits),
      exec: async (sql) => {
        const db = await openDatabase(file, []);
        try {
          db.exec(sql);
        } catch (error) {
          // A SqliteError is built in the realm that first loaded the native module, not always
          // this test file's: jest's `rejects.toThrow` would not see it as an error at all.
          throw new Error((error as Error).message);
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
