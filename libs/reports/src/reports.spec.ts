import { captureFigures } from './capture';
import {
  PeriodError,
  isoWeekOf,
  lastClosedPeriod,
  parsePeriod,
  periodContaining,
  periodTitleZh,
  previousPeriod,
} from './period';

const at = (iso: string): number => Date.parse(iso);

describe('report periods (Asia/Shanghai)', () => {
  it('a day, an ISO week from Monday and a calendar month start and end at local midnight', () => {
    expect(parsePeriod('daily', '2026-11-27')).toEqual({
      kind: 'daily',
      id: '2026-11-27',
      from: at('2026-11-27T00:00:00+08:00'),
      to: at('2026-11-28T00:00:00+08:00'),
    });
    const week = parsePeriod('weekly', '2026-W48');
    expect([week.from, week.to]).toEqual([at('2026-11-23T00:00:00+08:00'), at('2026-11-30T00:00:00+08:00')]);
    const month = parsePeriod('monthly', '2026-02');
    expect([month.from, month.to]).toEqual([at('2026-02-01T00:00:00+08:00'), at('2026-03-01T00:00:00+08:00')]);
    const december = parsePeriod('monthly', '2026-12');
    expect(december.to).toBe(at('2027-01-01T00:00:00+08:00'));
  });

  it('numbers weeks as ISO 8601 does across the turn of the year', () => {
    expect(isoWeekOf(at('2026-12-31T12:00:00+08:00'))).toEqual({ year: 2026, week: 53 });
    expect(isoWeekOf(at('2027-01-03T12:00:00+08:00'))).toEqual({ year: 2026, week: 53 });
    expect(isoWeekOf(at('2027-01-04T00:00:00+08:00'))).toEqual({ year: 2027, week: 1 });
    expect(isoWeekOf(at('2025-12-29T00:00:00+08:00'))).toEqual({ year: 2026, week: 1 });
    // 23:30 UTC on Sunday is already Monday in Shanghai.
    expect(isoWeekOf(at('2026-11-29T16:30:00Z'))).toEqual({ year: 2026, week: 49 });
    expect(parsePeriod('weekly', '2026-W53').to).toBe(at('2027-01-04T00:00:00+08:00'));
  });

  it('refuses ids of another form, impossible dates and weeks a year does not have', () => {
    const problem = (kind: 'daily' | 'weekly' | 'monthly', id: string): string => {
      try {
        parsePeriod(kind, id);
        return 'accepted';
      } catch (error) {
        expect(error).toBeInstanceOf(PeriodError);
        return (error as Error).message;
      }
    };
    expect(problem('daily', '2026-09-31')).toBe('2026-09-31 is not a calendar date');
    expect(problem('daily', '27/11/2026')).toBe('a daily period is YYYY-MM-DD, not "27/11/2026"');
    expect(problem('weekly', '2025-W53')).toBe('2025 has 52 ISO weeks, not 53');
    expect(problem('weekly', '2026-W00')).toBe('2026 has 53 ISO weeks, not 0');
    expect(problem('monthly', '2026-13')).toBe('2026-13 is not a month');
  });

  it('finds the period of an instant, the one before, and the last closed one for the schedule', () => {
    const now = at('2026-12-01T08:00:00+08:00');
    expect(lastClosedPeriod('daily', now).id).toBe('2026-11-30');
    expect(lastClosedPeriod('weekly', now).id).toBe('2026-W48');
    expect(lastClosedPeriod('monthly', now).id).toBe('2026-11');
    expect(previousPeriod(parsePeriod('weekly', '2027-W01')).id).toBe('2026-W53');
    expect(periodContaining('daily', at('2026-11-27T16:30:00Z')).id).toBe('2026-11-28');
  });

  it('names periods in Chinese', () => {
    expect(periodTitleZh(parsePeriod('daily', '2026-11-27'))).toBe('2026年11月27日');
    expect(periodTitleZh(parsePeriod('weekly', '2026-W48'))).toBe('2026年第48周（11月23日至11月29日）');
    expect(periodTitleZh(parsePeriod('monthly', '2026-11'))).toBe('2026年11月');
  });
});

describe('captureFigures', () => {
  const day = parsePeriod('daily', '2026-11-27');
  const hour = (h: number): number => day.from + h * 3_600_000;
  const dayOf = (t: number): string => periodContaining('daily', t).id;

  it('counts expected, received and valid readings, valid hours (≥ 75 %) and valid days (≥ 20 valid hours)', () => {
    // 20 full hours, one hour at exactly 45 valid of 60, one at 44, two silent.
    const counts = [
      ...Array.from({ length: 20 }, (_, h) => ({ hourStart: hour(h), received: 60, valid: 60 })),
      { hourStart: hour(20), received: 50, valid: 45 },
      { hourStart: hour(21), received: 60, valid: 44 },
    ];
    expect(captureFigures(counts, 24, dayOf)).toEqual({
      expected: 1440,
      received: 1310,
      valid: 1289,
      validHours: 21,
      validDays: 1,
      capturePct: 91,
      validityPct: 89.5,
    });
    expect(captureFigures(counts.slice(1), 24, dayOf).validDays).toBe(1); // 19 + the 45-hour = 20
    expect(captureFigures(counts.slice(2), 24, dayOf).validDays).toBe(0);
  });

  it('caps the rates at 100 % and says 0 for an empty period', () => {
    const fast = [{ hourStart: hour(0), received: 120, valid: 120 }];
    expect(captureFigures(fast, 1, dayOf)).toMatchObject({ capturePct: 100, validityPct: 100, validHours: 1 });
    expect(captureFigures([], 0, dayOf)).toMatchObject({ expected: 0, capturePct: 0, validityPct: 0 });
  });
});
