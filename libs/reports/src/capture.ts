import { percent } from './figures';

/**
 * Data capture, as the bureau counts it (docs/reports.md): how many readings a monitor should
 * have sent, how many arrived, how many are valid, and which hours and days are valid.
 */
export interface CaptureRules {
  /** Seconds between readings a monitor is configured for (the rule set's expectedIntervalSeconds). */
  readonly expectedIntervalSeconds: number;
  /** Share of an hour's expected readings that makes it a valid hour (0.75, the domain default). */
  readonly validHourShare: number;
  /** Valid hours that make a valid day (20). */
  readonly validHoursPerDay: number;
}

export const DEFAULT_CAPTURE_RULES: CaptureRules = {
  expectedIntervalSeconds: 60,
  validHourShare: 0.75,
  validHoursPerDay: 20,
};

/** One monitor's hour: readings received, and those valid (flag N or none, within range). */
export interface HourCount {
  /** Start of the hour, epoch ms; CNEMC names the hour by its end (the 16:00 value is 15:00–16:00). */
  readonly hourStart: number;
  readonly received: number;
  readonly valid: number;
}

export interface CaptureFigures {
  readonly expected: number;
  readonly received: number;
  readonly valid: number;
  readonly validHours: number;
  readonly validDays: number;
  /** received ÷ expected, in %, at most 100 (a monitor sending faster than configured is not "over 100 %"). */
  readonly capturePct: number;
  /** valid ÷ expected, in %, at most 100. */
  readonly validityPct: number;
}

const HOUR_MS = 3_600_000;

/**
 * Capture figures of one monitor over `hours` whole hours (the period's length; hours with no
 * reading simply have no entry). `dayOf` maps an hour to its local day, for valid days.
 */
export function captureFigures(
  counts: readonly HourCount[],
  hours: number,
  dayOf: (hourStart: number) => string,
  rules: CaptureRules = DEFAULT_CAPTURE_RULES,
): CaptureFigures {
  const perHour = HOUR_MS / 1000 / rules.expectedIntervalSeconds;
  const expected = Math.round(hours * perHour);
  let received = 0;
  let valid = 0;
  let validHours = 0;
  const validHoursByDay = new Map<string, number>();
  for (const c of counts) {
    received += c.received;
    valid += c.valid;
    if (c.valid >= rules.validHourShare * perHour) {
      validHours += 1;
      const day = dayOf(c.hourStart);
      validHoursByDay.set(day, (validHoursByDay.get(day) ?? 0) + 1);
    }
  }
  const validDays = [...validHoursByDay.values()].filter((n) => n >= rules.validHoursPerDay).length;
  return {
    expected,
    received,
    valid,
    validHours,
    validDays,
    capturePct: percent(received, expected),
    validityPct: percent(valid, expected),
  };
}
