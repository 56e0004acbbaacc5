/**
 * Stateless, seedable randomness: every value is a pure function of (seed, key, index), so a
 * reading at time t is the same whether it is produced live, accelerated or by a backfill, and
 * whatever the simulator's start time.
 */

/** FNV-1a over a string, mixed into a float in [0, 1). */
export function hashUnit(seed: number, key: string, index: number): number {
  let h = 0x811c9dc5 ^ seed;
  const text = `${key}|${index}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Final avalanche (murmur3 fmix32) so neighbouring indexes are uncorrelated.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** Smooth noise in [-1, 1] that changes over `periodMs` (cosine interpolation of random knots). */
export function smoothNoise(seed: number, key: string, t: number, periodMs: number): number {
  const x = t / periodMs;
  const i = Math.floor(x);
  const f = (1 - Math.cos((x - i) * Math.PI)) / 2;
  const a = hashUnit(seed, key, i) * 2 - 1;
  const b = hashUnit(seed, key, i + 1) * 2 - 1;
  return a + (b - a) * f;
}

/** Roughly normal noise (sum of uniforms), mean 0, sd ≈ 1. */
export function gaussian(seed: number, key: string, index: number): number {
  return (
    (hashUnit(seed, key + 'a', index) + hashUnit(seed, key + 'b', index) + hashUnit(seed, key + 'c', index) - 1.5) * 2
  );
}
