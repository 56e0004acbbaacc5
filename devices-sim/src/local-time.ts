import { SHANGHAI_OFFSET_MS, localTimeOfDayMs } from '@dustwatch/rules';

/** Local (Asia/Shanghai) hour of day as a fraction (0 ≤ h < 24), on the rules' own clock arithmetic. */
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
  return Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000);
}
