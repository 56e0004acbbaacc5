/** Mean of a window: how many valid samples, the oldest one's time, their arithmetic mean and their energy average. */
export interface WindowStats {
  readonly count: number;
  /** The time of the window's oldest sample (NaN when empty): how much of the window the samples cover. */
  readonly oldest: number;
  readonly mean: number;
  /** 10·log10(mean(10^(x/10))): the equivalent continuous level Leq for dB values. */
  readonly energyMean: number;
}

interface Accumulator {
  readonly windowMs: number;
  /** Index of the oldest sample inside (latest − window, latest]. */
  start: number;
  sum: number;
  energy: number;
  count: number;
}

const toEnergy = (db: number): number => Math.pow(10, db / 10);

export function statsOf(count: number, oldest: number, sum: number, energy: number): WindowStats {
  return {
    count,
    oldest: count === 0 ? NaN : oldest,
    mean: count === 0 ? NaN : sum / count,
    energyMean: count === 0 ? NaN : 10 * Math.log10(energy / count),
  };
}

/**
 * The valid samples of one metric of one device, sorted by reading time, with running sums for
 * each window length ending at the newest sample, so a reading costs O(1) however dense the
 * series is (the ingest benchmark sends readings a second apart).
 *
 * A duplicate time (QoS 1 redelivery, a resent buffer) is ignored, so it never counts twice. A
 * late sample is inserted at its time: it counts in every window that covers that time.
 */
export class SampleSeries {
  private readonly times: number[] = [];
  private readonly values: number[] = [];
  private readonly accumulators: Accumulator[];

  constructor(
    windowsMs: readonly number[],
    private readonly keepMs: number,
  ) {
    this.accumulators = [...new Set(windowsMs)].map((windowMs) => ({
      windowMs,
      start: 0,
      sum: 0,
      energy: 0,
      count: 0,
    }));
  }

  get latest(): number | null {
    return this.times.length === 0 ? null : this.times[this.times.length - 1];
  }

  get size(): number {
    return this.times.length;
  }

  /** Adds a sample; false when one with the same time is already there. */
  add(t: number, value: number): boolean {
    const n = this.times.length;
    if (n === 0 || t > this.times[n - 1]) {
      this.times.push(t);
      this.values.push(value);
      for (const acc of this.accumulators) {
        this.include(acc, value);
        while (this.times[acc.start] <= t - acc.windowMs) this.exclude(acc, this.values[acc.start++]);
      }
      this.prune();
      return true;
    }
    const at = this.lowerBound(t);
    if (this.times[at] === t) return false;
    this.times.splice(at, 0, t);
    this.values.splice(at, 0, value);
    const latest = this.times[n];
    for (const acc of this.accumulators) {
      if (t > latest - acc.windowMs) this.include(acc, value);
      else acc.start += 1; // inserted before the window: the window's first index moves along
    }
    return true;
  }

  /** Stats of the window of `windowMs` ending at the newest sample. */
  current(windowMs: number): WindowStats {
    const acc = this.accumulators.find((a) => a.windowMs === windowMs);
    if (!acc) throw new Error(`no accumulator for a ${windowMs} ms window`);
    return statsOf(acc.count, this.times[acc.start], acc.sum, acc.energy);
  }

  /** Stats of (from, to], computed by a scan: for another device's window at this device's time. */
  between(from: number, to: number): WindowStats {
    let count = 0;
    let oldest = NaN;
    let sum = 0;
    let energy = 0;
    for (let i = this.lowerBound(from); i < this.times.length && this.times[i] <= to; i++) {
      if (this.times[i] === from) continue;
      if (count === 0) oldest = this.times[i];
      count += 1;
      sum += this.values[i];
      energy += toEnergy(this.values[i]);
    }
    return statsOf(count, oldest, sum, energy);
  }

  private include(acc: Accumulator, value: number): void {
    acc.count += 1;
    acc.sum += value;
    acc.energy += toEnergy(value);
  }

  private exclude(acc: Accumulator, value: number): void {
    acc.count -= 1;
    // Reset at empty so float cancellation cannot drift across windows.
    if (acc.count === 0) {
      acc.sum = 0;
      acc.energy = 0;
    } else {
      acc.sum -= value;
      acc.energy -= toEnergy(value);
    }
  }

  /** Drops samples older than every window needs, in chunks so the cost is amortised. */
  private prune(): void {
    const horizon = this.times[this.times.length - 1] - this.keepMs;
    if (this.times[0] > horizon || this.times.length < 64) return;
    let drop = 0;
    while (drop < this.times.length && this.times[drop] <= horizon) drop++;
    const minStart = Math.min(...this.accumulators.map((a) => a.start));
    drop = Math.min(drop, minStart);
    if (drop < 32) return;
    this.times.splice(0, drop);
    this.values.splice(0, drop);
    for (const acc of this.accumulators) acc.start -= drop;
  }

  private lowerBound(t: number): number {
    let lo = 0;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
