import { RetryPolicy, retryDelay } from './dispatcher';

describe('retryDelay', () => {
  const policy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 8000 };
  it('doubles per attempt up to the cap, half of it jittered', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(policy, n, () => 0))).toEqual([500, 1000, 2000, 4000, 4000]);
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(policy, n, () => 1))).toEqual([1000, 2000, 4000, 8000, 8000]);
  });
});
