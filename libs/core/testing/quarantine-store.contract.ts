import { StoreHarness } from './store-harness';

const DAY = 86_400_000;
const T0 = Date.parse('2026-11-28T08:00:00Z');
const rejection = (i: number) => ({
  index: i,
  reasons: [{ code: 'out_of_range', field: 'pm10', message: 'pm10 must be ≥ 0 µg/m³' }],
  raw: `{"pm10":-${i}${' '.repeat(900)}}`,
});

export function quarantineStoreContract(h: StoreHarness): void {
  describe(`QuarantineStore (${h.engine})`, () => {
    it('keeps every reason and the raw text, newest first, by device and page', async () => {
      const stores = await h.fresh();
      try {
        await stores.quarantine.add('dev-1', T0, [rejection(0), { ...rejection(1), index: null }]);
        await stores.quarantine.add('dev-2', T0 + 1, [rejection(2)]);
        const all = await stores.quarantine.list({ limit: 10 });
        expect(all.map((e) => [e.id, e.deviceId, e.batchIndex])).toEqual([
          [3, 'dev-2', 2],
          [2, 'dev-1', null],
          [1, 'dev-1', 0],
        ]);
        expect(all[2]).toEqual({
          id: 1,
          deviceId: 'dev-1',
          receivedAt: new Date(T0).toISOString(),
          batchIndex: 0,
          reasons: rejection(0).reasons,
          raw: rejection(0).raw,
        });
        expect((await stores.quarantine.list({ deviceId: 'dev-1', limit: 1, beforeId: 2 })).map((e) => e.id)).toEqual([
          1,
        ]);
      } finally {
        await stores.close();
      }
    });

    it('stays within its byte quota, keeping the newest rows', async () => {
      const limits = { quotaBytes: 100_000, retentionMs: 30 * DAY };
      const stores = await h.fresh(limits);
      try {
        const quarantine = stores.quarantine;
        for (let m = 0; m < 50; m++)
          await quarantine.add(
            'dev-1',
            T0 + m,
            Array.from({ length: 10 }, (_, i) => rejection(m * 10 + i)),
          );
        expect(quarantine.bytes).toBeLessThanOrEqual(100_000);
        expect(quarantine.bytes).toBeGreaterThan(80_000);
        const rows = await quarantine.list({ limit: 1000 });
        expect(Math.min(...rows.map((r) => r.batchIndex!))).toBe(500 - rows.length);
        // The counter agrees with what is stored (a restart measures it anew).
        const reopened = await stores.reopen(limits);
        try {
          expect(reopened.quarantine.bytes).toBe(quarantine.bytes);
        } finally {
          await reopened.close();
        }
      } finally {
        await stores.close();
      }
    });

    it('forgets rows past the retention period', async () => {
      const stores = await h.fresh({ quotaBytes: 10_000_000, retentionMs: 30 * DAY });
      try {
        const quarantine = stores.quarantine;
        await quarantine.add('dev-1', T0, [rejection(1)]);
        await quarantine.add('dev-1', T0 + 29 * DAY, [rejection(2)]);
        await quarantine.add('dev-1', T0 + 31 * DAY, [rejection(3)]);
        expect((await quarantine.list({ limit: 10 })).map((e) => e.batchIndex)).toEqual([3, 2]);
      } finally {
        await stores.close();
      }
    });
  });
}
