import { QuarantineRepository } from './quarantine.repository';
import { tempMainDatabase } from './temp-database';

const DAY = 86_400_000;
const T0 = Date.parse('2026-11-28T08:00:00Z');
const rejection = (i: number) => ({
  index: i,
  reasons: [{ code: 'out_of_range', field: 'pm10', message: 'pm10 must be ≥ 0 µg/m³' }],
  raw: `{"pm10":-${i}${' '.repeat(900)}}`,
});

describe('QuarantineRepository limits', () => {
  it('stays within its byte quota, keeping the newest rows', async () => {
    const temp = tempMainDatabase();
    try {
      const quarantine = new QuarantineRepository(temp.main, { quotaBytes: 100_000, retentionMs: 30 * DAY });
      for (let m = 0; m < 50; m++)
        await quarantine.add(
          'dev-1',
          T0 + m,
          Array.from({ length: 10 }, (_, i) => rejection(m * 10 + i)),
        );
      expect(quarantine.bytes).toBeLessThanOrEqual(100_000);
      expect(quarantine.bytes).toBeGreaterThan(80_000);
      const rows = temp.db.prepare('SELECT count(*) AS n, min(batch_index) AS oldest FROM quarantine').get() as {
        n: number;
        oldest: number;
      };
      expect(rows.oldest).toBe(500 - rows.n);
      // The counter agrees with what is stored (a restart measures it anew).
      expect(new QuarantineRepository(temp.main, { quotaBytes: 100_000, retentionMs: 30 * DAY }).bytes).toBe(
        quarantine.bytes,
      );
    } finally {
      temp.dispose();
    }
  });

  it('forgets rows past the retention period', async () => {
    const temp = tempMainDatabase();
    try {
      const quarantine = new QuarantineRepository(temp.main, { quotaBytes: 10_000_000, retentionMs: 30 * DAY });
      await quarantine.add('dev-1', T0, [rejection(1)]);
      await quarantine.add('dev-1', T0 + 29 * DAY, [rejection(2)]);
      await quarantine.add('dev-1', T0 + 31 * DAY, [rejection(3)]);
      expect((await quarantine.list({ limit: 10 })).map((e) => e.batchIndex)).toEqual([3, 2]);
    } finally {
      temp.dispose();
    }
  });
});
