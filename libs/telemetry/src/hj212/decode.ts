import { METRICS, METRIC_KEYS, MetricKey, isDataFlag } from '../metrics';
import { ParseContext, QUARANTINE_RAW_LIMIT, Reading, strayFlagWarnings, validateReading } from '../parse-readings';
import { ReadingWarning, Rejection, VALUE_REJECTION_CODES } from '../rejection';
import { Hj212Message, parseBeijingTimestamp } from './message';

/**
 * Refusal codes of the HJ 212 edge: framing and identity, then contract v1's reasons for the
 * values (same ranges, flags and time skew as MQTT).
 */
export const HJ212_REJECTION_CODES = [
  'bad_length',
  'frame_too_long',
  'length_mismatch',
  'crc_mismatch',
  'crc_variant',
  'malformed_segment',
  ...VALUE_REJECTION_CODES,
] as const;

/** What an installer sets per device (fleet file `hj212.units`): particulate codes sent in mg/m³. */
export type Hj212Unit = 'ug/m3' | 'mg/m3';
export type Hj212Units = Readonly<Record<string, Hj212Unit>>;

/** Data commands (HJ 212-2017 appendix B): real-time, minute, hour, day. */
export const DATA_COMMANDS = { '2011': 'rtd', '2051': 'min', '2061': 'hour', '2031': 'day' } as const;
export type DataKind = (typeof DATA_COMMANDS)[keyof typeof DATA_COMMANDS];

/** HJ 212 code → metric. Noise is `LA` in real-time data and `Leq` in minute and hour data. */
const METRIC_OF_CODE: ReadonlyMap<string, MetricKey> = new Map([
  ...METRIC_KEYS.map((key) => [METRICS[key].hj212Code.toLowerCase(), key] as const),
  ['leq', 'noise'],
]);
const PARTICULATES: ReadonlySet<MetricKey> = new Set(['pm25', 'pm10', 'tsp']);

export interface DeviceAggregate {
  readonly period: 'hour' | 'day';
  readonly ts: number;
  readonly values: Partial<Record<MetricKey, { avg?: number; min?: number; max?: number }>>;
}

export interface Hj212Decoded {
  readonly kind: DataKind;
  readonly readings: Reading[];
  readonly rejections: Rejection[];
  readonly warnings: ReadingWarning[];
  /** Hour and day values as the device computed them: stored for comparison, never judged. */
  readonly aggregate: DeviceAggregate | null;
  /** Codes Dustwatch does not map (gases, vendor codes): skipped, counted, never fatal. */
  readonly skippedCodes: string[];
}

interface CodeValues {
  Rtd?: string;
  Avg?: string;
  Min?: string;
  Max?: string;
  Flag?: string;
}

/**
 * CP of a data command: `DataTime=…;code-Rtd=v,code-Flag=N;…`. Lenient where real devices are
 * sloppy: a bare `Flag=` in a group belongs to that group's code, empty groups and a trailing
 * `;` are ignored, codes are matched without regard to case.
 */
function parseCp(cp: string): { dataTime: string | undefined; codes: Map<string, CodeValues> } {
  let dataTime: string | undefined;
  const codes = new Map<string, CodeValues>();
  for (const group of cp.split(';')) {
    let groupCode: string | undefined;
    let bareFlag: string | undefined;
    for (const item of group.split(',')) {
      const eq = item.indexOf('=');
      if (eq <= 0) continue;
      const key = item.slice(0, eq).trim();
      const value = item.slice(eq + 1).trim();
      if (key === 'DataTime') {
        dataTime = value;
        continue;
      }
      if (key === 'Flag') {
        bareFlag = value;
        continue;
      }
      const dash = key.lastIndexOf('-');
      if (dash <= 0) continue;
      const code = key.slice(0, dash).toLowerCase();
      const suffix = key.slice(dash + 1) as keyof CodeValues;
      if (!['Rtd', 'Avg', 'Min', 'Max', 'Flag'].includes(suffix)) continue;
      groupCode = code;
      const entry = codes.get(code) ?? {};
      entry[suffix] = value;
      codes.set(code, entry);
    }
    if (groupCode !== undefined && bareFlag !== undefined) {
      const entry = codes.get(groupCode)!;
      entry.Flag ??= bareFlag;
    }
  }
  return { dataTime, codes };
}

const asNumber = (text: string | undefined): number | string | undefined =>
  text === undefined ? undefined : /^[+-]?(\d+\.?\d*|\.\d+)$/.test(text) ? Number(text) : text;

/**
 * Turns a data command into readings, through the same validation as contract v1 (ranges,
 * flags, time skew): real-time (`-Rtd`) and minute (`-Avg`) data become readings; hour and day
 * values an aggregate. `raw` is the frame, kept (capped) with a refusal.
 */
export function decodeHj212Data(
  message: Hj212Message,
  units: Hj212Units,
  ctx: ParseContext,
  raw: string,
): Hj212Decoded {
  const kind = DATA_COMMANDS[message.cn as keyof typeof DATA_COMMANDS];
  const { dataTime, codes } = parseCp(message.cp);
  const skippedCodes: string[] = [];
  const refuse = (code: string, field: string, text: string): Hj212Decoded => ({
    kind,
    readings: [],
    rejections: [{ index: null, reasons: [{ code, field, message: text }], raw: raw.slice(0, QUARANTINE_RAW_LIMIT) }],
    warnings: [],
    aggregate: null,
    skippedCodes,
  });
  const ts = dataTime === undefined ? null : parseBeijingTimestamp(dataTime);
  if (ts === null)
    return refuse(
      'bad_timestamp',
      'DataTime',
      dataTime === undefined
        ? 'DataTime missing'
        : `DataTime "${dataTime.slice(0, 20)}" is not yyyyMMddHHmmss naming a real Beijing time`,
    );

  const scale = (key: MetricKey, code: string, value: number | string | undefined) =>
    typeof value === 'number' && PARTICULATES.has(key) && units[code] === 'mg/m3' ? value * 1000 : value;
  const reading: Record<string, unknown> = { ts };
  const flags: Record<string, string> = {};
  const aggregate: DeviceAggregate = { period: kind === 'day' ? 'day' : 'hour', ts, values: {} };
  for (const [code, values] of codes) {
    const key = METRIC_OF_CODE.get(code);
    if (key === undefined) {
      skippedCodes.push(code);
      continue;
    }
    if (kind === 'hour' || kind === 'day') {
      const numbers = {
        avg: scale(key, code, asNumber(values.Avg)),
        min: scale(key, code, asNumber(values.Min)),
        max: scale(key, code, asNumber(values.Max)),
      };
      aggregate.values[key] = Object.fromEntries(Object.entries(numbers).filter(([, v]) => typeof v === 'number'));
      continue;
    }
    const value = scale(key, code, asNumber(kind === 'rtd' ? values.Rtd : (values.Avg ?? values.Rtd)));
    if (value !== undefined) reading[key] = value;
    const flag = values.Flag?.toUpperCase();
    if (flag !== undefined && flag !== '') flags[key] = isDataFlag(flag) ? flag : values.Flag!;
  }
  if (kind === 'hour' || kind === 'day')
    return { kind, readings: [], rejections: [], warnings: [], aggregate, skippedCodes };
  if (Object.keys(flags).length > 0) reading['flags'] = flags;
  const outcome = validateReading(reading, ctx);
  if ('reasons' in outcome)
    return {
      kind,
      readings: [],
      rejections: [{ index: null, reasons: outcome.reasons, raw: raw.slice(0, QUARANTINE_RAW_LIMIT) }],
      warnings: [],
      aggregate: null,
      skippedCodes,
    };
  return {
    kind,
    readings: [{ ...outcome, kind }],
    rejections: [],
    warnings: strayFlagWarnings(reading, outcome, null),
    aggregate: null,
    skippedCodes,
  };
}
