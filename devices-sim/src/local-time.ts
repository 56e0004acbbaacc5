/** Asia/Shanghai is UTC+8 all year (no daylight saving): every day/night boundary uses it. */
export const SHANGHAI_OFFSET_MS = 8 * 3_600_000;

/** Local hour of day as a fraction (0 ≤ h < 24). */
export function localHour(t: number): number {
  const ms = (((t + SHANGHAI_OFFSET_MS) % 86_400_000) + 86_400_000) % 86_400_000;
  return ms / 3_600_000;
}

/** Local weekday, 0 = Sunday. */
export function localWeekday(t: number): number {
  return new Date(t + SHANGHAI_OFFSET_MS).getUTCDay();
}

/** Day of the year (0–365) in local time. */
export function localDayOfYear(t: number): number {
  const d = new Date(t + SHANGHAI_OFFSET_MS);
  return Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000);
}
