/** Small statistics the report figures share; definitions in docs/reports.md. */

/** One decimal, the precision every report figure is shown and compared at. */
export const round1 = (x: number): number => Math.round(x * 10) / 10;

/** part ÷ whole in %, one decimal, at most 100; 0 when there is nothing to divide by. */
export const percent = (part: number, whole: number): number =>
  whole === 0 ? 0 : round1(Math.min(100, (part / whole) * 100));

export const mean = (xs: readonly number[]): number | null =>
  xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;

/** Energy average of sound levels, Leq = 10·log10(mean(10^(L/10))) (GB 12523; an arithmetic mean of dB understates peaks). */
export const energyMean = (levels: readonly number[]): number | null =>
  levels.length === 0 ? null : 10 * Math.log10(levels.reduce((a, l) => a + 10 ** (l / 10), 0) / levels.length);

/**
 * Nearest-rank percentile: the ⌈q·n⌉-th smallest value, so it is always a value that occurred
 * (a median of 12 and 20 minutes is 12, not 16). Null for no values.
 */
export function nearestRank(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}
