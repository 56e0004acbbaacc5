import { METRICS, METRIC_KEYS } from '@dustwatch/telemetry';
import { generateFleet } from './fleet';
import { localHour, localWeekday } from '@dustwatch/telemetry';
import { ModelDevice, NO_OVERLAYS, readingValues } from './model';
import { pm10HourlyCrossings } from './expectations';
import { overlaysOf, parseScenarios, ScenarioError } from './scenarios';

const fleet = generateFleet(152, 1);
const devices: ModelDevice[] = fleet.sites.flatMap((s) =>
  s.devices.map((d) => ({ id: d.id, siteId: s.id, district: s.district, kind: d.kind, areaM2: s.areaM2 })),
);
const MONDAY = Date.parse('2026-03-02T00:00:00+08:00');
const HOUR = 3_600_000;

/** Every device, every 10 minutes, over one week from a Monday. */
function week(): { d: ModelDevice; t: number; v: ReturnType<typeof readingValues> }[] {
  const out = [];
  for (const d of devices.filter((_, i) => i % 3 === 0)) {
    for (let t = MONDAY; t < MONDAY + 7 * 24 * HOUR; t += 10 * 60_000) out.push({ d, t, v: readingValues(1, d, t) });
  }
  return out;
}
const samples = week();
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('the value model', () => {
  it('is deterministic: same seed and time give the same reading, another seed another', () => {
    const d = devices[10];
    expect(readingValues(1, d, MONDAY + 5 * HOUR)).toEqual(readingValues(1, d, MONDAY + 5 * HOUR));
    expect(readingValues(2, d, MONDAY + 5 * HOUR)).not.toEqual(readingValues(1, d, MONDAY + 5 * HOUR));
  });

  it('keeps every value inside the contract v1 ranges', () => {
    for (const { v } of samples) {
      for (const key of METRIC_KEYS) {
        expect(v[key]).toBeGreaterThanOrEqual(METRICS[key].min);
        expect(v[key]).toBeLessThanOrEqual(METRICS[key].max);
      }
    }
  });

  it('orders PM2.5 < PM10 < TSP with realistic ratios and rare sensor violations', () => {
    const ratio25 = mean(samples.map(({ v }) => v.pm25 / v.pm10));
    const ratioTsp = mean(samples.map(({ v }) => v.tsp / v.pm10));
    const violations = samples.filter(({ v }) => v.pm25 > v.pm10).length / samples.length;
    expect(ratio25).toBeGreaterThan(0.4);
    expect(ratio25).toBeLessThan(0.7);
    expect(ratioTsp).toBeGreaterThan(1.4);
    expect(ratioTsp).toBeLessThan(2.2);
    expect(violations).toBeGreaterThan(0.001);
    expect(violations).toBeLessThan(0.015);
    expect(samples.every(({ v }) => v.tsp > v.pm10)).toBe(true);
  });

  it('raises site dust and noise in working hours, not at night or on Sunday', () => {
    const sites = samples.filter(({ d }) => d.kind === 'site');
    const working = sites.filter(
      ({ t }) => localWeekday(t) >= 1 && localWeekday(t) <= 6 && localHour(t) >= 8 && localHour(t) < 11,
    );
    const night = sites.filter(
      ({ t }) => localWeekday(t) >= 1 && localWeekday(t) <= 6 && localHour(t) >= 1 && localHour(t) < 4,
    );
    const sunday = sites.filter(({ t }) => localWeekday(t) === 0 && localHour(t) >= 8 && localHour(t) < 11);
    const tspOf = (xs: typeof sites): number => mean(xs.map(({ v }) => v.tsp));
    const noiseOf = (xs: typeof sites): number => mean(xs.map(({ v }) => v.noise));
    expect(tspOf(working)).toBeGreaterThan(1.3 * tspOf(night));
    expect(tspOf(working)).toBeGreaterThan(1.3 * tspOf(sunday));
    expect(noiseOf(working)).toBeGreaterThan(noiseOf(night) + 10);
    expect(noiseOf(night)).toBeLessThan(55); // quiet sites stay under the GB 12523 night limit
  });

  it('shares the regional background across a district: background stations track their sites at night', () => {
    const district = '潞州区';
    const t = MONDAY + 2 * HOUR; // 02:00, no site activity
    const bg = devices.find((d) => d.kind === 'background' && d.district === district)!;
    const sites = devices.filter((d) => d.kind === 'site' && d.district === district);
    const bgPm25 = readingValues(1, bg, t).pm25;
    const siteMean = mean(sites.map((d) => readingValues(1, d, t).pm25));
    expect(Math.abs(siteMean - bgPm25) / bgPm25).toBeLessThan(0.1);
  });

  it('disperses dust with wind: PM10 above background falls as wind rises', () => {
    const active = samples.filter(
      ({ d, t }) =>
        d.kind === 'site' && localWeekday(t) >= 1 && localWeekday(t) <= 6 && localHour(t) >= 8 && localHour(t) < 11,
    );
    const calm = active.filter(({ v }) => v.windSpeed < 1.5);
    const windy = active.filter(({ v }) => v.windSpeed > 3);
    const excess = (xs: typeof active): number => mean(xs.map(({ v }) => v.pm10 - v.pm25 / 0.55));
    expect(calm.length).toBeGreaterThan(20);
    expect(windy.length).toBeGreaterThan(20);
    expect(excess(calm)).toBeGreaterThan(excess(windy));
  });
});

describe('scenarios', () => {
  const known = {
    sites: new Set(devices.map((d) => d.siteId)),
    devices: new Set(devices.map((d) => d.id)),
    districts: new Set(devices.map((d) => d.district)),
  };
  const start = Date.parse('2026-03-02T08:00:00+08:00');

  it('a dust episode pushes the site 1-h PM10 mean over 150 and 250 inside its window, and it clears after', () => {
    // A site that stays under 150 on its own that morning, so every crossing is the episode's.
    const siteId = fleet.sites
      .map((s) => s.id)
      .find(
        (id) =>
          pm10HourlyCrossings(
            1,
            devices.filter((d) => d.siteId === id),
            NO_OVERLAYS,
            start - HOUR,
            start + 6 * HOUR,
            60_000,
          ).warning === null,
      )!;
    const scenarios = parseScenarios(
      `version: 1\nscenarios:\n  - { kind: dust-episode, site: ${siteId}, at: +1h, rampMinutes: 30, plateauMinutes: 60, decayMinutes: 40, peakPm10: 420 }\n`,
      start,
      known,
    );
    const site = devices.filter((d) => d.siteId === siteId);
    const episodeStart = start + HOUR;
    const during = pm10HourlyCrossings(1, site, overlaysOf(scenarios), start - HOUR, start + 6 * HOUR, 60_000);
    expect(during.warning).not.toBeNull();
    expect(during.critical).not.toBeNull();
    expect(during.warning!).toBeGreaterThanOrEqual(episodeStart);
    expect(during.warning!).toBeLessThanOrEqual(episodeStart + 60 * 60_000);
    expect(during.critical!).toBeLessThanOrEqual(episodeStart + 90 * 60_000);
    expect(during.clear!).toBeGreaterThan(episodeStart + 90 * 60_000);
    expect(during.clear!).toBeLessThanOrEqual(episodeStart + 130 * 60_000 + 2 * HOUR);
  });

  it('a regional rise lifts the background station and the sites of its district only', () => {
    const scenarios = parseScenarios(
      'version: 1\nscenarios:\n  - { kind: regional-rise, district: 潞州区, at: +1h, durationMinutes: 240, factor: 2 }\n',
      start,
      known,
    );
    const t = start + 3 * HOUR;
    const bg = devices.find((d) => d.kind === 'background' && d.district === '潞州区')!;
    const other = devices.find((d) => d.kind === 'background' && d.district === '屯留区')!;
    expect(readingValues(1, bg, t, overlaysOf(scenarios)).pm25 / readingValues(1, bg, t).pm25).toBeCloseTo(2, 1);
    expect(readingValues(1, other, t, overlaysOf(scenarios))).toEqual(readingValues(1, other, t));
  });

  it('night noise raises the site above the night limit only inside its window', () => {
    const night = Date.parse('2026-03-02T23:00:00+08:00');
    const scenarios = parseScenarios(
      `version: 1\nscenarios:\n  - { kind: night-noise, site: CZ-011, at: "2026-03-02T23:00:00+08:00", durationMinutes: 30, levelDb: 70 }\n`,
      start,
      known,
    );
    const d = devices.find((x) => x.siteId === 'CZ-011')!;
    expect(readingValues(1, d, night + 10 * 60_000, overlaysOf(scenarios)).noise).toBeGreaterThan(66);
    expect(readingValues(1, d, night + 40 * 60_000, overlaysOf(scenarios)).noise).toBeLessThan(55);
  });

  it('lists every problem of a bad scenario file', () => {
    let error: unknown;
    try {
      parseScenarios(
        'version: 2\nscenarios:\n  - { kind: earthquake }\n  - { kind: silence, device: nobody, at: tomorrow, minutes: -1 }\n',
        start,
        known,
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ScenarioError);
    expect((error as ScenarioError).problems).toEqual([
      'version: must be 1',
      'scenarios[0].kind: one of dust-episode, regional-rise, night-noise, silence, clock-skew, malformed, duplicates, reconnect-storm',
      'scenarios[1].at: ISO 8601 with offset, or +N s/m/h/d from the start',
      'scenarios[1].minutes: a positive number',
      'scenarios[1].device: nobody is not in the fleet',
    ]);
  });
});
