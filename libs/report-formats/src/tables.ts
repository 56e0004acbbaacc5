import type { AreaReport, ComplianceReport, RankEntry, SiteReport } from '@dustwatch/reports';

/**
 * The bulletin's tables, defined once: CSV, the XLSX sheets and the printable page all show
 * these columns with these Chinese headers (definitions in docs/reports.md).
 */
export type Cell = string | number | null;
export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => Cell;
  /** Shown right-aligned with this many decimals in XLSX. */
  readonly decimals?: number;
}
export interface Table<T> {
  readonly name: string;
  readonly columns: readonly Column<T>[];
  readonly rows: readonly T[];
}

const minutes = (x: number | null): Cell => x;

/** Not judged is not 0: a site whose district has no background station shows so (the JSON's `available: false`, issue 25). */
export const NOT_JUDGED = '未评价（区县无背景站）';
const backgroundFigure = (s: SiteReport, figure: 'exceedanceHours' | 'nonCompliantDays'): Cell =>
  s.background === null ? null : s.background.available ? s.background[figure] : NOT_JUDGED;

export const SITE_COLUMNS: readonly Column<SiteReport & { rank: number | null }>[] = [
  { header: '区县', value: (s) => s.district },
  { header: '站点编号', value: (s) => s.siteId },
  { header: '站点名称', value: (s) => s.siteName },
  { header: '类型', value: (s) => (s.kind === 'background' ? '背景站' : '工地') },
  { header: '设备数', value: (s) => s.monitors.length },
  { header: '应收数据', value: (s) => s.capture.expected },
  { header: '实收数据', value: (s) => s.capture.received },
  { header: '有效数据', value: (s) => s.capture.valid },
  { header: '捕获率(%)', value: (s) => s.capture.capturePct, decimals: 1 },
  { header: '有效率(%)', value: (s) => s.capture.validityPct, decimals: 1 },
  { header: '在线率(%)', value: (s) => s.capture.onlinePct, decimals: 1 },
  { header: 'PM10有效天数', value: (s) => s.levels.pm10.validDays },
  { header: 'PM10均值(µg/m³)', value: (s) => s.levels.pm10.periodMean, decimals: 1 },
  { header: 'PM10日均超标天数', value: (s) => s.levels.pm10.daysOver },
  { header: 'PM10最大小时值(µg/m³)', value: (s) => s.levels.pm10.worstHour?.value ?? null, decimals: 1 },
  { header: 'PM2.5均值(µg/m³)', value: (s) => s.levels.pm25.periodMean, decimals: 1 },
  { header: 'PM2.5日均超标天数', value: (s) => s.levels.pm25.daysOver },
  { header: 'TSP均值(µg/m³)', value: (s) => s.levels.tsp.periodMean, decimals: 1 },
  { header: 'TSP日均超标天数', value: (s) => s.levels.tsp.daysOver },
  { header: '噪声昼间超标天数', value: (s) => s.noise.daysOver },
  { header: '噪声夜间超标天数', value: (s) => s.noise.nightsOver },
  { header: '小时超标时数', value: (s) => s.exceedanceHours },
  { header: '背景差值超标时数', value: (s) => backgroundFigure(s, 'exceedanceHours') },
  { header: '背景差值不达标天数', value: (s) => backgroundFigure(s, 'nonCompliantDays') },
  { header: '告警数', value: (s) => s.handling.opened },
  { header: '按时确认', value: (s) => s.handling.acknowledgedInTime },
  { header: '超时未确认', value: (s) => s.handling.overdue },
  { header: '期末未关闭', value: (s) => s.handling.openAtEnd },
  { header: '确认用时中位数(分钟)', value: (s) => minutes(s.handling.minutesToAcknowledge.median), decimals: 1 },
  { header: '关闭用时中位数(分钟)', value: (s) => minutes(s.handling.minutesToClose.median), decimals: 1 },
  { header: '扣分', value: (s) => s.score, decimals: 1 },
  { header: '排名', value: (s) => s.rank },
];

export const AREA_COLUMNS: readonly Column<AreaReport>[] = [
  { header: '区域', value: (a) => a.district ?? '全市' },
  { header: '工地数', value: (a) => a.sites },
  { header: '设备数', value: (a) => a.monitors },
  { header: '捕获率(%)', value: (a) => a.capturePct, decimals: 1 },
  { header: '有效率(%)', value: (a) => a.validityPct, decimals: 1 },
  { header: '在线率(%)', value: (a) => a.onlinePct, decimals: 1 },
  { header: 'PM10均值(µg/m³)', value: (a) => a.pm10Mean, decimals: 1 },
  { header: 'PM2.5均值(µg/m³)', value: (a) => a.pm25Mean, decimals: 1 },
  { header: 'PM10日均超标站·日', value: (a) => a.pm10DaysOver },
  { header: '小时超标时数', value: (a) => a.exceedanceHours },
  { header: '背景差值不达标站·日', value: (a) => a.nonCompliantDays },
  { header: '告警数', value: (a) => a.handling.opened },
  { header: '按时确认', value: (a) => a.handling.acknowledgedInTime },
  { header: '超时未确认', value: (a) => a.handling.overdue },
  { header: '已关闭', value: (a) => a.handling.closed },
  { header: '期末未关闭', value: (a) => a.handling.openAtEnd },
  { header: '确认用时中位数(分钟)', value: (a) => a.handling.minutesToAcknowledge.median, decimals: 1 },
  { header: '确认用时P90(分钟)', value: (a) => a.handling.minutesToAcknowledge.p90, decimals: 1 },
  { header: '关闭用时中位数(分钟)', value: (a) => a.handling.minutesToClose.median, decimals: 1 },
  { header: '关闭用时P90(分钟)', value: (a) => a.handling.minutesToClose.p90, decimals: 1 },
  { header: '最差工地', value: (a) => a.worstSite },
];

export const RANK_COLUMNS: readonly Column<RankEntry>[] = [
  { header: '排名', value: (r) => r.rank },
  { header: '站点编号', value: (r) => r.siteId },
  { header: '站点名称', value: (r) => r.siteName },
  { header: '区县', value: (r) => r.district },
  { header: '扣分', value: (r) => r.score, decimals: 1 },
  { header: '小时超标时数', value: (r) => r.exceedanceHours },
  { header: '背景差值不达标天数', value: (r) => r.nonCompliantDays },
  { header: '超时未确认告警', value: (r) => r.overdue },
  { header: '捕获率(%)', value: (r) => r.capturePct, decimals: 1 },
  { header: 'PM10均值(µg/m³)', value: (r) => r.pm10Mean, decimals: 1 },
  { header: '上期排名', value: (r) => r.previousRank },
  { header: '名次变化', value: (r) => r.change },
];

export function siteRows(report: ComplianceReport): (SiteReport & { rank: number | null })[] {
  const rankOf = new Map(report.ranking.map((r) => [r.siteId, r.rank]));
  return report.sites.map((s) => ({ ...s, rank: rankOf.get(s.siteId) ?? null }));
}

/** PM10 daily means, a row per site and a column per day. */
export function dailyPm10Table(report: ComplianceReport): Table<SiteReport> {
  return {
    name: 'PM10日均值',
    columns: [
      { header: '站点编号', value: (s) => s.siteId },
      { header: '站点名称', value: (s) => s.siteName },
      ...report.days.map((day, i) => ({
        header: day.slice(5),
        value: (s: SiteReport) => s.levels.pm10.dailyMeans[i],
        decimals: 1,
      })),
    ],
    rows: report.sites,
  };
}

export function reportTables(report: ComplianceReport): Table<never>[] {
  const tables = [
    { name: '区县对比', columns: AREA_COLUMNS, rows: [report.city, ...report.districts] },
    { name: '站点', columns: SITE_COLUMNS, rows: siteRows(report) },
    { name: '排名', columns: RANK_COLUMNS, rows: report.ranking },
    dailyPm10Table(report),
  ];
  return tables as unknown as Table<never>[];
}
