import * as schema from '@grafana/schema';
import { byTag, field, fn, lastMinutes } from '../influxql';
import { NOISE_STEPS, PM10_STEPS, PM25_STEPS, TSP_STEPS, dashboard, panel, target, thresholds } from '../model';

const colourBy = (column: string, steps: ReturnType<typeof thresholds>) => ({
  matcher: { id: 'byName', options: column },
  properties: [
    { id: 'thresholds', value: steps },
    { id: 'custom.cellOptions', value: { type: 'color-background' } },
  ],
});

/** Which sites are over the limit right now, which monitors are silent, what is open. */
export const fleetNow = () =>
  dashboard({
    uid: 'dustwatch-fleet-now',
    title: 'Dustwatch · Fleet now',
    description:
      "Every site's latest readings coloured by the rule thresholds, devices online, active alerts, the ten worst sites by 1-h PM10 and a map.",
    refresh: '1m',
    time: { from: 'now-1h', to: 'now' },
    panels: [
      panel({
        type: 'stat',
        title: 'Devices online',
        gridPos: { x: 0, y: 0, w: 4, h: 4 },
        targets: [
          target('A', {
            fields: [fn('sum', 'online', 'online')],
            from: {
              subquery: {
                fields: [fn('last', 'online', 'online')],
                from: { rp: 'raw', measurement: 'device_status' },
                where: [lastMinutes(5)],
                groupBy: [byTag('device')],
              },
            },
          }),
        ],
        defaults: { color: { mode: schema.FieldColorModeId.Thresholds }, thresholds: thresholds(['green', null]) },
        options: { reduceOptions: { calcs: ['lastNotNull'] } },
      }),
      panel({
        type: 'stat',
        title: 'Devices offline',
        gridPos: { x: 4, y: 0, w: 4, h: 4 },
        targets: [
          target('A', {
            fields: [field('count("online") - sum("online")', 'offline')],
            from: {
              subquery: {
                fields: [fn('last', 'online', 'online')],
                from: { rp: 'raw', measurement: 'device_status' },
                where: [lastMinutes(5)],
                groupBy: [byTag('device')],
              },
            },
          }),
        ],
        defaults: {
          color: { mode: schema.FieldColorModeId.Thresholds },
          thresholds: thresholds(['green', null], ['red', 1]),
        },
        options: { reduceOptions: { calcs: ['lastNotNull'] } },
      }),
      panel({
        type: 'stat',
        title: 'Active alerts by severity',
        gridPos: { x: 8, y: 0, w: 8, h: 4 },
        targets: [
          target('A', {
            fields: [fn('sum', 'active_warning', 'warning'), fn('sum', 'active_critical', 'critical')],
            from: {
              subquery: {
                fields: [
                  fn('last', 'active_warning', 'active_warning'),
                  fn('last', 'active_critical', 'active_critical'),
                ],
                from: { rp: 'raw', measurement: 'site_status' },
                where: [lastMinutes(5)],
                groupBy: [byTag('site')],
              },
            },
          }),
        ],
        defaults: {
          color: { mode: schema.FieldColorModeId.Thresholds },
          thresholds: thresholds(['green', null], ['orange', 1]),
        },
        overrides: [
          {
            matcher: { id: 'byName', options: 'critical' },
            properties: [{ id: 'thresholds', value: thresholds(['green', null], ['red', 1]) }],
          },
        ],
        options: { reduceOptions: { calcs: ['lastNotNull'] } },
      }),
      panel({
        type: 'bargauge',
        title: 'Ten worst sites by 1-h PM10',
        gridPos: { x: 16, y: 0, w: 8, h: 12 },
        targets: [
          target(
            'A',
            {
              fields: [field('top("pm10", "site", 10)', 'pm10')],
              from: {
                subquery: {
                  fields: [fn('mean', 'pm10', 'pm10')],
                  from: { rp: 'raw', measurement: 'readings' },
                  where: [lastMinutes(60)],
                  groupBy: [byTag('site')],
                },
              },
            },
            'table',
          ),
        ],
        defaults: {
          unit: 'µg/m³',
          decimals: 0,
          min: 0,
          thresholds: PM10_STEPS,
          color: { mode: schema.FieldColorModeId.Thresholds },
        },
        options: {
          orientation: 'horizontal',
          displayMode: 'gradient',
          reduceOptions: { values: true, calcs: [], fields: '/^pm10$/' },
        },
      }),
      panel({
        type: 'table',
        title: 'Sites now (last reading in 15 min)',
        gridPos: { x: 0, y: 4, w: 16, h: 16 },
        targets: [
          target(
            'A',
            {
              fields: [
                fn('last', 'pm10', 'PM10'),
                fn('last', 'pm25', 'PM2.5'),
                fn('last', 'tsp', 'TSP'),
                fn('last', 'noise', 'Noise'),
              ],
              from: { rp: 'raw', measurement: 'readings' },
              where: [lastMinutes(15)],
              groupBy: [byTag('site')],
            },
            'table',
          ),
        ],
        defaults: { decimals: 0 },
        overrides: [
          colourBy('PM10', PM10_STEPS),
          colourBy('PM2.5', PM25_STEPS),
          colourBy('TSP', TSP_STEPS),
          colourBy('Noise', NOISE_STEPS),
        ],
        options: { sortBy: [{ displayName: 'PM10', desc: true }] },
      }),
      panel({
        type: 'geomap',
        title: 'Sites by 1-h PM10',
        gridPos: { x: 16, y: 12, w: 8, h: 8 },
        targets: [
          target(
            'A',
            {
              fields: [fn('last', 'lat', 'lat'), fn('last', 'lon', 'lon'), fn('last', 'name', 'name')],
              from: { rp: 'raw', measurement: 'site_status' },
              where: [lastMinutes(5), `"kind" = 'site'`],
              groupBy: [byTag('site')],
            },
            'table',
          ),
          target(
            'B',
            {
              fields: [fn('mean', 'pm10', 'pm10')],
              from: { rp: 'raw', measurement: 'readings' },
              where: [lastMinutes(60)],
              groupBy: [byTag('site')],
            },
            'table',
          ),
        ],
        transformations: [{ id: 'joinByField', options: { byField: 'site', mode: 'outer' } }],
        defaults: { unit: 'µg/m³', thresholds: PM10_STEPS, color: { mode: schema.FieldColorModeId.Thresholds } },
        options: {
          view: { id: 'coords', lat: 36.2, lon: 113.1, zoom: 9 },
          layers: [
            {
              type: 'markers',
              name: 'sites',
              location: { mode: 'coords', latitude: 'lat', longitude: 'lon' },
              config: { color: { field: 'pm10', fixed: 'green' }, size: { fixed: 6 }, showLegend: true },
            },
          ],
        },
      }),
    ],
  });
