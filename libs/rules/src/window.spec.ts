import { SampleSeries } from './window';

const MIN = 60_000;

describe('SampleSeries', () => {
  it('keeps running means of (latest − w, latest] for each window length', () => {
    const s = new SampleSeries([15 * MIN, 60 * MIN], 75 * MIN);
    for (let i = 0; i < 120; i++) s.add(i * MIN, i);
    // 60-min window at minute 119 holds minutes 60..119, 15-min holds 105..119
    expect(s.current(60 * MIN)).toMatchObject({ count: 60, mean: (60 + 119) / 2 });
    expect(s.current(15 * MIN)).toMatchObject({ count: 15, mean: (105 + 119) / 2 });
    expect(s.size).toBeLessThan(120); // older samples pruned
    expect(s.size).toBeGreaterThanOrEqual(75);
  });

  it('ignores a duplicate time and inserts a late sample where it belongs', () => {
    const s = new SampleSeries([10 * MIN], 30 * MIN);
    for (const i of [0, 1, 2, 4, 5]) expect(s.add(i * MIN, 10)).toBe(true);
    expect(s.add(4 * MIN, 999)).toBe(false);
    expect(s.add(3 * MIN, 40)).toBe(true);
    expect(s.current(10 * MIN)).toMatchObject({ count: 6, mean: 15 });
    // a sample older than the window moves the window's start, not its sums
    for (let i = 6; i <= 20; i++) s.add(i * MIN, 10);
    expect(s.add(9.5 * MIN, 1000)).toBe(true); // (20 − 10, 20] starts after 10: outside
    expect(s.current(10 * MIN)).toMatchObject({ count: 10, mean: 10 });
    expect(s.between(9 * MIN, 11 * MIN)).toMatchObject({ count: 3, mean: (1000 + 10 + 10) / 3 });
  });

  it('computes the energy average of dB values', () => {
    const s = new SampleSeries([MIN * 3], MIN * 10);
    s.add(0, 60);
    s.add(MIN, 70);
    s.add(2 * MIN, 80);
    expect(s.current(3 * MIN).energyMean).toBeCloseTo(10 * Math.log10((1e6 + 1e7 + 1e8) / 3), 12);
    expect(s.current(3 * MIN).mean).toBe(70);
  });
});
