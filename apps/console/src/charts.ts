import { formatTime } from './model';

import type { components } from './api/schema';

/** What GET /api/sites/{id}/series answers (generated from the OpenAPI document). */
export type SiteSeries = components['schemas']['SiteSeriesResponse'];
export type HourValue = components['schemas']['HourValueResponse'];

export type ChartMetric = 'pm10' | 'pm25' | 'tsp' | 'noise';
const UNIT: Record<ChartMetric, string> = { pm10: 'µg/m³', pm25: 'µg/m³', tsp: 'µg/m³', noise: 'dB(A)' };
const ROUND = (v: number | null): number | null => (v === null ? null : Math.round(v * 10) / 10);

/**
 * The site page's chart of one metric: each monitor's hourly values (named by the hour's end, as
 * CNEMC does), the district background for PM10, and the rules' raise levels as lines. An
 * ECharts option, built without ECharts so jest checks it.
 */
export function siteChartOption(
  series: SiteSeries,
  metric: ChartMetric,
  backgroundLabel: string,
  ruleName: (ruleId: string) => string = (id) => id,
) {
  const hours: number[] = [];
  for (let t = series.from; t < series.to; t += 3_600_000) hours.push(t);
  const at = (values: HourValue[]) => {
    const byHour = new Map(values.map((v) => [v.hourStart, v.value]));
    return hours.map((h) => ROUND(byHour.get(h) ?? null));
  };
  const lines = series.monitors.map((m) => ({
    name: m.deviceId,
    type: 'line',
    data: at(m[metric]),
    connectNulls: false,
  }));
  if (metric === 'pm10' && series.backgroundPm10.length > 0)
    lines.push({ name: backgroundLabel, type: 'line', data: at(series.backgroundPm10), connectNulls: false });
  const levels = series.limits
    .filter((l) => l.rule.startsWith(metric === 'noise' ? 'noise' : metric))
    .flatMap((l) =>
      l.raise.map((r) => ({
        name: `${ruleName(l.rule)} ${r.op}${r.value}${l.schedule ? ` (${l.schedule})` : ''}`,
        yAxis: r.value,
      })),
    );
  return {
    animation: false,
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { top: 36, left: 48, right: 16, bottom: 28 },
    xAxis: { type: 'category', data: hours.map((h) => formatTime(new Date(h + 3_600_000).toISOString()).slice(5)) },
    yAxis: { type: 'value', name: UNIT[metric] },
    series: lines.map((s, i) =>
      i === 0 && levels.length
        ? {
            ...s,
            markLine: {
              symbol: 'none',
              lineStyle: { color: '#d32f2f', type: 'dashed' },
              label: { formatter: '{b}', position: 'insideEndTop' },
              data: levels,
            },
          }
        : s,
    ),
  };
}

type Limits = SiteSeries['limits'];

/**
 * The alert's evidence: the monitor's readings in the alert's window, the level it was raised
 * at and the rule's clear level as lines, and (for PM10) the district background's hourly values.
 */
export function evidenceChartOption(
  points: readonly [string, number][],
  alert: { rule: string; metric: string; threshold: number },
  limits: Limits,
  background: readonly HourValue[],
  labels: { raise: string; clear: string; background: string; readings: string },
) {
  const rule = limits.find((l) => l.rule === alert.rule);
  const times = points.map(([t]) => Date.parse(t));
  const from = Math.min(...times);
  const to = Math.max(...times);
  const lines: { yAxis: number; name: string }[] = [
    { yAxis: alert.threshold, name: `${labels.raise} ${alert.threshold}` },
  ];
  if (rule) lines.push({ yAxis: rule.clear.value, name: `${labels.clear} ${rule.clear.value}` });
  const backgroundPoints =
    alert.metric === 'pm10'
      ? background
          .filter((h) => h.value !== null && h.hourStart + 3_600_000 >= from && h.hourStart <= to)
          .map((h) => [h.hourStart + 3_600_000, ROUND(h.value)] as [number, number | null])
      : [];
  return {
    animation: false,
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { top: 36, left: 48, right: 16, bottom: 28 },
    // Asia/Shanghai whatever the browser's zone (ECharts' time axis would use the browser's).
    xAxis: {
      type: 'time',
      axisLabel: { hideOverlap: true, formatter: (v: number) => formatTime(new Date(v).toISOString()).slice(11) },
    },
    yAxis: { type: 'value', name: UNIT[alert.metric as ChartMetric] ?? '' },
    series: [
      {
        name: labels.readings,
        type: 'line',
        showSymbol: false,
        data: points.map(([t, v]) => [Date.parse(t), ROUND(v)]),
        markLine: {
          symbol: 'none',
          lineStyle: { type: 'dashed' },
          label: { formatter: '{b}', position: 'insideEndTop' },
          data: lines,
        },
      },
      ...(backgroundPoints.length
        ? [{ name: labels.background, type: 'line', step: 'end', data: backgroundPoints }]
        : []),
    ],
  };
}
