import * as schema from '@grafana/schema';
import { TIME_FILTER, byTag, byTime, field, fn, tagIs } from '../influxql';
import { DATASOURCE, dashboard, panel, target, thresholds } from '../model';

// An hour counts when at least 75 % of its minute readings are there (docs/reports.md).
const VALID_HOUR = '"pm10_n" >= 45';
// Calendar days and ISO weeks (Monday to Sunday) in Asia/Shanghai, as the reports count them:
// InfluxDB's 7-day buckets start on a Thursday (the epoch's weekday); the 4-day offset moves them
// to Monday, and tz() to local midnight. Calendar months cannot be bucketed in InfluxQL: pick the
// month in the time picker ("Previous month") and read the range totals.
const PERIODS = [
  ['day', '1d'],
  ['week (Monday–Sunday)', '7d, 4d'],
] as const;

/**
 * A site's hourly PM10: the worst valid hour among its monitors (the reports judge a site with
 * two monitors by the worse of them).
 */
const siteHours = {
  fields: [fn('max', 'pm10', 'pm10')],
  from: { rp: 'long', measurement: 'readings_1h' },
  where: [VALID_HOUR, tagIs('site', '$site'), TIME_FILTER],
  groupBy: [byTime('1h'), byTag('site')],
} as const;

const reportLink = (title: string, path: string): schema.DashboardLink => ({
  title,
  type: 'link',
  url: `\${reports_url}${path}`,
  icon: 'doc',
  tooltip: 'The bulletin with every figure (docs/reports.md); the API asks for a key',
  asDropdown: false,
  includeVars: false,
  keepTime: false,
  tags: [],
  targetBlank: true,
});

/** The reports' figures over any range, by Asia/Shanghai days or ISO weeks; links to the stored bulletins. */
export const compliance = () =>
  dashboard({
    uid: 'dustwatch-compliance',
    title: 'Dustwatch · Compliance',
    description:
      "The compliance reports' definitions (docs/reports.md) per site and Asia/Shanghai day or ISO week: PM10 exceedance hours (site-level: the worse monitor's valid 1-h mean ≥ 150), valid hours, validity rate in %, alerts opened and closed, time to close, the ranking by exceedance hours. The bulletins themselves: the links above.",
    refresh: '5m',
    time: { from: 'now-7d/d', to: 'now' },
    links: [reportLink('Reports (日报 · 周报 · 月报)', '/api/reports')],
    variables: [
      {
        name: 'period',
        label: 'Period',
        type: 'custom',
        // Grafana splits a custom variable's values at commas; `\\,` keeps the one in "7d, 4d".
        query: PERIODS.map(([text, v]) => `${text} : ${v.replace(',', '\\,')}`).join(', '),
        current: { text: PERIODS[0][0], value: PERIODS[0][1] },
        options: PERIODS.map(([text, value], i) => ({ text, value, selected: i === 0 })),
      },
      {
        name: 'site',
        label: 'Site',
        type: 'query',
        datasource: DATASOURCE,
        query: 'SHOW TAG VALUES FROM "raw"."site_status" WITH KEY = "site" WHERE "kind" = \'site\'',
        refresh: 1,
        multi: true,
        includeAll: true,
      },
      {
        name: 'reports_url',
        label: 'Dustwatch address',
        type: 'textbox',
        query: 'http://localhost:3000',
        current: { text: 'http://localhost:3000', value: 'http://localhost:3000' },
      },
    ],
    panels: [
      panel({
        type: 'table',
        title: "PM10 exceedance hours per site and $period (worse monitor's valid 1-h mean ≥ 150 µg/m³)",
        gridPos: { x: 0, y: 0, w: 12, h: 10 },
        targets: [
          target(
            'A',
            {
              fields: [fn('count', 'pm10', 'exceedance hours')],
              from: { subquery: siteHours },
              where: ['"pm10" >= 150', TIME_FILTER],
              groupBy: [byTime('$period'), byTag('site')],
              tz: 'Asia/Shanghai',
            },
            'table',
          ),
        ],
        defaults: { thresholds: thresholds(['green', null], ['orange', 1], ['red', 3]) },
      }),
      panel({
        type: 'table',
        title: 'Valid hours per site and $period (a monitor with ≥ 75 % of its readings)',
        gridPos: { x: 12, y: 0, w: 6, h: 10 },
        targets: [
          target(
            'A',
            {
              fields: [fn('count', 'valid', 'valid hours')],
              from: {
                subquery: {
                  fields: [fn('max', 'pm10_n', 'valid')],
                  from: { rp: 'long', measurement: 'readings_1h' },
                  where: [VALID_HOUR, tagIs('site', '$site'), TIME_FILTER],
                  groupBy: [byTime('1h'), byTag('site')],
                },
              },
              where: [TIME_FILTER],
              groupBy: [byTime('$period'), byTag('site')],
              tz: 'Asia/Shanghai',
            },
            'table',
          ),
        ],
      }),
      panel({
        type: 'table',
        title: "Validity rate in the range, % (valid readings ÷ one a minute; mean of the site's monitors)",
        gridPos: { x: 18, y: 0, w: 6, h: 10 },
        targets: [
          target(
            'A',
            {
              fields: [fn('mean', 'validity', 'validity %')],
              from: {
                subquery: {
                  fields: [field('sum("pm10_n") / ($__range_s / 60) * 100', 'validity')],
                  from: { rp: 'long', measurement: 'readings_1h' },
                  where: [tagIs('site', '$site'), TIME_FILTER],
                  groupBy: [byTag('site'), byTag('device')],
                },
              },
              groupBy: [byTag('site')],
            },
            'table',
          ),
        ],
        defaults: {
          unit: 'percent',
          decimals: 1,
          thresholds: thresholds(['red', null], ['orange', 75], ['green', 90]),
        },
      }),
      panel({
        type: 'table',
        title: 'Alerts opened and closed per $period',
        gridPos: { x: 0, y: 10, w: 12, h: 10 },
        targets: [
          target(
            'A',
            {
              fields: [fn('count', 'alert_id', 'opened')],
              from: { rp: 'long', measurement: 'alert_events' },
              where: ['"type" = \'opened\'', tagIs('site', '$site'), TIME_FILTER],
              groupBy: [byTime('$period'), byTag('site')],
              tz: 'Asia/Shanghai',
            },
            'table',
          ),
          target(
            'B',
            {
              fields: [fn('count', 'alert_id', 'closed')],
              from: { rp: 'long', measurement: 'alert_events' },
              where: ['"type" = \'closed\'', tagIs('site', '$site'), TIME_FILTER],
              groupBy: [byTime('$period'), byTag('site')],
              tz: 'Asia/Shanghai',
            },
            'table',
          ),
        ],
      }),
      panel({
        type: 'table',
        title: 'Hours from opening to close-out, per $period',
        gridPos: { x: 12, y: 10, w: 12, h: 10 },
        targets: [
          target(
            'A',
            {
              fields: [field('mean("seconds_to_close") / 3600', 'hours to close')],
              from: { rp: 'long', measurement: 'alert_events' },
              where: ['"type" = \'closed\'', tagIs('site', '$site'), TIME_FILTER],
              groupBy: [byTime('$period'), byTag('site')],
              tz: 'Asia/Shanghai',
            },
            'table',
          ),
        ],
        defaults: { decimals: 1, unit: 'h' },
      }),
      panel({
        type: 'bargauge',
        title: 'Ranking: sites by PM10 exceedance hours in the range (the reports rank by a score: see the links)',
        gridPos: { x: 0, y: 20, w: 24, h: 10 },
        targets: [
          target(
            'A',
            {
              fields: [field('top("hours", "site", 20)', 'hours')],
              from: {
                subquery: {
                  fields: [fn('count', 'pm10', 'hours')],
                  from: { subquery: { ...siteHours, where: [VALID_HOUR, TIME_FILTER] } },
                  where: ['"pm10" >= 150', TIME_FILTER],
                  groupBy: [byTag('site')],
                },
              },
            },
            'table',
          ),
        ],
        defaults: {
          thresholds: thresholds(['green', null], ['orange', 1], ['red', 10]),
          color: { mode: schema.FieldColorModeId.Thresholds },
        },
        options: {
          orientation: 'horizontal',
          displayMode: 'gradient',
          reduceOptions: { values: true, calcs: [], fields: '/^hours$/' },
        },
      }),
    ],
  });
