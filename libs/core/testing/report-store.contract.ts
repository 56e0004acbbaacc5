import type { ComplianceReport } from '@dustwatch/reports';
import { StoreHarness, eachFreshStores } from './store-harness';

const HOUR = 3_600_000;
/** Only what the store looks at; the body is kept as given. */
const report = (period: string, computedAt: number) =>
  ({
    kind: 'daily',
    period,
    title: `${period} 日报`,
    computedAt,
    sites: [{ id: 'S1' }],
  }) as unknown as ComplianceReport;

export function reportStoreContract(h: StoreHarness): void {
  describe(`ReportStore (${h.engine})`, () => {
    const stores = eachFreshStores(h);

    it('stores versions without rewriting any, concurrent saves included, and marks a summary sent', async () => {
      const r = stores().reports;
      expect(await r.save(report('2026-12-06', 100), 90, 'schedule')).toEqual({
        kind: 'daily',
        period: '2026-12-06',
        version: 1,
        computedAt: 100,
        dataAsOf: 90,
        computedBy: 'schedule',
        summarySentAt: null,
      });
      const parallel = await Promise.all([1, 2, 3].map((i) => r.save(report('2026-12-06', 100 + i), 95, `admin-${i}`)));
      expect(parallel.map((m) => m.version).sort()).toEqual([2, 3, 4]);
      await r.save(report('2026-12-05', 50), 40, 'schedule');
      expect((await r.latest('daily', '2026-12-06'))?.meta.version).toBe(4);
      expect(await r.version('daily', '2026-12-06', 1)).toEqual({
        meta: expect.objectContaining({ version: 1, computedBy: 'schedule' }),
        report: report('2026-12-06', 100),
      });
      expect(await r.version('daily', '2026-12-06', 9)).toBeUndefined();
      await r.markSummarySent('daily', '2026-12-06', 1, 200);
      expect((await r.version('daily', '2026-12-06', 1))?.meta.summarySentAt).toBe(200);
      expect((await r.list('daily')).map((m) => [m.period, m.version])).toEqual([
        ['2026-12-06', 4],
        ['2026-12-06', 3],
        ['2026-12-06', 2],
        ['2026-12-06', 1],
        ['2026-12-05', 1],
      ]);
      expect(await r.list('monthly')).toEqual([]);
    });

    it('notes the hours late readings revised, keeping the latest receive time', async () => {
      const r = stores().reports;
      await r.noteRevisedHours([0, HOUR, HOUR], 500);
      await r.noteRevisedHours([HOUR], 400);
      expect(await r.revisedSince(0, 2 * HOUR, 450)).toBe(true);
      expect(await r.revisedSince(HOUR, 2 * HOUR, 500)).toBe(false);
      expect(await r.revisedSince(2 * HOUR, 3 * HOUR, 0)).toBe(false);
      await r.noteRevisedHours([], 900);
    });
  });
}
