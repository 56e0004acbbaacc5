import { SHANGHAI_OFFSET_MS, shanghaiWallTimeToEpochMs } from '@dustwatch/telemetry';

/** The bureau's rhythm: a day, an ISO week (Monday–Sunday) or a calendar month, in Asia/Shanghai. */
export type PeriodKind = 'daily' | 'weekly' | 'monthly';
export const PERIOD_KINDS: readonly PeriodKind[] = ['daily', 'weekly', 'monthly'];

export interface ReportPeriod {
  readonly kind: PeriodKind;
  /** `2026-11-27`, `2026-W48` or `2026-11`. */
  readonly id: string;
  /** Local midnight that starts it, epoch ms (inclusive). */
  readonly from: number;
  /** Local midnight that ends it, epoch ms (exclusive). */
  readonly to: number;
}

export class PeriodError extends Error {}

const DAY_MS = 86_400_000;
const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** The local calendar date (Asia/Shanghai) of an instant. */
function localDate(t: number): { year: number; month: number; day: number; weekday: number } {
  const d = new Date(t + SHANGHAI_OFFSET_MS);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    weekday: (d.getUTCDay() + 6) % 7,
  };
}

function midnight(year: number, month: number, day: number): number {
  const t = shanghaiWallTimeToEpochMs(year, month, day);
  if (t === null) throw new PeriodError(`${year}-${pad(month)}-${pad(day)} is not a calendar date`);
  return t;
}

/** Monday of ISO week 1 (the week with 4 January), as a local midnight. */
function isoWeekOneMonday(year: number): number {
  const jan4 = midnight(year, 1, 4);
  return jan4 - localDate(jan4).weekday * DAY_MS;
}

/** ISO 8601 week-numbering year and week of an instant (local time). */
export function isoWeekOf(t: number): { year: number; week: number } {
  const { year } = localDate(t);
  for (const y of [year + 1, year, year - 1]) {
    const start = isoWeekOneMonday(y);
    if (t >= start) return { year: y, week: Math.floor((t - start) / (7 * DAY_MS)) + 1 };
  }
  throw new PeriodError('unreachable');
}

const weeksIn = (year: number): number => isoWeekOf(midnight(year, 12, 28)).week;

/**
 * A period from its id: `daily` `2026-11-27`, `weekly` `2026-W48`, `monthly` `2026-11`. Refuses
 * an id of another form, a date not on the calendar and a week the year does not have.
 */
export function parsePeriod(kind: PeriodKind, id: string): ReportPeriod {
  if (kind === 'daily') {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(id);
    if (!m) throw new PeriodError(`a daily period is YYYY-MM-DD, not "${id.slice(0, 20)}"`);
    const from = midnight(Number(m[1]), Number(m[2]), Number(m[3]));
    return { kind, id, from, to: from + DAY_MS };
  }
  if (kind === 'weekly') {
    const m = /^(\d{4})-W(\d{2})$/.exec(id);
    if (!m) throw new PeriodError(`a weekly period is YYYY-Www (ISO 8601 week), not "${id.slice(0, 20)}"`);
    const [year, week] = [Number(m[1]), Number(m[2])];
    if (week < 1 || week > weeksIn(year)) throw new PeriodError(`${year} has ${weeksIn(year)} ISO weeks, not ${week}`);
    const from = isoWeekOneMonday(year) + (week - 1) * 7 * DAY_MS;
    return { kind, id, from, to: from + 7 * DAY_MS };
  }
  const m = /^(\d{4})-(\d{2})$/.exec(id);
  if (!m) throw new PeriodError(`a monthly period is YYYY-MM, not "${id.slice(0, 20)}"`);
  const [year, month] = [Number(m[1]), Number(m[2])];
  if (month < 1 || month > 12) throw new PeriodError(`${id} is not a month`);
  return {
    kind,
    id,
    from: midnight(year, month, 1),
    to: month === 12 ? midnight(year + 1, 1, 1) : midnight(year, month + 1, 1),
  };
}

/** The period of a kind that contains an instant. */
export function periodContaining(kind: PeriodKind, t: number): ReportPeriod {
  const { year, month, day } = localDate(t);
  if (kind === 'daily') return parsePeriod(kind, `${year}-${pad(month)}-${pad(day)}`);
  if (kind === 'monthly') return parsePeriod(kind, `${year}-${pad(month)}`);
  const week = isoWeekOf(t);
  return parsePeriod(kind, `${week.year}-W${pad(week.week)}`);
}

/** The period before, of the same kind (for "change against the previous period"). */
export function previousPeriod(period: ReportPeriod): ReportPeriod {
  return periodContaining(period.kind, period.from - 1);
}

/** The last closed period of a kind at `now`: what a scheduled report covers (yesterday, last week, last month). */
export function lastClosedPeriod(kind: PeriodKind, now: number): ReportPeriod {
  return previousPeriod(periodContaining(kind, now));
}

/** How the bulletin names it, in Chinese: 2026年11月27日 · 2026年第48周（11月23日至11月29日） · 2026年11月. */
export function periodTitleZh(period: ReportPeriod): string {
  const a = localDate(period.from);
  if (period.kind === 'daily') return `${a.year}年${a.month}月${a.day}日`;
  if (period.kind === 'monthly') return `${a.year}年${a.month}月`;
  const b = localDate(period.to - 1);
  const week = isoWeekOf(period.from);
  return `${week.year}年第${week.week}周（${a.month}月${a.day}日至${b.month}月${b.day}日）`;
}

/** The local (Asia/Shanghai) date of an instant as `YYYY-MM-DD`: the day an hour belongs to. */
export function localDayId(t: number): string {
  const { year, month, day } = localDate(t);
  return `${year}-${pad(month)}-${pad(day)}`;
}

/** The local hour of day (0–23) of an instant. */
export const localHourOfDay = (t: number): number => new Date(t + SHANGHAI_OFFSET_MS).getUTCHours();
