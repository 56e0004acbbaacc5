import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteReadingsStore } from './spool';
import { SPOOL_MIGRATIONS, openDatabase } from './sqlite';

describe('spool: roll-ups owed', () => {
  it('notes late hours in the same transaction as the removal, keeps them across a reopen, and forgets them once rolled up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dustwatch-spool-'));
    const file = join(dir, 'spool.db');
    try {
      let db = await openDatabase(file, SPOOL_MIGRATIONS);
      let spool = new SqliteReadingsStore(db, 64 * 1024 * 1024, 3_600_000, () => 0);
      await spool.commit(
        [
          { line: 'readings,device=d1 pm10=1 1000', journal: null },
          { line: 'readings,device=d1 pm10=2 2000', journal: null },
        ],
        0,
      );
      const batch = await spool.peek(10);
      await spool.remove(batch!, [7_200_000, 3_600_000]);
      expect([spool.depth, await spool.pendingRollUps()]).toEqual([0, [3_600_000, 7_200_000]]);
      db.close(); // a crash before the roll-up: the debt is on disk
      db = await openDatabase(file, SPOOL_MIGRATIONS);
      spool = new SqliteReadingsStore(db, 64 * 1024 * 1024, 3_600_000, () => 0);
      expect(await spool.pendingRollUps()).toEqual([3_600_000, 7_200_000]);
      await spool.rolledUp([3_600_000]);
      expect(await spool.pendingRollUps()).toEqual([7_200_000]);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
