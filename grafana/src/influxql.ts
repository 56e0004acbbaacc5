/**
 * A small typed InfluxQL builder for dashboard queries (the Grafana foundation SDK has none).
 * Identifiers are always double-quoted; values in conditions come from constants of this
 * project or from Grafana template variables, which stay as `$name` for Grafana to expand.
 */
export type RetentionPolicy = 'raw' | 'long';
export type Measurement = 'readings' | 'readings_1h' | 'alert_events' | 'site_status' | 'device_status';

export interface Field {
  /** e.g. `mean("pm10")`, `last("online")`, `10 * log10(mean("noise_energy"))` */
  readonly expr: string;
  readonly as?: string;
}

export const q = (identifier: string): string => `"${identifier.replace(/"/g, '\\"')}"`;
export const field = (expr: string, as?: string): Field => ({ expr, as });
export const fn = (name: 'mean' | 'last' | 'max' | 'min' | 'count' | 'sum', column: string, as?: string): Field =>
  field(`${name}(${q(column)})`, as);

export interface Select {
  readonly fields: readonly Field[];
  /** A measurement in a retention policy, or a subquery. */
  readonly from: { rp: RetentionPolicy; measurement: Measurement } | { subquery: Select };
  readonly where?: readonly string[];
  readonly groupBy?: readonly string[];
  readonly fill?: 'null' | 'none' | 'previous' | number;
  /** Asia/Shanghai days and weeks for GROUP BY time(1d) (the bureau's calendar). */
  readonly tz?: 'Asia/Shanghai';
}

export function render(s: Select): string {
  const fields = s.fields.map((f) => (f.as ? `${f.expr} AS ${q(f.as)}` : f.expr)).join(', ');
  const from = 'subquery' in s.from ? `(${render(s.from.subquery)})` : `${q(s.from.rp)}.${q(s.from.measurement)}`;
  let text = `SELECT ${fields} FROM ${from}`;
  if (s.where?.length) text += ` WHERE ${s.where.join(' AND ')}`;
  if (s.groupBy?.length) text += ` GROUP BY ${s.groupBy.join(', ')}`;
  if (s.fill !== undefined) text += ` fill(${s.fill})`;
  if (s.tz) text += ` tz('${s.tz}')`;
  return text;
}

// Conditions and groupings used across dashboards.
export const TIME_FILTER = '$timeFilter';
export const lastMinutes = (minutes: number): string => `time > now() - ${minutes}m`;
export const tagIs = (tag: string, variable: string): string => `${q(tag)} =~ /^${variable}$/`;
export const tagEquals = (tag: string, value: string): string => `${q(tag)} = '${value.replace(/'/g, "\\'")}'`;
export const byTime = (interval: string): string => `time(${interval})`;
export const byTag = (tag: string): string => q(tag);
