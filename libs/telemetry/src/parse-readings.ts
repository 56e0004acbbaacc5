import { ValidationError, validateSync } from 'class-validator';
import { DataFlag, METRICS, METRIC_KEYS, MetricKey } from './metrics';
import { READING_FIELDS, ReadingDto, isDataFlagMap, readingTimeToEpochMs } from './reading.dto';
import { ReadingWarning, Rejection, RejectionCode, RejectionReason } from './rejection';

/** A reading that passed contract v1, in the units of the metric catalogue. */
export interface Reading {
  readonly deviceId: string;
  /** Reading time, epoch milliseconds. */
  readonly ts: number;
  /** True when the device sent no `ts` and the server's receive time was used. */
  readonly serverTime: boolean;
  readonly values: Readonly<Partial<Record<MetricKey, number>>>;
  readonly flags: Readonly<Partial<Record<MetricKey, DataFlag>>>;
  /** HJ 212 readings: real-time (`-Rtd`, CN 2011) or a minute value (`-Avg`, CN 2051). */
  readonly kind?: 'rtd' | 'min';
}

export interface ParseContext {
  readonly deviceId: string;
  /** Server receive time, epoch ms: the clock is injected, never read here. */
  readonly receivedAt: number;
  /** Oldest acceptable reading age in ms (the raw retention, minus a margin). */
  readonly maxAgeMs: number;
}

export interface ParseResult {
  readonly readings: Reading[];
  readonly rejections: Rejection<RejectionCode>[];
  /** Accepted readings the device should still hear about (a flag for a metric it did not send). */
  readonly warnings: ReadingWarning[];
}

export const MAX_BATCH_READINGS = 500;
/** A device clock may run ahead by this much before a reading is refused. */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;
/** Raw payload text kept in the quarantine, per rejection. */
export const QUARANTINE_RAW_LIMIT = 4096;

// When one field fails several constraints, report the most specific one only.
const REASON_PRIORITY: readonly RejectionCode[] = [
  'not_finite',
  'wrong_type',
  'out_of_range',
  'bad_timestamp',
  'bad_flag',
];

const utf8 = new TextDecoder('utf-8', { fatal: true });

function capped(text: string): string {
  return text.length > QUARANTINE_RAW_LIMIT ? text.slice(0, QUARANTINE_RAW_LIMIT) : text;
}

function whole(code: RejectionCode, message: string, raw: string): ParseResult {
  return { readings: [], rejections: [{ index: null, reasons: [{ code, message }], raw: capped(raw) }], warnings: [] };
}

/**
 * Parses and validates one MQTT payload of contract v1: a reading object or an array of up to
 * 500. Valid readings are returned; every refused one comes back with all its reasons, so the
 * caller can quarantine it. Pure: no I/O, time from the context.
 */
export function parseReadingsPayload(payload: Uint8Array, ctx: ParseContext): ParseResult {
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return whole('invalid_utf8', 'payload is not valid UTF-8', Buffer.from(payload).toString('latin1'));
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return whole('malformed_json', `payload is not JSON: ${(e as Error).message}`, text);
  }
  if (!Array.isArray(doc)) return collect([doc], ctx, () => text, false);
  if (doc.length === 0) return whole('empty_batch', 'a batch must hold at least one reading', text);
  if (doc.length > MAX_BATCH_READINGS) {
    return whole('batch_too_large', `a batch holds at most ${MAX_BATCH_READINGS} readings, got ${doc.length}`, text);
  }
  let elements: string[] | undefined;
  return collect(doc, ctx, (i) => (elements ??= topLevelElements(text))[i], true);
}

/**
 * @param rawOf the element's text exactly as the device sent it (the quarantine keeps that, not
 *   a re-serialisation: `1e400` must stay `1e400`, not become `null`); asked for refused ones only.
 */
function collect(items: unknown[], ctx: ParseContext, rawOf: (i: number) => string, isBatch: boolean): ParseResult {
  const readings: Reading[] = [];
  const rejections: Rejection<RejectionCode>[] = [];
  const warnings: ReadingWarning[] = [];
  items.forEach((item, i) => {
    const outcome = validateReading(item, ctx);
    if ('reasons' in outcome) {
      rejections.push({ index: isBatch ? i : null, reasons: outcome.reasons, raw: capped(rawOf(i)) });
      return;
    }
    readings.push(outcome);
    warnings.push(...strayFlagWarnings(item as Record<string, unknown>, outcome, isBatch ? i : null));
  });
  return { readings, rejections, warnings };
}

/**
 * A warning for each flagged metric the reading has no value for (a sensor absent or broken):
 * the reading is kept, the flag dropped.
 */
export function strayFlagWarnings(
  source: Record<string, unknown>,
  reading: Reading,
  index: number | null,
): ReadingWarning[] {
  const sent = source['flags'];
  if (typeof sent !== 'object' || sent === null) return [];
  return Object.keys(sent)
    .filter((key) => reading.values[key as MetricKey] === undefined)
    .map((field) => ({
      index,
      code: 'flag_without_value',
      field: `flags.${field}`,
      message: `flag for ${field} dropped: the reading carries no ${field} value (reading kept)`,
    }));
}

/**
 * The source text of each element of a JSON array that already parsed: splits at the commas of
 * nesting depth 1, outside strings. Hand-written because JSON.parse gives values, not their text.
 */
export function topLevelElements(text: string): string[] {
  const elements: string[] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth++;
      if (depth === 1) start = i + 1;
    } else if (c === ']' || c === '}') {
      if (depth === 1) elements.push(text.slice(start, i).trim());
      depth--;
    } else if (c === ',' && depth === 1) {
      elements.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  return elements;
}

/** Validates one element; returns the reading or every reason it was refused. */
export function validateReading(
  item: unknown,
  ctx: ParseContext,
): Reading | { reasons: RejectionReason<RejectionCode>[] } {
  return acceptValid(item, ctx) ?? validateReadingStrict(item, ctx);
}

/**
 * The hot path: accepts a reading that breaks no rule of the contract, in one pass and without
 * allocating validation metadata; returns null for anything else, which then goes through the
 * class-validator DTO to get its exact reasons. class-validator costs about 30 µs a reading, the
 * largest share of the ingest CPU budget (docs/benchmarks.md). The two are held to the same
 * verdicts by a randomised equivalence test (parse-readings.spec.ts).
 */
export function acceptValid(item: unknown, ctx: ParseContext): Reading | null {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return null;
  const source = item as Record<string, unknown>;
  const values: Partial<Record<MetricKey, number>> = {};
  let flags: Partial<Record<MetricKey, DataFlag>> = {};
  let ts: number | null = null;
  let metrics = 0;
  for (const key of Object.keys(source)) {
    const value = source[key];
    if (key === 'ts') {
      ts = readingTimeToEpochMs(value);
      if (ts === null) return null;
    } else if (key === 'flags') {
      if (!isDataFlagMap(value)) return null;
      flags = value;
    } else {
      if (!Object.hasOwn(METRICS, key)) return null;
      const spec = METRICS[key as MetricKey];
      if (typeof value !== 'number' || !Number.isFinite(value) || value < spec.min || value > spec.max) return null;
      values[key as MetricKey] = value;
      metrics += 1;
    }
  }
  if (metrics === 0) return null;
  for (const key in flags) if (values[key as MetricKey] === undefined) return null; // warned about on the strict path
  if (ts !== null && (ts > ctx.receivedAt + MAX_FUTURE_SKEW_MS || ts < ctx.receivedAt - ctx.maxAgeMs)) return null;
  return {
    deviceId: ctx.deviceId,
    ts: ts ?? ctx.receivedAt,
    serverTime: ts === null,
    values: orderedValues(values),
    flags,
  };
}

/** Values in catalogue order, whatever order the device sent them in. */
function orderedValues(values: Partial<Record<MetricKey, number>>): Partial<Record<MetricKey, number>> {
  const ordered: Partial<Record<MetricKey, number>> = {};
  for (const key of METRIC_KEYS) if (values[key] !== undefined) ordered[key] = values[key];
  return ordered;
}

/** The reference validation through the class-validator DTO; reports every reason. */
export function validateReadingStrict(
  item: unknown,
  ctx: ParseContext,
): Reading | { reasons: RejectionReason<RejectionCode>[] } {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    return { reasons: [{ code: 'not_an_object', message: 'a reading must be a JSON object' }] };
  }
  const source = item as Record<string, unknown>;
  const reasons: RejectionReason<RejectionCode>[] = [];
  // Unknown keys are checked before anything is copied, so `__proto__` and friends never
  // reach an object's prototype chain.
  const dto = new ReadingDto() as unknown as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    if (READING_FIELDS.has(key)) dto[key] = source[key];
    else reasons.push({ code: 'unknown_field', field: key, message: `unknown field "${key.slice(0, 64)}"` });
  }
  reasons.push(...fieldReasons(validateSync(dto)));

  const values: Partial<Record<MetricKey, number>> = {};
  for (const key of METRIC_KEYS) if (typeof dto[key] === 'number') values[key] = dto[key] as number;
  if (!METRIC_KEYS.some((key) => source[key] !== undefined)) {
    reasons.push({ code: 'no_metrics', message: `a reading needs at least one of ${METRIC_KEYS.join(', ')}` });
  }

  const sentTs = source['ts'] === undefined ? null : readingTimeToEpochMs(source['ts']);
  if (sentTs !== null) {
    if (sentTs > ctx.receivedAt + MAX_FUTURE_SKEW_MS) {
      reasons.push({
        code: 'ts_in_future',
        field: 'ts',
        message: `ts is ${Math.round((sentTs - ctx.receivedAt) / 1000)} s ahead of the server clock (at most ${MAX_FUTURE_SKEW_MS / 1000} s allowed)`,
      });
    } else if (sentTs < ctx.receivedAt - ctx.maxAgeMs) {
      reasons.push({
        code: 'ts_too_old',
        field: 'ts',
        message: `ts is older than the raw retention allows (${Math.floor(ctx.maxAgeMs / 3_600_000)} h)`,
      });
    }
  }
  if (reasons.length > 0) return { reasons };
  return {
    deviceId: ctx.deviceId,
    ts: sentTs ?? ctx.receivedAt,
    serverTime: sentTs === null,
    values,
    flags: flagsOfValues(source['flags'] as Partial<Record<MetricKey, DataFlag>> | undefined, values),
  };
}

function flagsOfValues(
  flags: Partial<Record<MetricKey, DataFlag>> | undefined,
  values: Partial<Record<MetricKey, number>>,
): Partial<Record<MetricKey, DataFlag>> {
  const kept: Partial<Record<MetricKey, DataFlag>> = {};
  for (const key of METRIC_KEYS) if (flags?.[key] !== undefined && values[key] !== undefined) kept[key] = flags[key];
  return kept;
}

function fieldReasons(errors: ValidationError[]): RejectionReason<RejectionCode>[] {
  return errors.map((error) => {
    const contexts = (error.contexts ?? {}) as Record<string, { reason: RejectionCode }>;
    const messages = error.constraints ?? {};
    const failed = Object.keys(messages).map((name) => ({
      code: contexts[name]?.reason ?? 'wrong_type',
      message: messages[name],
    }));
    failed.sort((a, b) => REASON_PRIORITY.indexOf(a.code) - REASON_PRIORITY.indexOf(b.code));
    return { code: failed[0].code, field: error.property, message: failed[0].message };
  });
}
