import { Schedule, minutesOfDay } from './rule-set';

/** Asia/Shanghai is UTC+8 all year (no daylight saving since 1991): every day/night boundary uses it. */
export const SHANGHAI_OFFSET_MS = 8 * 3_600_000;
const DAY_MS = 86_400_000;

/** Milliseconds since local midnight in Asia/Shanghai. */
export function localTimeOfDayMs(t: number): number {
  return (((t + SHANGHAI_OFFSET_MS) % DAY_MS) + DAY_MS) % DAY_MS;
}

/** True when local time t lies in [from, to); a schedule with from > to crosses midnight. */
export function inSchedule(schedule: Schedule, t: number): boolean {
  const now = localTimeOfDayMs(t);
  const from = minutesOfDay(schedule.from) * 60_000;
  const to = minutesOfDay(schedule.to) * 60_000;
  return from < to ? now >= from && now < to : now >= from || now < to;
}

/**
 * A window (t − w, t] counts for a scheduled rule only when it lies wholly inside one stretch of
 * the schedule: the first night Leq 15 min is the one ending 22:15, so day readings never
 * decide a night alert (GB 12523 judges the night by night-time measurement).
 */
export function windowInSchedule(schedule: Schedule, t: number, windowMs: number): boolean {
  const first = t - windowMs + 1;
  if (!inSchedule(schedule, first)) return false;
  const untilEnd = (minutesOfDay(schedule.to) * 60_000 - localTimeOfDayMs(first) + DAY_MS) % DAY_MS;
  return untilEnd > t - first;
}
