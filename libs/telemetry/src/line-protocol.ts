import { METRICS, METRIC_KEYS } from './metrics';
import { Reading } from './parse-readings';

/**
 * InfluxDB schema of the raw readings (docs/influxdb-schema.md):
 *   measurement `readings`, tags `device` and `site`, one float field per metric, time in ms.
 * A value flagged other than N (HJ 212: only N counts toward compliance averages) is written to
 * `<field>_flagged` with its flag in `<field>_flag`, so `mean(pm10)` is always a compliance mean
 * and nothing is lost. Noise is also written as `noise_energy` = 10^(L/10) so hourly means can
 * be energy averages: Leq = 10·log10(mean(noise_energy)).
 */
export const READINGS_MEASUREMENT = 'readings';
export const HOURLY_MEASUREMENT = 'readings_1h';

// Line protocol escaping (InfluxDB 1.x): tag keys/values escape comma, equals and space;
// string field values escape backslash and double quote. Ids are validated before they get
// here; escaping is the second wall, so a tag can never split a point.
function escapeTag(value: string): string {
  return value.replace(/[,= \\]/g, (c) => `\\${c}`).replace(/\n/g, '\\n');
}

function formatFloat(value: number): string {
  // A float field must not look like an integer (`1i`); plain `1` is a float in line protocol.
  return String(value);
}

export function noiseEnergy(levelDb: number): number {
  return 10 ** (levelDb / 10);
}

/** True when a value counts toward compliance means: flagged N or not flagged (HJ 212-2017). */
export function countsForCompliance(reading: Reading, key: (typeof METRIC_KEYS)[number]): boolean {
  const flag = reading.flags[key];
  return flag === undefined || flag === 'N';
}

/**
 * One point of any other measurement (e.g. `alert_events`): tags sorted by key, string fields
 * quoted with backslash and double quote escaped (line breaks become spaces), integers as `<n>i`.
 */
export function pointToLine(
  measurement: string,
  tags: Readonly<Record<string, string>>,
  fields: Readonly<Record<string, number | string | boolean | { int: number }>>,
  ts: number,
): string {
  const tagPart = Object.keys(tags)
    .sort()
    .map((k) => `,${escapeTag(k)}=${escapeTag(tags[k])}`)
    .join('');
  const fieldPart = Object.entries(fields)
    .map(([k, v]) => {
      const value =
        typeof v === 'string'
          ? `"${v.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ')}"`
          : typeof v === 'object'
            ? `${Math.trunc(v.int)}i`
            : String(v);
      return `${escapeTag(k)}=${value}`;
    })
    .join(',');
  return `${escapeTag(measurement)}${tagPart} ${fieldPart} ${ts}`;
}

export function readingToLine(reading: Reading, siteId: string): string {
  const fields: string[] = [];
  for (const key of METRIC_KEYS) {
    const value = reading.values[key];
    if (value === undefined) continue;
    const field = METRICS[key].field;
    if (countsForCompliance(reading, key)) {
      fields.push(`${field}=${formatFloat(value)}`);
      if (key === 'noise') fields.push(`noise_energy=${formatFloat(noiseEnergy(value))}`);
    } else {
      fields.push(`${field}_flagged=${formatFloat(value)}`, `${field}_flag="${reading.flags[key]}"`);
    }
  }
  if (reading.serverTime) fields.push('server_time=true');
  if (reading.kind !== undefined) fields.push(`hj212_kind="${reading.kind}"`);
  // Tags in key order (device < site), as InfluxDB recommends for write performance.
  return `${READINGS_MEASUREMENT},device=${escapeTag(reading.deviceId)},site=${escapeTag(siteId)} ${fields.join(',')} ${reading.ts}`;
}

/** Hour and day values a device reported (HJ 212 CN 2061/2031): kept beside Dustwatch's own roll-ups, never judged. */
export const DEVICE_AGGREGATES_MEASUREMENT = 'device_aggregates';

export function aggregateToLine(
  deviceId: string,
  siteId: string,
  period: 'hour' | 'day',
  ts: number,
  values: Readonly<Partial<Record<(typeof METRIC_KEYS)[number], { avg?: number; min?: number; max?: number }>>>,
): string | null {
  const fields: Record<string, number> = {};
  for (const key of METRIC_KEYS)
    for (const [stat, value] of Object.entries(values[key] ?? {}))
      if (Number.isFinite(value)) fields[`${METRICS[key].field}_${stat}`] = value as number;
  if (Object.keys(fields).length === 0) return null;
  return pointToLine(DEVICE_AGGREGATES_MEASUREMENT, { device: deviceId, site: siteId, period }, fields, ts);
}

/** The values of `metrics` that count for compliance (flag N or none), in a plain object. */
export function complianceValues(
  reading: Reading,
  metrics: readonly (typeof METRIC_KEYS)[number][],
): Partial<Record<(typeof METRIC_KEYS)[number], number>> {
  const values: Partial<Record<(typeof METRIC_KEYS)[number], number>> = {};
  for (const m of metrics) {
    const v = reading.values[m];
    if (v !== undefined && countsForCompliance(reading, m)) values[m] = v;
  }
  return values;
}
