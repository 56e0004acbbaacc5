import { HOURLY_MEASUREMENT, READINGS_MEASUREMENT } from '@dustwatch/telemetry';
import { InfluxHttpClient } from './influx-http.client';

export const RAW_RP = 'raw';
export const LONG_RP = 'long';
export const HOURLY_CQ = 'cq_readings_1h';

/**
 * The hourly roll-up kept in `long`.`readings_1h`. PM, TSP and weather are arithmetic means of
 * compliance-valid values (flagged values live in other fields); noise is the energy average
 * Leq = 10·log10(mean(10^(L/10))) from `noise_energy` (GB 12523 / domain reference: an arithmetic
 * mean of dB understates peaks). `*_n` counts samples so readers can apply the 75 % validity
 * rule. Wind direction is circular and is deliberately not averaged. Rows are labelled by the
 * hour's start (InfluxDB's convention; CNEMC labels by the end).
 */
export function hourlySelect(database: string): string {
  const means = ['pm25', 'pm10', 'tsp', 'wind_speed', 'temperature', 'humidity', 'pressure'].map(
    (f) => `mean(${f}) AS ${f}`,
  );
  // pm10_flagged_n: readings received with a flag other than N, for the reports' capture rate.
  const counts = ['pm25', 'pm10', 'tsp', 'noise', 'pm10_flagged'].map((f) => `count(${f}) AS ${f}_n`);
  return (
    `SELECT ${means.join(', ')}, 10 * log10(mean(noise_energy)) AS noise, max(noise) AS noise_max, ${counts.join(', ')}` +
    ` INTO "${database}"."${LONG_RP}"."${HOURLY_MEASUREMENT}" FROM "${database}"."${RAW_RP}"."${READINGS_MEASUREMENT}"`
  );
}

/** How far back the CQ recomputes on each run; later arrivals are rolled up by `rollUpHours`. */
export const CQ_LOOKBACK_MS = 2 * 3_600_000;

export interface SchemaOptions {
  readonly rawRetentionDays: number;
  /** 0 = keep forever. */
  readonly longRetentionDays: number;
}

/** Creates (idempotently) the database, both retention policies and the hourly CQ. */
export async function ensureSchema(influx: InfluxHttpClient, options: SchemaOptions): Promise<void> {
  const db = influx.database;
  await influx.query(`CREATE DATABASE "${db}"`);
  const rows = (await influx.query(`SHOW RETENTION POLICIES ON "${db}"`))[0]?.[0]?.values ?? [];
  const existing = new Set(rows.map((r) => String(r[0])));
  const raw = `DURATION ${options.rawRetentionDays}d REPLICATION 1 DEFAULT`;
  const long = `DURATION ${options.longRetentionDays === 0 ? 'INF' : `${options.longRetentionDays}d`} REPLICATION 1`;
  await influx.query(`${existing.has(RAW_RP) ? 'ALTER' : 'CREATE'} RETENTION POLICY "${RAW_RP}" ON "${db}" ${raw}`);
  await influx.query(`${existing.has(LONG_RP) ? 'ALTER' : 'CREATE'} RETENTION POLICY "${LONG_RP}" ON "${db}" ${long}`);
  // A CQ cannot be altered: drop and recreate so a changed definition always takes effect.
  const cqs = (await influx.query('SHOW CONTINUOUS QUERIES'))[0] ?? [];
  if (cqs.some((s) => s.name === db && (s.values ?? []).some((v) => v[0] === HOURLY_CQ)))
    await influx.query(`DROP CONTINUOUS QUERY "${HOURLY_CQ}" ON "${db}"`);
  await influx.query(
    `CREATE CONTINUOUS QUERY "${HOURLY_CQ}" ON "${db}" RESAMPLE EVERY 10m FOR 2h BEGIN ${hourlySelect(db)} GROUP BY time(1h), * END`,
  );
}

/**
 * Recomputes the hourly roll-up for [fromHour, toHour] (epoch ms, hour starts). Used for
 * readings that arrive after the CQ has passed their hour (buffered batches, spool backlog).
 */
export async function rollUpHours(influx: InfluxHttpClient, fromHour: number, toHour: number): Promise<void> {
  await influx.query(
    `${hourlySelect(influx.database)} WHERE time >= ${fromHour}ms AND time < ${toHour + 3_600_000}ms GROUP BY time(1h), *`,
  );
}
