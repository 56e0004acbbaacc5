import { parseRuleSet } from '@dustwatch/rules';
import { MonitorHour, ReportAlert, ReportMonitor, computeReport, handlingFigures, reportSettingsFrom } from './compute';
import { nearestRank } from './figures';
import { parsePeriod } from './period';

const DAY = parsePeriod('daily', '2026-11-27');
const HOUR = 3_600_000;
const SETTINGS = reportSettingsFrom(parseRuleSet());
const MONITORS: ReportMonitor[] = [
  { deviceId: 'A-1', siteId: 'A', siteName: '甲工地', district: '潞州区', kind: 'site' },
  { deviceId: 'A-2', siteId: 'A', siteName: '甲工地', district: '潞州区', kind: 'site' },
  { deviceId: 'B-1', siteId: 'B', siteName: '乙工地', district: '潞州区', kind: 'site' },
  { deviceId: 'BG', siteId: 'BG', siteName: '背景站', district: '潞州区', kind: 'background' },
];

/** A full hour of one-minute readings with the given hourly means. */
function hour(
  deviceId: string,
  i: number,
  values: Partial<Record<'pm10' | 'pm25' | 'tsp' | 'noise', number>>,
  n = 60,
): MonitorHour {
  return {
    deviceId,
    hourStart: DAY.from + i * HOUR,
    received: n,
    pm10: values.pm10 ?? 50,
    pm10N: n,
    pm25: values.pm25 ?? 30,
    pm25N: n,
    tsp: values.tsp ?? 100,
    tspN: n,
    noise: values.noise ?? 50,
    noiseN: n,
  };
}
const allDay = (
  deviceId: string,
  f: (i: number) => Partial<Record<'pm10' | 'pm25' | 'tsp' | 'noise', number>> = () => ({}),
): MonitorHour[] => Array.from({ length: 24 }, (_, i) => hour(deviceId, i, f(i)));

/** The report of DAY for some monitors' hours, no alerts. */
const reportOf = (hours: MonitorHour[], monitors = MONITORS, previousRanks = new Map<string, number>()) =>
  computeReport({ period: DAY, monitors, hours, alerts: [], settings: SETTINGS, previousRanks, computedAt: DAY.to });

describe('computeReport', () => {
  it('a day without any data says so and ranks nothing (no 90-point ranking, no worst site)', () => {
    const report = reportOf([]);
    expect(report.noData).toBe(true);
    expect(report.ranking).toEqual([]);
    expect(report.city.worstSite).toBeNull();
    expect(report.districts.map((d) => d.worstSite)).toEqual(report.districts.map(() => null));
    // one monitor's one hour is data: the sites are ranked again
    const some = reportOf([hour(MONITORS[0].deviceId, 0, {})]);
    expect(some.noData).toBe(false);
    expect(some.ranking.length).toBeGreaterThan(0);
  });

  it('judges a site with two monitors by the worse for levels and exceedances and by the mean for capture', () => {
    const hours = [
      // A-1 misses 12 hours; A-2 is complete and has three hours at 160 (warning) and one at 260 (critical).
      ...allDay('A-1').slice(0, 12),
      ...allDay('A-2', (i) => ({ pm10: i < 3 ? 160 : i === 3 ? 260 : 60 })),
      ...allDay('B-1'),
      ...allDay('BG', () => ({ pm10: 40 })),
    ];
    const r = reportOf(hours, MONITORS, new Map([['B', 2]]));
    const a = r.sites.find((s) => s.siteId === 'A');
    expect(a?.monitors.map((m) => [m.deviceId, m.capturePct, m.onlinePct, m.validHours, m.validDays])).toEqual([
      ['A-1', 50, 50, 12, 0],
      ['A-2', 100, 100, 24, 1],
    ]);
    expect(a?.capture).toEqual({
      expected: 2880,
      received: 2160,
      valid: 2160,
      capturePct: 75,
      validityPct: 75,
      onlinePct: 75,
    });
    // Worse monitor per hour: 3 × 160, 1 × 260, 8 hours max(50, 60) = 60, 12 hours A-2 alone at 60.
    const dailyMean = (3 * 160 + 260 + 20 * 60) / 24;
    expect(a?.levels.pm10).toEqual({
      validHours: 24,
      validDays: 1,
      dailyMeans: [Math.round(dailyMean * 10) / 10],
      daysOver: 0,
      periodMean: Math.round(dailyMean * 10) / 10,
      worstHour: { hourEnding: DAY.from + 4 * HOUR, value: 260 },
    });
    expect(a?.exceedances.filter((e) => e.rule === 'pm10-hourly').map((e) => [e.severity, e.hours])).toEqual([
      ['warning', 4],
      ['critical', 1],
    ]);
    // DB13: site − background > 80 in 4 hours (120, 120, 120, 220): 4 > 2 allowed → non-compliant day.
    expect(a?.background).toEqual({ available: true, exceedanceHours: 4, perDay: [4], nonCompliantDays: 1 });
    // Score: 4 exceedance hours + 10 × 1 day + 15 points of capture below 90 %.
    expect(a?.score).toBe(29);
    expect(r.ranking.map((e) => [e.rank, e.siteId, e.score, e.previousRank, e.change])).toEqual([
      [1, 'B', 0, 2, 1],
      [2, 'A', 29, null, null],
    ]);
    expect(r.sites.find((s) => s.siteId === 'BG')).toMatchObject({
      kind: 'background',
      score: null,
      background: null,
      exceedances: [],
    });
    expect(r.city).toMatchObject({
      sites: 2,
      monitors: 3,
      capturePct: 87.5,
      exceedanceHours: 4,
      nonCompliantDays: 1,
      worstSite: 'A',
    });
  });

  it('counts an hour as valid only with 75 % of its expected readings, and a day with 20 valid hours', () => {
    const hours = [
      ...allDay('B-1', (i) => ({ pm10: i < 5 ? 500 : 100 })).map((h, i) =>
        i < 5 ? { ...h, pm10N: 44, received: 60 } : h,
      ),
    ];
    const r = reportOf(
      hours,
      MONITORS.filter((m) => m.siteId === 'B'),
    );
    const b = r.sites[0];
    // 5 hours with 44 valid of 60 do not count: 19 valid hours, no valid day, no exceedance from the 500s.
    expect(b.levels.pm10).toMatchObject({
      validHours: 19,
      validDays: 0,
      dailyMeans: [null],
      periodMean: null,
      worstHour: { value: 100 },
    });
    expect(b.exceedanceHours).toBe(0);
    expect(b.monitors[0]).toMatchObject({
      received: 1440,
      valid: 1440 - 5 * 16,
      validHours: 19,
      capturePct: 100,
      validityPct: 94.4,
    });
  });

  it('noise: day and night Leq per local day are energy averages of the valid hours, against 70 and 55 dB(A)', () => {
    const hours = allDay('B-1', (i) => ({ noise: i >= 6 && i < 22 ? (i === 12 ? 90 : 60) : 56 }));
    const r = reportOf(
      hours,
      MONITORS.filter((m) => m.siteId === 'B'),
    );
    const dayLeq = 10 * Math.log10((15 * 10 ** 6 + 10 ** 9) / 16);
    expect(r.sites[0].noise).toEqual({
      dayLeq: [Math.round(dayLeq * 10) / 10],
      nightLeq: [56],
      daysOver: 1,
      nightsOver: 1,
    });
  });

  it('handling: acknowledged within the deadline, overdue, closed, open at the end, nearest-rank median and p90', () => {
    const t0 = DAY.from + 10 * HOUR;
    const min = 60_000;
    const alerts: ReportAlert[] = [
      {
        id: 1,
        siteId: 'A',
        rule: 'pm10-hourly',
        severity: 'warning',
        openedAt: t0,
        raisedAt: t0,
        acknowledgedAt: t0 + 10 * min,
        resolvedAt: t0 + 30 * min,
        closedAt: t0 + 40 * min,
      },
      {
        id: 2,
        siteId: 'A',
        rule: 'pm10-hourly',
        severity: 'warning',
        openedAt: t0,
        raisedAt: t0,
        acknowledgedAt: t0 + 90 * min,
        resolvedAt: null,
        closedAt: null,
      },
      {
        id: 3,
        siteId: 'A',
        rule: 'tsp-hourly',
        severity: 'warning',
        openedAt: DAY.to - 30 * min,
        raisedAt: DAY.to - 30 * min,
        acknowledgedAt: null,
        resolvedAt: null,
        closedAt: null,
      },
      // Opened the day before and still open: counts only as open at the end.
      {
        id: 4,
        siteId: 'A',
        rule: 'tsp-hourly',
        severity: 'warning',
        openedAt: DAY.from - HOUR,
        raisedAt: DAY.from - HOUR,
        acknowledgedAt: null,
        resolvedAt: null,
        closedAt: null,
      },
    ];
    // A buffered upload: read at 11:00, raised by the service at 13:00, acknowledged 30 minutes
    // after that — in time, since nobody could answer it before it existed.
    alerts.push({
      id: 5,
      siteId: 'A',
      rule: 'pm10-hourly',
      severity: 'warning',
      openedAt: t0 + HOUR,
      raisedAt: t0 + 3 * HOUR,
      acknowledgedAt: t0 + 3 * HOUR + 30 * min,
      resolvedAt: null,
      closedAt: null,
    });
    // Computed 20 minutes after the day: alert 3's hour has not passed yet, so it is not overdue.
    expect(handlingFigures(alerts, DAY, 60, DAY.to + 20 * min)).toEqual({
      opened: 4,
      acknowledged: 3,
      acknowledgedInTime: 2,
      overdue: 1,
      resolved: 1,
      closed: 1,
      openAtEnd: 4,
      minutesToAcknowledge: { median: 30, p90: 90 },
      minutesToClose: { median: 40, p90: 40 },
    });
    expect(handlingFigures(alerts, DAY, 60, DAY.to + 31 * min).overdue).toBe(2);
    expect([
      nearestRank([12, 20], 0.5),
      nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9),
      nearestRank([], 0.5),
    ]).toEqual([12, 9, null]);
  });
});
