/**
 * An independent computation of the compliance report's figures from the raw readings a test
 * sent and the alerts the ledger shows, written from docs/reports.md without libs/reports: if
 * the service's roll-up, queries or figures drift from the definitions, the two disagree.
 */

export interface RawReading {
  deviceId: string;
  ts: number;
  pm10?: number;
  pm25?: number;
  tsp?: number;
  noise?: number;
  flags?: Record<string, string>;
}

export interface OracleMonitor {
  deviceId: string;
  siteId: string;
  siteName: string;
  district: string;
  kind: 'site' | 'background';
}

export interface OracleAlert {
  siteId: string;
  openedAt: number;
  raisedAt: number;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
  closedAt: number | null;
}

const H = 3_600_000;
const r1 = (x: number): number => Math.round(x * 10) / 10;
const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const shanghaiHour = (t: number): number => new Date(t + 8 * H).getUTCHours();
const shanghaiDay = (t: number): string => new Date(t + 8 * H).toISOString().slice(0, 10);
const rank = (xs: number[], q: number): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return r1(s[Math.ceil(q * s.length) - 1]);
};

type Metric = 'pm10' | 'pm25' | 'tsp' | 'noise';

export function oracleReport(
  period: { from: number; to: number },
  monitors: OracleMonitor[],
  readings: RawReading[],
  alerts: OracleAlert[],
  computedAt: number,
  previousRanks: Map<string, number>,
) {
  const hours = (period.to - period.from) / H;
  const days: string[] = [];
  for (let i = 0; i < hours; i++) {
    const d = shanghaiDay(period.from + i * H);
    if (!days.includes(d)) days.push(d);
  }
  const inPeriod = readings.filter((r) => r.ts >= period.from && r.ts < period.to);
  const isValid = (r: RawReading, m: Metric): boolean => r[m] !== undefined && (r.flags?.[m] ?? 'N') === 'N';

  // Per monitor and hour: the readings.
  const byMonitorHour = new Map<string, RawReading[]>();
  for (const r of inPeriod) {
    const key = `${r.deviceId}|${Math.floor((r.ts - period.from) / H)}`;
    byMonitorHour.set(key, [...(byMonitorHour.get(key) ?? []), r]);
  }
  const hourOf = (deviceId: string, i: number): RawReading[] => byMonitorHour.get(`${deviceId}|${i}`) ?? [];
  /** The monitor's hourly value of a metric when the hour has ≥ 45 valid samples. */
  const hourValue = (deviceId: string, i: number, m: Metric): number | null => {
    const vs = hourOf(deviceId, i)
      .filter((r) => isValid(r, m))
      .map((r) => r[m] as number);
    if (vs.length < 45) return null;
    return m === 'noise' ? 10 * Math.log10(avg(vs.map((l) => 10 ** (l / 10)))) : avg(vs);
  };
  const siteSeries = (devices: string[], m: Metric): (number | null)[] =>
    Array.from({ length: hours }, (_, i) => {
      const vs = devices.map((d) => hourValue(d, i, m)).filter((v): v is number => v !== null);
      return vs.length ? Math.max(...vs) : null;
    });

  const siteIds = [...new Set(monitors.map((m) => m.siteId))].sort();
  const sites = siteIds.map((siteId) => {
    const mons = monitors.filter((m) => m.siteId === siteId);
    const kind = mons.every((m) => m.kind === 'background') ? 'background' : 'site';
    const monitorFigures = mons.map((m) => {
      let received = 0;
      let valid = 0;
      let validHours = 0;
      let onlineHours = 0;
      const validByDay = new Map<string, number>();
      for (let i = 0; i < hours; i++) {
        const rs = hourOf(m.deviceId, i);
        if (rs.length > 0) onlineHours++;
        received += rs.filter((r) => r.pm10 !== undefined).length;
        const v = rs.filter((r) => isValid(r, 'pm10')).length;
        valid += v;
        if (v >= 45) {
          validHours++;
          const d = shanghaiDay(period.from + i * H);
          validByDay.set(d, (validByDay.get(d) ?? 0) + 1);
        }
      }
      const expected = hours * 60;
      return {
        deviceId: m.deviceId,
        expected,
        received,
        valid,
        validHours,
        validDays: [...validByDay.values()].filter((n) => n >= 20).length,
        capturePct: r1(Math.min(100, (100 * received) / expected)),
        validityPct: r1(Math.min(100, (100 * valid) / expected)),
        onlineHours,
        onlinePct: r1((100 * onlineHours) / hours),
      };
    });
    const devices = mons.map((m) => m.deviceId);
    const level = (m: 'pm10' | 'pm25' | 'tsp', limit: number) => {
      const series = siteSeries(devices, m);
      const dailyMeans = days.map((day) => {
        const vs = series.filter((v, i) => v !== null && shanghaiDay(period.from + i * H) === day) as number[];
        return vs.length >= 20 ? r1(avg(vs)) : null;
      });
      const valid = dailyMeans.filter((v): v is number => v !== null);
      let worst: { hourEnding: number; value: number } | null = null;
      series.forEach((v, i) => {
        if (v !== null && (!worst || v > worst.value)) worst = { hourEnding: period.from + (i + 1) * H, value: v };
      });
      return {
        validHours: series.filter((v) => v !== null).length,
        validDays: valid.length,
        dailyMeans,
        daysOver: valid.filter((v) => v > limit).length,
        periodMean: valid.length ? r1(avg(valid)) : null,
        worstHour: worst
          ? { hourEnding: (worst as { hourEnding: number }).hourEnding, value: r1((worst as { value: number }).value) }
          : null,
      };
    };
    const levels = { pm10: level('pm10', 150), pm25: level('pm25', 75), tsp: level('tsp', 300) };
    const noiseSeries = siteSeries(devices, 'noise');
    const leq = (pick: (h: number) => boolean, of: number) =>
      days.map((day) => {
        const vs = noiseSeries.filter(
          (v, i) => v !== null && shanghaiDay(period.from + i * H) === day && pick(shanghaiHour(period.from + i * H)),
        ) as number[];
        return vs.length >= 0.75 * of ? r1(10 * Math.log10(avg(vs.map((l) => 10 ** (l / 10))))) : null;
      });
    const dayLeq = leq((h) => h >= 6 && h < 22, 16);
    const nightLeq = leq((h) => h < 6 || h >= 22, 8);
    const noise = {
      dayLeq,
      nightLeq,
      daysOver: dayLeq.filter((l) => l !== null && l > 70).length,
      nightsOver: nightLeq.filter((l) => l !== null && l > 55).length,
    };
    const pm10 = siteSeries(devices, 'pm10');
    const tsp = siteSeries(devices, 'tsp');
    const count = (s: (number | null)[], ok: (v: number) => boolean) => s.filter((v) => v !== null && ok(v)).length;
    const exceedances =
      kind === 'background'
        ? []
        : [
            {
              rule: 'pm10-hourly',
              metric: 'pm10',
              severity: 'warning',
              op: '>=',
              value: 150,
              hours: count(pm10, (v) => v >= 150),
            },
            {
              rule: 'pm10-hourly',
              metric: 'pm10',
              severity: 'critical',
              op: '>=',
              value: 250,
              hours: count(pm10, (v) => v >= 250),
            },
            {
              rule: 'tsp-hourly',
              metric: 'tsp',
              severity: 'warning',
              op: '>',
              value: 800,
              hours: count(tsp, (v) => v > 800),
            },
          ];
    const exceedanceHours = kind === 'background' ? 0 : exceedances[0].hours + exceedances[2].hours;
    let background = null;
    if (kind === 'site') {
      const district = mons[0].district;
      const bgDevices = monitors
        .filter((m) => m.kind === 'background' && m.district === district)
        .map((m) => m.deviceId);
      const perDay = days.map(() => 0);
      if (bgDevices.length)
        pm10.forEach((v, i) => {
          const bgs = bgDevices.map((d) => hourValue(d, i, 'pm10')).filter((x): x is number => x !== null);
          if (v !== null && bgs.length && v - avg(bgs) > 80) perDay[days.indexOf(shanghaiDay(period.from + i * H))]++;
        });
      background = {
        available: bgDevices.length > 0,
        exceedanceHours: perDay.reduce((a, b) => a + b, 0),
        perDay,
        nonCompliantDays: perDay.filter((n) => n > 2).length,
      };
    }
    const handling = handlingOf(
      alerts.filter((a) => a.siteId === siteId),
      period,
      computedAt,
    );
    const capture = {
      expected: monitorFigures.reduce((a, m) => a + m.expected, 0),
      received: monitorFigures.reduce((a, m) => a + m.received, 0),
      valid: monitorFigures.reduce((a, m) => a + m.valid, 0),
      capturePct: r1(avg(monitorFigures.map((m) => m.capturePct))),
      validityPct: r1(avg(monitorFigures.map((m) => m.validityPct))),
      onlinePct: r1(avg(monitorFigures.map((m) => m.onlinePct))),
    };
    const score =
      kind === 'site'
        ? r1(
            exceedanceHours +
              10 * (background?.nonCompliantDays ?? 0) +
              5 * handling.overdue +
              Math.max(0, 90 - capture.capturePct),
          )
        : null;
    return {
      siteId,
      siteName: mons[0].siteName,
      district: mons[0].district,
      kind,
      monitors: monitorFigures,
      capture,
      levels,
      noise,
      exceedances,
      exceedanceHours,
      background,
      handling,
      score,
    };
  });

  // docs/reports.md, "A period without data": no monitor sent a PM10 reading → nothing is ranked.
  const monitorIds = new Set(monitors.map((m) => m.deviceId));
  const noData = !readings.some(
    (r) => monitorIds.has(r.deviceId) && r.pm10 !== undefined && r.ts >= period.from && r.ts < period.to,
  );
  const ranked = sites
    .filter((s) => s.kind === 'site' && !noData)
    .sort(
      (a, b) =>
        (a.score as number) - (b.score as number) ||
        (a.levels.pm10.periodMean ?? 0) - (b.levels.pm10.periodMean ?? 0) ||
        a.siteId.localeCompare(b.siteId),
    );
  const ranking = ranked.map((s, i) => ({
    rank: i + 1,
    siteId: s.siteId,
    siteName: s.siteName,
    district: s.district,
    score: s.score as number,
    exceedanceHours: s.exceedanceHours,
    nonCompliantDays: s.background?.nonCompliantDays ?? 0,
    overdue: s.handling.overdue,
    capturePct: s.capture.capturePct,
    pm10Mean: s.levels.pm10.periodMean,
    previousRank: previousRanks.get(s.siteId) ?? null,
    change: previousRanks.has(s.siteId) ? (previousRanks.get(s.siteId) as number) - (i + 1) : null,
  }));
  const area = (district: string | null) => {
    const members = sites.filter((s) => s.kind === 'site' && (district === null || s.district === district));
    const mean1 = (xs: (number | null)[]) => {
      const vs = xs.filter((x): x is number => x !== null);
      return vs.length ? r1(avg(vs)) : null;
    };
    const ids = new Set(members.map((s) => s.siteId));
    const worst = ranking.filter((r) => ids.has(r.siteId)).at(-1);
    return {
      district,
      sites: members.length,
      monitors: members.reduce((a, s) => a + s.monitors.length, 0),
      capturePct: mean1(members.map((s) => s.capture.capturePct)) ?? 0,
      validityPct: mean1(members.map((s) => s.capture.validityPct)) ?? 0,
      onlinePct: mean1(members.map((s) => s.capture.onlinePct)) ?? 0,
      pm10Mean: mean1(members.map((s) => s.levels.pm10.periodMean)),
      pm25Mean: mean1(members.map((s) => s.levels.pm25.periodMean)),
      pm10DaysOver: members.reduce((a, s) => a + s.levels.pm10.daysOver, 0),
      exceedanceHours: members.reduce((a, s) => a + s.exceedanceHours, 0),
      nonCompliantDays: members.reduce((a, s) => a + (s.background?.nonCompliantDays ?? 0), 0),
      handling: handlingOf(
        alerts.filter((a) => ids.has(a.siteId)),
        period,
        computedAt,
      ),
      worstSite: worst && worst.score > 0 ? worst.siteId : null,
    };
  };
  const districts = [...new Set(sites.filter((s) => s.kind === 'site').map((s) => s.district))].sort();
  return { days, sites, ranking, city: area(null), districts: districts.map(area) };
}

function handlingOf(alerts: OracleAlert[], period: { from: number; to: number }, asOf: number) {
  const opened = alerts.filter((a) => a.openedAt >= period.from && a.openedAt < period.to);
  const ackMinutes = opened
    .filter((a) => a.acknowledgedAt !== null)
    .map((a) => ((a.acknowledgedAt as number) - a.raisedAt) / 60_000);
  const closeMinutes = opened
    .filter((a) => a.closedAt !== null)
    .map((a) => ((a.closedAt as number) - a.raisedAt) / 60_000);
  return {
    opened: opened.length,
    acknowledged: ackMinutes.length,
    acknowledgedInTime: ackMinutes.filter((m) => m <= 60).length,
    overdue: opened.filter((a) => ((a.acknowledgedAt ?? asOf) - a.raisedAt) / 60_000 > 60).length,
    resolved: opened.filter((a) => a.resolvedAt !== null).length,
    closed: closeMinutes.length,
    openAtEnd: alerts.filter((a) => a.openedAt < period.to && (a.closedAt === null || a.closedAt >= period.to)).length,
    minutesToAcknowledge: { median: rank(ackMinutes, 0.5), p90: rank(ackMinutes, 0.9) },
    minutesToClose: { median: rank(closeMinutes, 0.5), p90: rank(closeMinutes, 0.9) },
  };
}
