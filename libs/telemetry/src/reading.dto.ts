import { IsNumber, Max, Min, ValidateIf, ValidationOptions, registerDecorator } from 'class-validator';
import { DATA_FLAGS, DataFlag, METRICS, MetricKey, isDataFlag, isMetricKey } from './metrics';
import { wallTimeToEpochMs } from './local-time';
import { RejectionCode } from './rejection';

/** Tags a class-validator constraint with the rejection code it stands for. */
function because(reason: RejectionCode, message: string): ValidationOptions {
  return { context: { reason }, message };
}

/**
 * ISO 8601 with an explicit offset (`Z` or `±hh:mm`): a local time without a zone is ambiguous
 * for devices that may run on UTC or on Asia/Shanghai time.
 */
const ISO_WITH_OFFSET =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):?(\d{2}))$/;

/**
 * Reading time as sent: ISO 8601 with offset, or integer epoch milliseconds. Null if neither, or
 * if the date is not on the calendar: `Date.parse` would move 2026-09-31 to 1 October.
 */
export function readingTimeToEpochMs(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : null;
  if (typeof value !== 'string') return null;
  const m = ISO_WITH_OFFSET.exec(value);
  if (m === null) return null;
  const offsetHours = m[8] ? 0 : Number(m[10]);
  const offsetMinutes = m[8] ? 0 : Number(m[11]);
  if (offsetHours > 14 || offsetMinutes > 59) return null;
  const offsetMs = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  const fraction = m[7] ? Number(m[7].padEnd(3, '0').slice(0, 3)) : 0;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0));
  return wallTimeToEpochMs(offsetMs, year, month, day, hour, minute, second, fraction);
}

const NON_FINITE_TEXT = new Set(['NaN', 'Infinity', '+Infinity', '-Infinity', 'inf', '-inf', 'nan']);

/** Why a `ts` is refused, as precisely as can be said. */
function readingTimeProblem(value: unknown): string {
  if (typeof value === 'string' && ISO_WITH_OFFSET.test(value))
    return `ts "${value.slice(0, 40)}" is not a real calendar date and time (or its offset is beyond ±14:59)`;
  return 'ts must be ISO 8601 with an offset (e.g. 2026-03-01T08:00:00+08:00) or integer epoch milliseconds';
}

/** Composite validator: the reading time of contract v1. */
function IsReadingTime(): PropertyDecorator {
  return (target, property) =>
    registerDecorator({
      name: 'isReadingTime',
      target: target.constructor,
      propertyName: property as string,
      options: { context: { reason: 'bad_timestamp' }, message: (args) => readingTimeProblem(args.value) },
      validator: { validate: (value: unknown) => readingTimeToEpochMs(value) !== null },
    });
}

export function isDataFlagMap(value: unknown): value is Partial<Record<MetricKey, DataFlag>> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.entries(value).every(([k, v]) => isMetricKey(k) && isDataFlag(v))
  );
}

/** Composite validator: `flags` maps a metric key to an HJ 212 data flag. */
function IsDataFlagMap(): PropertyDecorator {
  return (target, property) =>
    registerDecorator({
      name: 'isDataFlagMap',
      target: target.constructor,
      propertyName: property as string,
      options: because(
        'bad_flag',
        `flags must map metric names to one of ${DATA_FLAGS.join('/')} (HJ 212-2017 data flags)`,
      ),
      validator: { validate: isDataFlagMap },
    });
}

/**
 * Composite validator for one metric: present → a finite JSON number inside the plausible range.
 * `null` is not "absent": a device that has no value for a metric leaves the key out.
 */
function IsMetricValue(key: MetricKey): PropertyDecorator {
  const spec = METRICS[key];
  return (target, property) => {
    ValidateIf((o: Record<string, unknown>) => o[key] !== undefined)(target, property);
    registerDecorator({
      name: 'isFinite',
      target: target.constructor,
      propertyName: property as string,
      options: because('not_finite', `${key} must be a finite number (NaN and Infinity are refused)`),
      validator: {
        validate: (v: unknown) =>
          !((typeof v === 'number' && !Number.isFinite(v)) || (typeof v === 'string' && NON_FINITE_TEXT.has(v.trim()))),
      },
    });
    IsNumber(
      { allowNaN: false, allowInfinity: false },
      because('wrong_type', `${key} must be a JSON number in ${spec.unit}`),
    )(target, property);
    Min(spec.min, because('out_of_range', `${key} must be ≥ ${spec.min} ${spec.unit}`))(target, property);
    Max(spec.max, because('out_of_range', `${key} must be ≤ ${spec.max} ${spec.unit}`))(target, property);
  };
}

/** One reading of contract v1 as it arrives on `devices/{id}/readings`. */
export class ReadingDto {
  @ValidateIf((o: ReadingDto) => o.ts !== undefined) @IsReadingTime() ts?: string | number;
  @IsMetricValue('pm25') pm25?: number;
  @IsMetricValue('pm10') pm10?: number;
  @IsMetricValue('tsp') tsp?: number;
  @IsMetricValue('noise') noise?: number;
  @IsMetricValue('windSpeed') windSpeed?: number;
  @IsMetricValue('windDir') windDir?: number;
  @IsMetricValue('temperature') temperature?: number;
  @IsMetricValue('humidity') humidity?: number;
  @IsMetricValue('pressure') pressure?: number;
  @ValidateIf((o: ReadingDto) => o.flags !== undefined) @IsDataFlagMap() flags?: Partial<Record<MetricKey, DataFlag>>;
}

export const READING_FIELDS: ReadonlySet<string> = new Set(['ts', 'flags', ...Object.keys(METRICS)]);
