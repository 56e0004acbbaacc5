import { TIME_FILTER, byTime, field, fn, tagIs } from '../influxql';
import { DATASOURCE, dashboard, panel, target, thresholds } from '../model';

const lines = { custom: { thresholdsStyle: { mode: 'line' } } };

/** One site over time: PM with its limits, noise against the day and night limits, weather, its alerts, its district's background. */
export const site = () =>
  dashboard({
    uid: 'dustwatch-site',
    title: 'Dustwatch · Site',
    description:
      'One site: PM2.5/PM10/TSP with rule thresholds, noise Leq with the GB 12523 day and night limits, PM10 against the district background, wind and weather; alert events as annotations.',
    refresh: '1m',
    time: { from: 'now-24h', to: 'now' },
    variables: [
      {
        name: 'site',
        label: 'Site',
        type: 'query',
        datasource: DATASOURCE,
        query: 'SHOW TAG VALUES FROM "raw"."site_status" WITH KEY = "site" WHERE "kind" = \'site\'',
        refresh: 1,
      },
      {
        name: 'district',
        label: 'District',
        type: 'query',
        datasource: DATASOURCE,
        query: 'SHOW TAG VALUES FROM "raw"."site_status" WITH KEY = "district" WHERE "site" =~ /^$site$/',
        refresh: 2,
      },
      {
        name: 'background',
        label: 'Background stations',
        type: 'query',
        datasource: DATASOURCE,
        query:
          'SHOW TAG VALUES FROM "raw"."site_status" WITH KEY = "site" WHERE "district" =~ /^$district$/ AND "kind" = \'background\'',
        refresh: 2,
        multi: true,
        includeAll: true,
      },
    ],
    annotations: [
      {
        name: 'Alert events',
        datasource: DATASOURCE,
        enable: true,
        iconColor: 'red',
        textColumn: 'text',
        tagsColumn: 'rule',
        query: 'SELECT "text", "rule" FROM "long"."alert_events" WHERE "site" =~ /^$site$/ AND $timeFilter',
      },
    ],
    panels: [
      panel({
        type: 'timeseries',
        title: 'PM2.5, PM10, TSP',
        gridPos: { x: 0, y: 0, w: 12, h: 9 },
        targets: [
          target('A', {
            fields: [fn('mean', 'pm25', 'PM2.5'), fn('mean', 'pm10', 'PM10'), fn('mean', 'tsp', 'TSP')],
            from: { rp: 'raw', measurement: 'readings' },
            where: [tagIs('site', '$site'), TIME_FILTER],
            groupBy: [byTime('$__interval')],
            fill: 'null',
          }),
        ],
        defaults: {
          unit: 'µg/m³',
          min: 0,
          thresholds: thresholds(['transparent', null], ['orange', 150], ['red', 250]),
          ...lines,
        },
      }),
      panel({
        type: 'timeseries',
        title: 'Noise Leq against the day (70) and night (55) limits',
        gridPos: { x: 12, y: 0, w: 12, h: 9 },
        targets: [
          target('A', {
            fields: [field('10 * log10(mean("noise_energy"))', 'Leq')],
            from: { rp: 'raw', measurement: 'readings' },
            where: [tagIs('site', '$site'), TIME_FILTER],
            groupBy: [byTime('$__interval')],
            fill: 'null',
          }),
        ],
        defaults: { unit: 'dB', thresholds: thresholds(['transparent', null], ['orange', 55], ['red', 70]), ...lines },
      }),
      panel({
        type: 'timeseries',
        title: 'PM10: site against the district background',
        gridPos: { x: 0, y: 9, w: 12, h: 9 },
        targets: [
          target('A', {
            fields: [fn('mean', 'pm10', 'site')],
            from: { rp: 'raw', measurement: 'readings' },
            where: [tagIs('site', '$site'), TIME_FILTER],
            groupBy: [byTime('$__interval')],
            fill: 'null',
          }),
          target('B', {
            fields: [fn('mean', 'pm10', 'background')],
            from: { rp: 'raw', measurement: 'readings' },
            where: [tagIs('site', '$background'), TIME_FILTER],
            groupBy: [byTime('$__interval')],
            fill: 'null',
          }),
        ],
        defaults: { unit: 'µg/m³', min: 0 },
      }),
      panel({
        type: 'timeseries',
        title: 'Wind and weather',
        gridPos: { x: 12, y: 9, w: 12, h: 9 },
        targets: [
          target('A', {
            fields: [
              fn('mean', 'wind_speed', 'wind m/s'),
              fn('mean', 'temperature', 'temperature °C'),
              fn('mean', 'humidity', 'humidity %'),
            ],
            from: { rp: 'raw', measurement: 'readings' },
            where: [tagIs('site', '$site'), TIME_FILTER],
            groupBy: [byTime('$__interval')],
            fill: 'null',
          }),
        ],
      }),
      panel({
        type: 'table',
        title: 'Alert events',
        gridPos: { x: 0, y: 18, w: 24, h: 8 },
        targets: [
          target(
            'A',
            {
              fields: [field('"type"'), field('"rule"'), field('"severity"'), field('"state"'), field('"text"')],
              from: { rp: 'long', measurement: 'alert_events' },
              where: [tagIs('site', '$site'), TIME_FILTER],
            },
            'table',
          ),
        ],
      }),
    ],
  });
