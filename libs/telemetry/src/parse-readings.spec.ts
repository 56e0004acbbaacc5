import {
  acceptValid,
  parseReadingsPayload,
  ParseContext,
  MAX_BATCH_READINGS,
  validateReadingStrict,
} from './parse-readings';
import { METRICS, METRIC_KEYS } from './metrics';
import { RejectionCode } from './rejection';

const NOW = Date.parse('2026-03-01T08:00:00+08:00');
const ctx: ParseContext = { deviceId: 'dev-1', receivedAt: NOW, maxAgeMs: 90 * 86_400_000 - 3_600_000 };
const parse = (value: unknown) =>
  parseReadingsPayload(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)), ctx);
const codesOf = (value: unknown): RejectionCode[][] => parse(value).rejections.map((r) => r.reasons.map((x) => x.code));

describe('parseReadingsPayload: accepted readings', () => {
  it('accepts one object with ISO time and flags', () => {
    const result = parse({ ts: '2026-03-01T07:59:00+08:00', pm10: 123.4, pm25: 56, noise: 61.5, flags: { pm25: 'M' } });
    expect(result.rejections).toEqual([]);
    expect(result.readings).toEqual([
      {
        deviceId: 'dev-1',
        ts: NOW - 60_000,
        serverTime: false,
        values: { pm25: 56, pm10: 123.4, noise: 61.5 },
        flags: { pm25: 'M' },
      },
    ]);
  });

  it('uses the receive time when ts is absent and marks the reading', () => {
    expect(parse({ tsp: 300 }).readings).toEqual([
      { deviceId: 'dev-1', ts: NOW, serverTime: true, values: { tsp: 300 }, flags: {} },
    ]);
  });

  it('accepts epoch milliseconds and every metric at its range limits', () => {
    const all = {
      ts: NOW - 1000,
      pm25: 0,
      pm10: 20000,
      tsp: 50000,
      noise: 20,
      windSpeed: 75,
      windDir: 360,
      temperature: -50,
      humidity: 100,
      pressure: 110,
    };
    const result = parse(all);
    expect(result.rejections).toEqual([]);
    const { ts: _ts, ...values } = all;
    expect(result.readings[0].values).toEqual(values);
    expect(result.readings[0].ts).toBe(NOW - 1000);
  });

  it('keeps the good readings of a batch and rejects only the bad ones, with their index', () => {
    const result = parse([{ pm10: 10 }, { pm10: -1 }, { pm10: 30 }, 'x']);
    expect(result.readings.map((r) => r.values.pm10)).toEqual([10, 30]);
    expect(result.rejections.map((r) => [r.index, r.reasons.map((x) => x.code)])).toEqual([
      [1, ['out_of_range']],
      [3, ['not_an_object']],
    ]);
    expect(result.rejections[0].raw).toBe('{"pm10":-1}');
  });
});

describe('parseReadingsPayload: every bad-input class has its exact reason', () => {
  it.each<[string, unknown, RejectionCode[][]]>([
    ['malformed JSON', '{"pm10": 12', [['malformed_json']]],
    ['NaN as a bare token', '{"pm10": NaN}', [['malformed_json']]],
    ['NaN as text', { pm10: 'NaN' }, [['not_finite']]],
    ['Infinity as text', { pm10: '-Infinity' }, [['not_finite']]],
    ['a number that overflows to Infinity', '{"pm10": 1e999}', [['not_finite']]],
    ['a number as a string', { pm10: '12' }, [['wrong_type']]],
    ['null for a metric', { pm10: null }, [['wrong_type']]],
    ['PM10 below zero', { pm10: -0.1 }, [['out_of_range']]],
    ['pressure in hPa', { pressure: 1013 }, [['out_of_range']]],
    ['noise above 140 dB(A)', { noise: 141 }, [['out_of_range']]],
    ['unknown field', { pm10: 1, pm100: 2 }, [['unknown_field']]],
    ['__proto__ as a field', '{"pm10": 1, "__proto__": {"x": 1}}', [['unknown_field']]],
    ['no metric at all', { ts: NOW }, [['no_metrics']]],
    ['ts without offset', { pm10: 1, ts: '2026-03-01T08:00:00' }, [['bad_timestamp']]],
    ['ts as a fraction of ms', { pm10: 1, ts: 1.5 }, [['bad_timestamp']]],
    [
      '31 September (Date.parse moves it to 1 October)',
      { pm10: 1, ts: '2026-09-31T10:00:00+08:00' },
      [['bad_timestamp']],
    ],
    ['30 February', { pm10: 1, ts: '2026-02-30T10:00:00+08:00' }, [['bad_timestamp']]],
    ['29 February of a common year', { pm10: 1, ts: '2026-02-29T10:00:00Z' }, [['bad_timestamp']]],
    ['hour 24', { pm10: 1, ts: '2026-03-01T24:00:00+08:00' }, [['bad_timestamp']]],
    ['second 60', { pm10: 1, ts: '2026-03-01T07:59:60+08:00' }, [['bad_timestamp']]],
    ['an offset of +25:00', { pm10: 1, ts: '2026-03-01T07:59:00+25:00' }, [['bad_timestamp']]],
    ['ts 6 minutes ahead', { pm10: 1, ts: NOW + 6 * 60_000 }, [['ts_in_future']]],
    ['ts older than the retention', { pm10: 1, ts: NOW - 90 * 86_400_000 }, [['ts_too_old']]],
    ['flag outside HJ 212', { pm10: 1, flags: { pm10: 'X' } }, [['bad_flag']]],
    ['flag for an unknown metric', { pm10: 1, flags: { so2: 'N' } }, [['bad_flag']]],
    ['an array element that is not an object', [[1]], [['not_an_object']]],
    ['a bare number', '42', [['not_an_object']]],
    ['an empty batch', [], [['empty_batch']]],
  ])('%s', (_name, payload, expected) => {
    const result = parse(payload);
    expect(result.readings).toEqual([]);
    expect(result.rejections.map((r) => r.reasons.map((x) => x.code))).toEqual(expected);
  });

  it('says why a well-formed ts is refused: it is not on the calendar', () => {
    const reasons = parse({ pm10: 1, ts: '2026-09-31T10:00:00+08:00' }).rejections[0].reasons;
    expect(reasons).toEqual([
      {
        code: 'bad_timestamp',
        field: 'ts',
        message: 'ts "2026-09-31T10:00:00+08:00" is not a real calendar date and time (or its offset is beyond ±14:59)',
      },
    ]);
  });

  it('reads fractions and offsets exactly', () => {
    expect(parse({ pm10: 1, ts: '2026-03-01T07:59:59.5+08:00' }).readings[0].ts).toBe(NOW - 500);
    expect(parse({ pm10: 1, ts: '2026-02-28T22:59:00.123456-00:30' }).readings[0].ts).toBe(
      Date.UTC(2026, 1, 28, 23, 29, 0, 123),
    );
    expect(parse({ pm10: 1, ts: '2024-02-29T00:00:00Z' }).rejections.map((r) => r.reasons[0].code)).toEqual([
      'ts_too_old',
    ]);
  });

  it('keeps the raw text of a refused element as sent, not re-serialised', () => {
    const text = '[{"pm10": 1}, {"pm10": 1e400, "note": "a, [b]"} ,{"pm10":2,"x":"\\\\"}]';
    const result = parse(text);
    expect(result.rejections.map((r) => r.raw)).toEqual(['{"pm10": 1e400, "note": "a, [b]"}', '{"pm10":2,"x":"\\\\"}']);
    expect(parse('{"pm10": 1e400}').rejections[0].raw).toBe('{"pm10": 1e400}');
  });

  it('refuses invalid UTF-8', () => {
    const result = parseReadingsPayload(Buffer.from([0x7b, 0xff, 0x7d]), ctx);
    expect(result.rejections.map((r) => [r.index, r.reasons[0].code])).toEqual([[null, 'invalid_utf8']]);
  });

  it('refuses a batch over the limit as a whole', () => {
    const batch = Array.from({ length: MAX_BATCH_READINGS + 1 }, () => ({ pm10: 1 }));
    const result = parse(batch);
    expect(result.readings).toEqual([]);
    expect(result.rejections).toHaveLength(1);
    expect(result.rejections[0].reasons[0]).toEqual({
      code: 'batch_too_large',
      message: 'a batch holds at most 500 readings, got 501',
    });
    expect(result.rejections[0].raw).toHaveLength(4096);
  });

  it('accepts a batch of exactly the limit', () => {
    expect(parse(Array.from({ length: MAX_BATCH_READINGS }, () => ({ pm10: 1 }))).readings).toHaveLength(
      MAX_BATCH_READINGS,
    );
  });

  it('reports every reason of one reading, one per field', () => {
    expect(codesOf({ pm10: -5, noise: 'loud', extra: true, ts: 'yesterday' })).toEqual([
      ['unknown_field', 'bad_timestamp', 'out_of_range', 'wrong_type'],
    ]);
    const reasons = parse({ pm10: -5, noise: 'loud', extra: true, ts: 'yesterday' }).rejections[0].reasons;
    expect(reasons.map((r) => r.field)).toEqual(['extra', 'ts', 'pm10', 'noise']);
    expect(reasons[2].message).toBe('pm10 must be ≥ 0 µg/m³');
  });
});

describe('a flag for a metric the reading does not carry', () => {
  it('keeps the reading, drops the flag and says so', () => {
    const result = parse([{ pm10: 87, flags: { tsp: 'C', pm10: 'N' } }, { pm10: 3 }]);
    expect(result.rejections).toEqual([]);
    expect(result.readings.map((r) => r.flags)).toEqual([{ pm10: 'N' }, {}]);
    expect(result.warnings).toEqual([
      {
        index: 0,
        code: 'flag_without_value',
        field: 'flags.tsp',
        message: 'flag for tsp dropped: the reading carries no tsp value (reading kept)',
      },
    ]);
    expect(parse({ pm10: 87, flags: { tsp: 'C' } }).warnings.map((w) => w.index)).toEqual([null]);
  });
});

describe('the hot path and the class-validator DTO agree', () => {
  // A small deterministic PRNG so a failure is reproducible.
  let state = 12345;
  const random = (): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];

  function randomValue(key: (typeof METRIC_KEYS)[number]): unknown {
    const { min, max } = METRICS[key];
    return pick<() => unknown>([
      () => min + random() * (max - min),
      () => min,
      () => max,
      () => min - 0.001,
      () => max + 1,
      () => String(min),
      () => null,
      () => 'NaN',
      () => true,
      () => [1],
    ])();
  }

  function randomReading(): Record<string, unknown> {
    const reading: Record<string, unknown> = {};
    for (const key of METRIC_KEYS)
      if (random() < 0.4) reading[key] = random() < 0.8 ? (METRICS[key].min + METRICS[key].max) / 2 : randomValue(key);
    if (random() < 0.7)
      reading['ts'] = pick<unknown>([
        NOW - 1000,
        NOW + 10 * 60_000,
        NOW - 100 * 86_400_000,
        '2026-03-01T07:00:00+08:00',
        '2026-02-29T07:00:00+08:00',
        '2026-03-01 07:00',
        -1,
        1.5,
      ]);
    if (random() < 0.2) reading['flags'] = pick<unknown>([{ pm10: 'M' }, { pm10: 'X' }, { so2: 'N' }, [], 'N']);
    if (random() < 0.05) reading['extra'] = 1;
    return reading;
  }

  it('on 5,000 random readings, valid and invalid', () => {
    let accepted = 0;
    for (let i = 0; i < 5000; i++) {
      const reading = randomReading();
      const fast = acceptValid(reading, ctx);
      const strict = validateReadingStrict(reading, ctx);
      // The hot path accepts exactly what the DTO accepts, with the same result, and nothing else —
      // except a flag without its value, which it leaves to the strict path to warn about.
      const strayFlag = reading['flags'] !== undefined && reading['pm10'] === undefined;
      if ('reasons' in strict || strayFlag) expect(fast).toBeNull();
      else {
        expect(fast).toEqual(strict);
        accepted += 1;
      }
    }
    // Both outcomes must be well represented, or the comparison proves little.
    expect(accepted).toBeGreaterThan(1000);
    expect(accepted).toBeLessThan(4000);
  });
});
