import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Db, MAIN_MIGRATIONS, QueuedDb, openDatabase } from './sqlite';
import { WriteQueue } from '@dustwatch/core';

/** For tests: a main database in a temp folder, migrated; `dispose` closes and removes it. */
export async function tempMainDatabase(): Promise<{ db: Db; main: QueuedDb; dispose(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'dustwatch-db-'));
  const db = await openDatabase(join(dir, 'main.db'), MAIN_MIGRATIONS);
  return {
    db,
    main: { db, writes: new WriteQueue() },
    dispose: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
