import { Clock } from '../kernel/clock';

export interface FailureThrottleOptions {
  /** Failures a key may have before it is blocked at all. */
  readonly freeFailures: number;
  /** The first block; each further failure doubles it, up to maxBlockMs. */
  readonly baseBlockMs: number;
  readonly maxBlockMs: number;
  /** A key quiet this long starts over. */
  readonly forgetAfterMs: number;
  /** Keys held at most; the oldest are forgotten first, so a flood of new keys costs bounded memory. */
  readonly maxKeys: number;
}

/**
 * Per source address: generous (20 free failures), since many monitors or a whole office may
 * share one NAT address; then 1 s, doubling to 5 minutes; 10 quiet minutes start over.
 */
export const PER_ADDRESS_BACKOFF: FailureThrottleOptions = {
  freeFailures: 20,
  baseBlockMs: 1_000,
  maxBlockMs: 300_000,
  forgetAfterMs: 600_000,
  maxKeys: 50_000,
};

interface Entry {
  failures: number;
  lastFailureAt: number;
  blockedUntil: number;
}

/**
 * Exponential back-off after failed logins, per key (a source address, a device id). While a
 * key is blocked its attempts are refused before any check; every failure past the free ones
 * doubles the block. Callers count an attempt with failure() before checking it and refund() it
 * on success: counted only after the check, 40 parallel guesses were all checked. Hand-written rather than @nestjs/throttler: that one counts HTTP requests
 * per route, this one failures per key across MQTT, HJ 212 and HTTP alike, with an injected clock.
 */
export class FailureThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    private readonly options: FailureThrottleOptions,
  ) {}

  /** Milliseconds the key stays blocked; 0 when it may try. */
  blockedFor(key: string): number {
    const entry = this.entries.get(key);
    return entry ? Math.max(0, entry.blockedUntil - this.clock.now()) : 0;
  }

  failure(key: string): void {
    const now = this.clock.now();
    let entry = this.entries.get(key);
    if (entry === undefined || now - entry.lastFailureAt > this.options.forgetAfterMs)
      entry = { failures: 0, lastFailureAt: now, blockedUntil: 0 };
    entry.failures += 1;
    entry.lastFailureAt = now;
    const over = entry.failures - this.options.freeFailures;
    if (over > 0)
      entry.blockedUntil =
        now + Math.min(this.options.maxBlockMs, this.options.baseBlockMs * 2 ** Math.min(30, over - 1));
    this.entries.delete(key); // re-inserted last: Map order is the eviction order
    this.entries.set(key, entry);
    while (this.entries.size > this.options.maxKeys) this.entries.delete(this.entries.keys().next().value as string);
  }

  success(key: string): void {
    this.entries.delete(key);
  }

  /**
   * Gives back one failure counted in advance (a reservation: callers count an attempt as failed
   * before they check it, so parallel attempts see each other, and refund it when it succeeds).
   * A block the reservation alone caused is lifted; an earlier one stays.
   */
  refund(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.failures -= 1;
    if (entry.failures <= 0) this.entries.delete(key);
    else if (entry.failures <= this.options.freeFailures) entry.blockedUntil = 0;
  }

  /** Keys blocked right now (a gauge). */
  blockedCount(): number {
    const now = this.clock.now();
    let n = 0;
    for (const entry of this.entries.values()) if (entry.blockedUntil > now) n += 1;
    return n;
  }
}
