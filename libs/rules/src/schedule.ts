import { localTimeOfDayMs } from '@dustwatch/telemetry';
import { Schedule, minutesOfDay } from './rule-set';

const DAY_MS = 86_400_000;

/**
 * True when local time t lies in [from, to); a schedule with from > to crosses midnight. The
 * end belongs to the next schedule: 22:00:00 itself is night, not day (GB 12523-2011 §3.8: night
 * is 22:00 to 06:00).
 */
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

/** The latest end of the schedule (its `to` in local time) at or before t. */
export function lastScheduleEnd(schedule: Schedule, t: number): number {
  const sinceEnd = (localTimeOfDayMs(t) - minutesOfDay(schedule.to) * 60_000 + DAY_MS) % DAY_MS;
  return t - sinceEnd;
}
