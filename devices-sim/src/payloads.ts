import { MalformedKind } from './scenarios';

/**
 * One payload of each kind the contract refuses, stamped around `now` (the service's clock):
 * the e2e test checks each lands in the quarantine with exactly this reason.
 */
export function malformedPayload(kind: MalformedKind, now: number): Buffer {
  const text = (value: unknown): Buffer => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
  switch (kind) {
    case 'invalid_utf8':
      return Buffer.from([0x7b, 0x22, 0x70, 0xff, 0xfe, 0x7d]);
    case 'malformed_json':
      return text('{"pm10": 12.5, "pm25": ');
    case 'empty_batch':
      return text([]);
    case 'batch_too_large':
      return text(Array.from({ length: 501 }, (_, i) => ({ ts: now - i * 1000, pm10: 50 })));
    case 'not_an_object':
      return text('42');
    case 'unknown_field':
      return text({ ts: now, pm10: 50, pm100: 60 });
    case 'wrong_type':
      return text({ ts: now, pm10: '50' });
    case 'not_finite':
      return text({ ts: now, pm10: 'NaN' });
    case 'out_of_range':
      return text({ ts: now, pm10: -5 });
    case 'no_metrics':
      return text({ ts: now });
    case 'bad_timestamp':
      return text({ ts: '2026-03-01 08:00', pm10: 50 });
    case 'ts_in_future':
      return text({ ts: now + 3_600_000, pm10: 50 });
    case 'ts_too_old':
      return text({ ts: now - 400 * 86_400_000, pm10: 50 });
    case 'bad_flag':
      return text({ ts: now, pm10: 50, flags: { pm10: 'X' } });
  }
}
