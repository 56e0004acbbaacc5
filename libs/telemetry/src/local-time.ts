/**
 * Asia/Shanghai local time, the bureau's zone, for every edge and report: HJ 212-2017 `DataTime`
 * is local time, rule schedules and the simulator's day cycle are too. Asia/Shanghai is UTC+8 all
 * year (no daylight saving since 1991), so plain arithmetic is exact and needs no tz database.
 */
export const SHANGHAI_OFFSET_MS = 8 * 3_600_000;
const DAY_MS = 86_400_000;

/** Milliseconds since local midnight in Asia/Shanghai. */
export function localTimeOfDayMs(t: number): number {
  return (((t + SHANGHAI_OFFSET_MS) % DAY_MS) + DAY_MS) % DAY_MS;
}

/** Local hour of day as a fraction (0 ≤ h < 24). */
export function localHour(t: number): number {
  return localTimeOfDayMs(t) / 3_600_000;
}

/** Local weekday, 0 = Sunday. */
export function localWeekday(t: number): number {
  return new Date(t + SHANGHAI_OFFSET_MS).getUTCDay();
}

/** Day of the year (0–365) in local time. */
export function localDayOfYear(t: number): number {
  const d = new Date(t + SHANGHAI_OFFSET_MS);
  return Math.floor(
    (Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY_MS,
  );
}

/** Calendar fields as written: month 1–12; hour, minute, second and millisecond default to 0. */
export type WallTime = [
  year: number,
  month: number,
  day: number,
  hour?: number,
  minute?: number,
  second?: number,
  ms?: number,
];

/**
 * Epoch ms of a wall-clock time at a fixed UTC offset, or null when the fields name no real
 * instant (month 13, 31 September, 24:00, second 60): refused, never rolled over into the next
 * day or month as `Date.UTC` and `Date.parse` would.
 */
export function wallTimeToEpochMs(
  offsetMs: number,
  ...[year, month, day, hour = 0, minute = 0, second = 0, ms = 0]: WallTime
): number | null {
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const d = new Date(utc);
  if (
    d.getUTCFullYear() !== year ||
    d.getUTCMonth() !== month - 1 ||
    d.getUTCDate() !== day ||
    d.getUTCHours() !== hour ||
    d.getUTCMinutes() !== minute ||
    d.getUTCSeconds() !== second
  )
    return null;
  return utc - offsetMs;
}

/** Epoch ms of a wall-clock time in Asia/Shanghai, or null when the fields name no real instant. */
export function shanghaiWallTimeToEpochMs(...wallTime: WallTime): number | null {
  return wallTimeToEpochMs(SHANGHAI_OFFSET_MS, ...wallTime);
}
