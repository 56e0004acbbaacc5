import { TIME_FILTER, byTag, byTime, field, fn, tagIs } from '../influxql';
import { DATASOURCE, dashboard, panel, target, thresholds } from '../model';

// An hour counts when at least 75 % of its minute readings are there (domain reference).
const VALID_HOUR = '"pm10_n" >= 45';
const PERIODS = [
  ['day', '1d'],
  ['week', '7d'],
  ['month (30 days)', '30d'],
] as const;

/** The numbers behind the weekly roll-up and the monthly bulletin, by Asia/Shanghai days. */
export const compliance = () =>
  dashboard({
    uid: 'dustwatch-compliance',
    title: 'Dustwatch · Compliance',
    description:
      'Per site and day/week/month (Asia/Shanghai): PM10 exceedance hours (valid 1-h means ≥ 150), valid-data hours, alerts opened and closed, time to close, and the ranking of sites. Reads the hourly roll-up, so long ranges stay fast.',
    refresh: '5m',
    time: { from: 'now-7d/d', to: 'now' },
    variables: [
      {
        name: 'period',
        label: 'Period',
        type: 'custom',
        query: PERIODS.map(([, v]) => v).join(','),
        current: { text: '1d', value: '1d' },
        options: PERIODS.map(([, v], i) => ({ text: v, value: v, selected: i === 0 })),
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
    ],
    panels: [
      panel({
        type: 'table',
        title: 'PM10 exceedance device-hours (valid 1-h mean ≥ 150 µg/m³) per $period',
        gridPos: { x: 0, y: 0, w: 12, h: 10 },
        targets: [
          target(
            'A',
            {
              fields: [fn('count', 'pm10', 'exceedance hours')],
              from: { rp: 'long', measurement: 'readings_1h' },
              where: ['"pm10" >= 150', VALID_HOUR, tagIs('site', '$site'), TIME_FILTER],
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
        title: 'Valid-data hours per $period (≥ 75 % of readings in the hour)',
        gridPos: { x: 12, y: 0, w: 12, h: 10 },
        targets: [
          target(
            'A',
            {
              fields: [fn('count', 'pm10_n', 'valid hours')],
              from: { rp: 'long', measurement: 'readings_1h' },
              where: [VALID_HOUR, tagIs('site', '$site'), TIME_FILTER],
              groupBy: [byTime('$period'), byTag('site')],
              tz: 'Asia/Shanghai',
            },
            'table',
          ),
        ],
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
        title: 'Ranking: sites by PM10 exceedance hours in the range',
        gridPos: { x: 0, y: 20, w: 24, h: 10 },
        targets: [
          target(
            'A',
            {
              fields: [field('top("hours", "site", 20)', 'hours')],
              from: {
                subquery: {
                  fields: [fn('count', 'pm10', 'hours')],
                  from: { rp: 'long', measurement: 'readings_1h' },
                  where: ['"pm10" >= 150', VALID_HOUR, TIME_FILTER],
                  groupBy: [byTag('site')],
                },
              },
            },
            'table',
          ),
        ],
        defaults: {
          thresholds: thresholds(['green', null], ['orange', 1], ['red', 10]),
          color: { mode: 'thresholds' },
        },
        options: {
          orientation: 'horizontal',
          displayMode: 'gradient',
          reduceOptions: { values: true, calcs: [], fields: '/^hours$/' },
        },
      }),
    ],
  });
