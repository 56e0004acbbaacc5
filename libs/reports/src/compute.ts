import { Comparison, RaiseLevel, RuleSet, holds } from '@dustwatch/rules';
import { CaptureFigures, CaptureRules, captureFigures } from './capture';
import { energyMean, mean, nearestRank, percent, round1 } from './figures';
import { ReportPeriod, localDayId, localHourOfDay, periodTitleZh } from './period';

/**
 * The bureau's bulletin for one period, computed from the hourly roll-up and the alert ledger.
 * Every figure is defined in docs/reports.md; this file is the one implementation of them.
 */

const HOUR_MS = 3_600_000;

export interface ReportMonitor {
  readonly deviceId: string;
  readonly siteId: string;
  readonly siteName: string;
  readonly district: string;
  readonly kind: 'site' | 'background';
}

/** One monitor's clock hour from the hourly roll-up (`long.readings_1h`), labelled by its start. */
export interface MonitorHour {
  readonly deviceId: string;
  readonly hourStart: number;
  /** Readings carrying PM10, valid or flagged. */
  readonly received: number;
  readonly pm10: number | null;
  readonly pm10N: number;
  readonly pm25: number | null;
  readonly pm25N: number;
  readonly tsp: number | null;
  readonly tspN: number;
  /** The hour's Leq (energy average). */
  readonly noise: number | null;
  readonly noiseN: number;
}

export interface ReportAlert {
  readonly id: number;
  readonly siteId: string;
  readonly rule: string;
  readonly severity: string;
  /** Reading time of the opening reading: which period the alert belongs to. */
  readonly openedAt: number;
  /** When the service raised it: the response deadline and the handling times run from here. */
  readonly raisedAt: number;
  readonly acknowledgedAt: number | null;
  readonly resolvedAt: number | null;
  readonly closedAt: number | null;
}

export type LevelMetric = 'pm10' | 'pm25' | 'tsp';
export const LEVEL_METRICS: readonly LevelMetric[] = ['pm10', 'pm25', 'tsp'];

export interface HourlyLevelRule {
  readonly rule: string;
  readonly metric: LevelMetric;
  readonly levels: readonly RaiseLevel[];
}

export interface ReportSettings {
  readonly capture: CaptureRules;
  /** GB 3095-2012 grade II 24-h limits, µg/m³: a day is over when its mean is above. */
  readonly dailyLimits: Readonly<Record<LevelMetric, number>>;
  /** GB 12523-2011 site boundary: day 06:00–22:00 70 dB(A), night 55 dB(A). */
  readonly noise: {
    readonly day: number;
    readonly night: number;
    readonly dayFromHour: number;
    readonly dayToHour: number;
  };
  readonly hourlyRules: readonly HourlyLevelRule[];
  /** DB13/2934-2019 form: site PM10 hourly mean minus the district background's; null without such a rule. */
  readonly background: { readonly rule: string; readonly level: Comparison; readonly allowedPerDay: number } | null;
  readonly responseDeadlineMinutes: number;
}

/** The report's settings from the rule set in force: its hourly PM/TSP rules, its background-difference rule, its expected interval, its compliance section. */
export function reportSettingsFrom(ruleSet: RuleSet): ReportSettings {
  const options = ruleSet.compliance;
  const hourlyRules: HourlyLevelRule[] = [];
  let background: ReportSettings['background'] = null;
  for (const rule of ruleSet.rules) {
    if (!rule.enabled || rule.kind === 'offline' || rule.windowMinutes !== 60 || rule.schedule) continue;
    if (!(LEVEL_METRICS as readonly string[]).includes(rule.metric)) continue;
    if (rule.kind === 'window' && rule.appliesTo === 'site')
      hourlyRules.push({ rule: rule.id, metric: rule.metric as LevelMetric, levels: rule.raise });
    if (rule.kind === 'background-difference' && rule.metric === 'pm10' && !background)
      background = {
        rule: rule.id,
        level: rule.raise[0],
        allowedPerDay: options.backgroundExceedancesAllowedPerDay,
      };
  }
  return {
    capture: {
      expectedIntervalSeconds: ruleSet.expectedIntervalSeconds,
      validHourShare: ruleSet.validity,
      validHoursPerDay: 20,
    },
    dailyLimits: { pm10: 150, pm25: 75, tsp: 300 },
    noise: { day: 70, night: 55, dayFromHour: 6, dayToHour: 22 },
    hourlyRules,
    background,
    responseDeadlineMinutes: options.responseDeadlineMinutes,
  };
}

export interface LevelFigures {
  readonly validHours: number;
  readonly validDays: number;
  /** One per local day of the period; null where the day is not valid. */
  readonly dailyMeans: readonly (number | null)[];
  readonly daysOver: number;
  readonly periodMean: number | null;
  /** The highest valid hourly mean, and the hour, named by its end (CNEMC). */
  readonly worstHour: { readonly hourEnding: number; readonly value: number } | null;
}

export interface NoiseFigures {
  readonly dayLeq: readonly (number | null)[];
  readonly nightLeq: readonly (number | null)[];
  readonly daysOver: number;
  readonly nightsOver: number;
}

export interface ExceedanceCount {
  readonly rule: string;
  readonly metric: LevelMetric;
  readonly severity: string;
  readonly op: string;
  readonly value: number;
  readonly hours: number;
}

export interface BackgroundFigures {
  /** False when the site's district has no background station: the form cannot be judged. */
  readonly available: boolean;
  readonly exceedanceHours: number;
  /** Exceedance hours per local day. */
  readonly perDay: readonly number[];
  readonly nonCompliantDays: number;
}

export interface HandlingFigures {
  readonly opened: number;
  readonly acknowledged: number;
  readonly acknowledgedInTime: number;
  readonly overdue: number;
  readonly resolved: number;
  readonly closed: number;
  readonly openAtEnd: number;
  readonly minutesToAcknowledge: { readonly median: number | null; readonly p90: number | null };
  readonly minutesToClose: { readonly median: number | null; readonly p90: number | null };
}

export interface MonitorCapture extends CaptureFigures {
  readonly deviceId: string;
  readonly onlineHours: number;
  readonly onlinePct: number;
}

export interface SiteCapture {
  readonly expected: number;
  readonly received: number;
  readonly valid: number;
  readonly capturePct: number;
  readonly validityPct: number;
  readonly onlinePct: number;
}

export interface SiteReport {
  readonly siteId: string;
  readonly siteName: string;
  readonly district: string;
  readonly kind: 'site' | 'background';
  readonly monitors: readonly MonitorCapture[];
  readonly capture: SiteCapture;
  readonly levels: Readonly<Record<LevelMetric, LevelFigures>>;
  readonly noise: NoiseFigures;
  readonly exceedances: readonly ExceedanceCount[];
  /** Hours at the mildest level of every hourly rule, summed: the ranking's exceedance hours. */
  readonly exceedanceHours: number;
  readonly background: BackgroundFigures | null;
  readonly handling: HandlingFigures;
  /** Penalty points (lower is better); null for background stations, which are not ranked. */
  readonly score: number | null;
}

export interface AreaReport {
  readonly district: string | null;
  readonly sites: number;
  readonly monitors: number;
  readonly capturePct: number;
  readonly validityPct: number;
  readonly onlinePct: number;
  readonly pm10Mean: number | null;
  readonly pm25Mean: number | null;
  readonly pm10DaysOver: number;
  readonly exceedanceHours: number;
  readonly nonCompliantDays: number;
  readonly handling: HandlingFigures;
  /** The site with the most penalty points. */
  readonly worstSite: string | null;
}

export interface RankEntry {
  readonly rank: number;
  readonly siteId: string;
  readonly siteName: string;
  readonly district: string;
  readonly score: number;
  readonly exceedanceHours: number;
  readonly nonCompliantDays: number;
  readonly overdue: number;
  readonly capturePct: number;
  readonly pm10Mean: number | null;
  readonly previousRank: number | null;
  /** previous rank − rank: positive means the site moved up. Null when it was not ranked before. */
  readonly change: number | null;
}

export interface ComplianceReport {
  readonly kind: ReportPeriod['kind'];
  readonly period: string;
  readonly title: string;
  readonly from: number;
  readonly to: number;
  readonly days: readonly string[];
  /** When the figures were computed (the alert ledger is read as of then). */
  readonly computedAt: number;
  readonly settings: ReportSettings;
  readonly city: AreaReport;
  readonly districts: readonly AreaReport[];
  readonly sites: readonly SiteReport[];
  readonly ranking: readonly RankEntry[];
  /** No monitor sent a reading in the period: nothing is ranked and no site named worst (issue 18). */
  readonly noData: boolean;
}

export interface ReportInput {
  readonly period: ReportPeriod;
  readonly monitors: readonly ReportMonitor[];
  readonly hours: readonly MonitorHour[];
  readonly alerts: readonly ReportAlert[];
  readonly settings: ReportSettings;
  /** Ranks of the previous period, by site. */
  readonly previousRanks: ReadonlyMap<string, number>;
  readonly computedAt: number;
}

/** Penalty points per item of the ranking score (docs/reports.md, "Ranking"). */
export const SCORE_WEIGHTS = {
  exceedanceHour: 1,
  nonCompliantDay: 10,
  overdueAlert: 5,
  /** Per percentage point of capture below the target. */
  captureShortfall: 1,
  captureTarget: 90,
} as const;

/** The hours of a period, each with its local day index and hour of day. */
interface Grid {
  readonly hours: number;
  readonly days: string[];
  readonly dayOfHour: number[];
  readonly hourOfDay: number[];
}

function gridOf(period: ReportPeriod): Grid {
  const hours = Math.round((period.to - period.from) / HOUR_MS);
  const days: string[] = [];
  const dayOfHour: number[] = [];
  const hourOfDay: number[] = [];
  for (let i = 0; i < hours; i++) {
    const t = period.from + i * HOUR_MS;
    const day = localDayId(t);
    if (days[days.length - 1] !== day) days.push(day);
    dayOfHour.push(days.length - 1);
    hourOfDay.push(localHourOfDay(t));
  }
  return { hours, days, dayOfHour, hourOfDay };
}

/** A site's hourly value of one metric: the worst (highest) valid hourly value among its monitors, or null. */
type HourSeries = (number | null)[];

function worstOf(
  rows: readonly (MonitorHour | undefined)[][],
  hours: number,
  pick: (h: MonitorHour) => number | null,
): HourSeries {
  const out: HourSeries = new Array<number | null>(hours).fill(null);
  for (const monitorRows of rows)
    for (let i = 0; i < hours; i++) {
      const h = monitorRows[i];
      const v = h ? pick(h) : null;
      if (v !== null && (out[i] === null || v > (out[i] as number))) out[i] = v;
    }
  return out;
}

function levelFigures(
  series: HourSeries,
  grid: Grid,
  limit: number,
  settings: ReportSettings,
  from: number,
): LevelFigures {
  const byDay: number[][] = grid.days.map(() => []);
  let worst: LevelFigures['worstHour'] = null;
  let validHours = 0;
  series.forEach((v, i) => {
    if (v === null) return;
    validHours += 1;
    byDay[grid.dayOfHour[i]].push(v);
    if (!worst || v > worst.value) worst = { hourEnding: from + (i + 1) * HOUR_MS, value: round1(v) };
  });
  const dailyMeans = byDay.map((vs) =>
    vs.length >= settings.capture.validHoursPerDay ? round1(mean(vs) as number) : null,
  );
  const valid = dailyMeans.filter((m): m is number => m !== null);
  const periodMean = mean(valid);
  return {
    validHours,
    validDays: valid.length,
    dailyMeans,
    daysOver: valid.filter((m) => m > limit).length,
    periodMean: periodMean === null ? null : round1(periodMean),
    worstHour: worst,
  };
}

function noiseFigures(series: HourSeries, grid: Grid, settings: ReportSettings): NoiseFigures {
  const { dayFromHour, dayToHour } = settings.noise;
  const dayHours = dayToHour - dayFromHour;
  const share = settings.capture.validHourShare;
  const day: number[][] = grid.days.map(() => []);
  const night: number[][] = grid.days.map(() => []);
  series.forEach((v, i) => {
    if (v === null) return;
    const h = grid.hourOfDay[i];
    (h >= dayFromHour && h < dayToHour ? day : night)[grid.dayOfHour[i]].push(v);
  });
  const leq = (levels: number[], of: number): number | null =>
    levels.length >= share * of ? round1(energyMean(levels) as number) : null;
  const dayLeq = day.map((levels) => leq(levels, dayHours));
  const nightLeq = night.map((levels) => leq(levels, 24 - dayHours));
  return {
    dayLeq,
    nightLeq,
    daysOver: dayLeq.filter((l) => l !== null && l > settings.noise.day).length,
    nightsOver: nightLeq.filter((l) => l !== null && l > settings.noise.night).length,
  };
}

export function handlingFigures(
  alerts: readonly ReportAlert[],
  period: ReportPeriod,
  deadlineMinutes: number,
  asOf: number,
): HandlingFigures {
  const deadline = deadlineMinutes * 60_000;
  const opened = alerts.filter((a) => a.openedAt >= period.from && a.openedAt < period.to);
  const acked = opened.filter((a) => a.acknowledgedAt !== null);
  const inTime = acked.filter((a) => (a.acknowledgedAt as number) - a.raisedAt <= deadline);
  // Acknowledged late, or not acknowledged and the deadline has passed by the time of computing.
  const overdue = opened.filter((a) => (a.acknowledgedAt ?? asOf) - a.raisedAt > deadline);
  const closed = opened.filter((a) => a.closedAt !== null);
  const minutes = (xs: number[]): { median: number | null; p90: number | null } => {
    const median = nearestRank(xs, 0.5);
    const p90 = nearestRank(xs, 0.9);
    return { median: median === null ? null : round1(median), p90: p90 === null ? null : round1(p90) };
  };
  return {
    opened: opened.length,
    acknowledged: acked.length,
    acknowledgedInTime: inTime.length,
    overdue: overdue.length,
    resolved: opened.filter((a) => a.resolvedAt !== null).length,
    closed: closed.length,
    openAtEnd: alerts.filter((a) => a.openedAt < period.to && (a.closedAt === null || a.closedAt >= period.to)).length,
    minutesToAcknowledge: minutes(acked.map((a) => ((a.acknowledgedAt as number) - a.raisedAt) / 60_000)),
    minutesToClose: minutes(closed.map((a) => ((a.closedAt as number) - a.raisedAt) / 60_000)),
  };
}

function siteScore(site: Omit<SiteReport, 'score'>): number {
  const w = SCORE_WEIGHTS;
  return round1(
    w.exceedanceHour * site.exceedanceHours +
      w.nonCompliantDay * (site.background?.nonCompliantDays ?? 0) +
      w.overdueAlert * site.handling.overdue +
      w.captureShortfall * Math.max(0, w.captureTarget - site.capture.capturePct),
  );
}

export function computeReport(input: ReportInput): ComplianceReport {
  const { period, settings } = input;
  const grid = gridOf(period);
  const perHour = 3600 / settings.capture.expectedIntervalSeconds;
  const validCount = settings.capture.validHourShare * perHour;

  // Rows by monitor, indexed by the hour's position in the period.
  const rowsByMonitor = new Map<string, (MonitorHour | undefined)[]>();
  for (const m of input.monitors) rowsByMonitor.set(m.deviceId, new Array<MonitorHour | undefined>(grid.hours));
  for (const h of input.hours) {
    const i = (h.hourStart - period.from) / HOUR_MS;
    const rows = rowsByMonitor.get(h.deviceId);
    if (rows && Number.isInteger(i) && i >= 0 && i < grid.hours) rows[i] = h;
  }
  const validValue =
    (metric: LevelMetric | 'noise') =>
    (h: MonitorHour): number | null =>
      h[`${metric}N`] >= validCount ? h[metric] : null;

  // Background per district and hour: the mean of its background monitors' valid PM10 hours.
  const backgroundByDistrict = new Map<string, HourSeries>();
  for (const district of new Set(input.monitors.filter((m) => m.kind === 'background').map((m) => m.district))) {
    const rows = input.monitors
      .filter((m) => m.kind === 'background' && m.district === district)
      .map((m) => rowsByMonitor.get(m.deviceId) as (MonitorHour | undefined)[]);
    const series: HourSeries = [];
    for (let i = 0; i < grid.hours; i++) {
      const values = rows.map((r) => (r[i] ? validValue('pm10')(r[i] as MonitorHour) : null)).filter((v) => v !== null);
      series.push(mean(values as number[]));
    }
    backgroundByDistrict.set(district, series);
  }

  const bySite = new Map<string, ReportMonitor[]>();
  for (const m of input.monitors) bySite.set(m.siteId, [...(bySite.get(m.siteId) ?? []), m]);

  const sites: SiteReport[] = [];
  for (const [siteId, monitors] of [...bySite.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const first = monitors[0];
    const kind = monitors.every((m) => m.kind === 'background') ? 'background' : 'site';
    const rows = monitors.map((m) => rowsByMonitor.get(m.deviceId) as (MonitorHour | undefined)[]);
    const monitorCaptures: MonitorCapture[] = monitors.map((m, k) => {
      const present = rows[k].filter((h): h is MonitorHour => h !== undefined);
      const capture = captureFigures(
        present.map((h) => ({ hourStart: h.hourStart, received: h.received, valid: h.pm10N })),
        grid.hours,
        localDayId,
        settings.capture,
      );
      return {
        deviceId: m.deviceId,
        ...capture,
        onlineHours: present.length,
        onlinePct: percent(present.length, grid.hours),
      };
    });
    const avg = (pick: (c: MonitorCapture) => number): number => round1(mean(monitorCaptures.map(pick)) as number);
    const sum = (pick: (c: MonitorCapture) => number): number => monitorCaptures.reduce((a, c) => a + pick(c), 0);
    const capture: SiteCapture = {
      expected: sum((c) => c.expected),
      received: sum((c) => c.received),
      valid: sum((c) => c.valid),
      capturePct: avg((c) => c.capturePct),
      validityPct: avg((c) => c.validityPct),
      onlinePct: avg((c) => c.onlinePct),
    };
    const series = {
      pm10: worstOf(rows, grid.hours, validValue('pm10')),
      pm25: worstOf(rows, grid.hours, validValue('pm25')),
      tsp: worstOf(rows, grid.hours, validValue('tsp')),
    };
    const levels = {
      pm10: levelFigures(series.pm10, grid, settings.dailyLimits.pm10, settings, period.from),
      pm25: levelFigures(series.pm25, grid, settings.dailyLimits.pm25, settings, period.from),
      tsp: levelFigures(series.tsp, grid, settings.dailyLimits.tsp, settings, period.from),
    };
    const noise = noiseFigures(worstOf(rows, grid.hours, validValue('noise')), grid, settings);
    const exceedances: ExceedanceCount[] =
      kind === 'background'
        ? []
        : settings.hourlyRules.flatMap((r) =>
            r.levels.map((level) => ({
              rule: r.rule,
              metric: r.metric,
              severity: level.severity,
              op: level.op,
              value: level.value,
              hours: series[r.metric].filter((v) => v !== null && holds(level, v)).length,
            })),
          );
    const exceedanceHours = settings.hourlyRules.reduce(
      (total, r) => total + (exceedances.find((e) => e.rule === r.rule)?.hours ?? 0),
      0,
    );
    let background: BackgroundFigures | null = null;
    if (kind === 'site' && settings.background) {
      const bg = backgroundByDistrict.get(first.district);
      const perDay = grid.days.map(() => 0);
      if (bg)
        series.pm10.forEach((v, i) => {
          const b = bg[i];
          if (
            v !== null &&
            b !== null &&
            holds((settings.background as NonNullable<ReportSettings['background']>).level, v - b)
          )
            perDay[grid.dayOfHour[i]] += 1;
        });
      background = {
        available: bg !== undefined,
        exceedanceHours: perDay.reduce((a, b) => a + b, 0),
        perDay,
        nonCompliantDays: perDay.filter(
          (n) => n > (settings.background as NonNullable<ReportSettings['background']>).allowedPerDay,
        ).length,
      };
    }
    const handling = handlingFigures(
      input.alerts.filter((a) => a.siteId === siteId),
      period,
      settings.responseDeadlineMinutes,
      input.computedAt,
    );
    const site = {
      siteId,
      siteName: first.siteName,
      district: first.district,
      kind,
      monitors: monitorCaptures,
      capture,
      levels,
      noise,
      exceedances,
      exceedanceHours,
      background,
      handling,
    } as const;
    sites.push({ ...site, score: kind === 'site' ? siteScore(site) : null });
  }

  const noData = !input.hours.some((h) => h.received > 0);
  const ranked = sites
    .filter((s) => s.kind === 'site' && !noData)
    .sort(
      (a, b) =>
        (a.score as number) - (b.score as number) ||
        (a.levels.pm10.periodMean ?? 0) - (b.levels.pm10.periodMean ?? 0) ||
        a.siteId.localeCompare(b.siteId),
    );
  const ranking: RankEntry[] = ranked.map((s, i) => {
    const previousRank = input.previousRanks.get(s.siteId) ?? null;
    return {
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
      previousRank,
      change: previousRank === null ? null : previousRank - (i + 1),
    };
  });

  const area = (district: string | null): AreaReport => {
    const members = sites.filter((s) => s.kind === 'site' && (district === null || s.district === district));
    const ids = new Set(members.map((s) => s.siteId));
    const avg = (xs: (number | null)[]): number | null => {
      const m = mean(xs.filter((x): x is number => x !== null));
      return m === null ? null : round1(m);
    };
    const worst = ranking.filter((r) => ids.has(r.siteId)).at(-1);
    return {
      district,
      sites: members.length,
      monitors: members.reduce((a, s) => a + s.monitors.length, 0),
      capturePct: avg(members.map((s) => s.capture.capturePct)) ?? 0,
      validityPct: avg(members.map((s) => s.capture.validityPct)) ?? 0,
      onlinePct: avg(members.map((s) => s.capture.onlinePct)) ?? 0,
      pm10Mean: avg(members.map((s) => s.levels.pm10.periodMean)),
      pm25Mean: avg(members.map((s) => s.levels.pm25.periodMean)),
      pm10DaysOver: members.reduce((a, s) => a + s.levels.pm10.daysOver, 0),
      exceedanceHours: members.reduce((a, s) => a + s.exceedanceHours, 0),
      nonCompliantDays: members.reduce((a, s) => a + (s.background?.nonCompliantDays ?? 0), 0),
      handling: handlingFigures(
        input.alerts.filter((a) => ids.has(a.siteId)),
        period,
        settings.responseDeadlineMinutes,
        input.computedAt,
      ),
      worstSite: worst && worst.score > 0 ? worst.siteId : null,
    };
  };
  const districts = [...new Set(sites.filter((s) => s.kind === 'site').map((s) => s.district))].sort();

  return {
    kind: period.kind,
    period: period.id,
    title: periodTitleZh(period),
    from: period.from,
    to: period.to,
    days: grid.days,
    computedAt: input.computedAt,
    settings,
    city: area(null),
    districts: districts.map(area),
    sites,
    ranking,
    noData,
  };
}

/** The report narrowed to one district (its sites, its ranking entries with their city ranks); the city figures stay for comparison. */
export function forDistrict(report: ComplianceReport, district?: string): ComplianceReport {
  if (!district) return report;
  return {
    ...report,
    districts: report.districts.filter((d) => d.district === district),
    sites: report.sites.filter((s) => s.district === district),
    ranking: report.ranking.filter((r) => r.district === district),
  };
}
