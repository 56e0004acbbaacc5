import { RateLimitedLog } from '../kernel/rate-limited-log';
import { QuarantineBudget } from '../ingest/ingest-core';
import { FailureThrottle } from './failure-throttle';

const clockAt = (start = 1_000_000) => {
  const clock = { t: start, now: () => clock.t };
  return clock;
};

describe('FailureThrottle', () => {
  const options = { freeFailures: 3, baseBlockMs: 1000, maxBlockMs: 8000, forgetAfterMs: 60_000, maxKeys: 100 };

  it('lets the free failures through, then blocks for a doubling time up to the cap', () => {
    const clock = clockAt();
    const throttle = new FailureThrottle(clock, options);
    for (let i = 0; i < 3; i++) throttle.failure('10.0.0.1');
    expect(throttle.blockedFor('10.0.0.1')).toBe(0);
    const blocks: number[] = [];
    for (let i = 0; i < 6; i++) {
      throttle.failure('10.0.0.1');
      blocks.push(throttle.blockedFor('10.0.0.1'));
    }
    expect(blocks).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    expect(throttle.blockedFor('10.0.0.2')).toBe(0);
    clock.t += 8000;
    expect(throttle.blockedFor('10.0.0.1')).toBe(0);
  });

  it('forgets a key that stayed quiet, and on success', () => {
    const clock = clockAt();
    const throttle = new FailureThrottle(clock, options);
    for (let i = 0; i < 4; i++) throttle.failure('a');
    expect(throttle.blockedFor('a')).toBe(1000);
    clock.t += 60_001;
    throttle.failure('a');
    expect(throttle.blockedFor('a')).toBe(0); // counted from 1 again
    for (let i = 0; i < 4; i++) throttle.failure('b');
    throttle.success('b');
    expect(throttle.blockedFor('b')).toBe(0);
  });

  it('holds at most maxKeys keys, forgetting the oldest', () => {
    const throttle = new FailureThrottle(clockAt(), { ...options, freeFailures: 0, maxKeys: 100 });
    for (let i = 0; i < 1000; i++) throttle.failure(`k${i}`);
    expect(throttle.blockedCount()).toBe(100);
    expect(throttle.blockedFor('k0')).toBe(0);
    expect(throttle.blockedFor('k999')).toBe(1000);
  });
});

describe('RateLimitedLog', () => {
  it('logs a key once per interval and reports what it held back', () => {
    const clock = clockAt();
    const lines: [string, object | undefined][] = [];
    let suppressedCount = 0;
    const log = new RateLimitedLog(
      { log: () => undefined, error: () => undefined, warn: (m, f) => lines.push([m, f]) },
      clock,
      () => suppressedCount++,
      { perKeyMs: 10_000, linesPerWindow: 3, windowMs: 60_000, maxKeys: 10 },
    );
    for (let i = 0; i < 50; i++) log.warn('connect:10.0.0.1', 'refused', { i });
    expect(lines).toEqual([['refused', { i: 0 }]]);
    clock.t += 10_000;
    log.warn('connect:10.0.0.1', 'refused', { i: 50 });
    expect(lines[1]).toEqual(['refused', { i: 50, suppressed: 49 }]);
    // A flood that rotates keys meets the window's budget.
    for (let i = 0; i < 100; i++) log.warn(`connect:10.1.0.${i}`, 'refused', { i });
    expect(lines).toHaveLength(3);
    clock.t += 60_000;
    log.warn('connect:10.9.9.9', 'refused', {});
    expect(lines.slice(3)).toEqual([
      ['repeated warnings suppressed', { suppressed: 148, windowSeconds: 60 }],
      ['refused', {}],
    ]);
    expect(suppressedCount).toBe(148);
  });
});

describe('QuarantineBudget', () => {
  it('keeps the first N refused readings per device and clock hour', () => {
    const budget = new QuarantineBudget(100);
    const hour = 3_600_000 * 500_000;
    expect(budget.take('d1', hour + 1, 60)).toBe(60);
    expect(budget.take('d1', hour + 2, 60)).toBe(40);
    expect(budget.take('d1', hour + 3, 5)).toBe(0);
    expect(budget.take('d2', hour + 4, 5)).toBe(5);
    expect(budget.take('d1', hour + 3_600_000, 5)).toBe(5);
  });
});
