import { Clock, DataNotSettledError, ReadingsStore, ReportDataSource } from '@dustwatch/core';
import { HOURLY_MEASUREMENT, READINGS_MEASUREMENT } from '@dustwatch/telemetry';
import type { MonitorHour, ReportPeriod } from '@dustwatch/reports';
import { InfluxHttpClient, InfluxSeries } from './influx-http.client';
import { CQ_LOOKBACK_MS, LONG_RP, RAW_RP, rollUpHours } from './influx-schema';
import type { InfluxWriter } from './influx-writer';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** A spool entry older than this means InfluxDB is behind (an outage, a backlog): a report now would miss readings. */
const BACKLOG_MS = 60_000;
const SETTLE_TIMEOUT_MS = 60_000;
/** Day-long queries run this many at a time: InfluxDB has the same two cores as the service. */
const PARALLEL_QUERIES = 2;

/** The columns both queries answer, in this order; `noise` is the hour's Leq. */
const COLUMNS = ['pm10', 'pm10_n', 'pm10_flagged_n', 'pm25', 'pm25_n', 'tsp', 'tsp_n', 'noise', 'noise_n'];

/** The same figures from `raw.readings`, as the CQ computes them (influx-schema.ts). */
const RAW_SELECT =
  'mean(pm10) AS pm10, count(pm10) AS pm10_n, count(pm10_flagged) AS pm10_flagged_n, mean(pm25) AS pm25, ' +
  'count(pm25) AS pm25_n, mean(tsp) AS tsp, count(tsp) AS tsp_n, 10 * log10(mean(noise_energy)) AS noise, count(noise) AS noise_n';

export interface SettleDependencies {
  readonly spool: ReadingsStore;
  readonly writer: Pick<InfluxWriter, 'rollUpPending' | 'writing' | 'lastError'>;
  readonly sleep: (ms: number) => Promise<void>;
}

/**
 * A report's hourly rows from `long.readings_1h` (one row per device and hour, with sample
 * counts), read a day at a time. The raw scan computes the same rows from every reading: it is
 * the benchmark's baseline and what the roll-up is checked against.
 */
export class InfluxReportSource implements ReportDataSource {
  constructor(
    private readonly influx: InfluxHttpClient,
    private readonly clock: Clock,
    /** The running service's spool and writer; the CLI has none and relies on the spool check it does itself. */
    private readonly service: SettleDependencies | null,
  ) {}

  async settle(period: ReportPeriod): Promise<void> {
    if (this.service) {
      const { spool, writer, sleep } = this.service;
      if (!writer.writing)
        throw new DataNotSettledError(
          `InfluxDB is not taking writes yet${writer.lastError ? ` (${writer.lastError})` : ' (schema being set up)'}`,
        );
      const start = this.clock.now();
      const oldest = await spool.oldestReceivedAt();
      if (oldest !== null && start - oldest > BACKLOG_MS)
        throw new DataNotSettledError(
          `InfluxDB is behind: ${spool.depth} accepted readings (the oldest from ${new Date(oldest).toISOString()}) are not written yet; the report would miss them`,
        );
      // Everything accepted before `start` must be written and its late hours rolled up.
      for (;;) {
        const first = await spool.oldestReceivedAt();
        if ((first === null || first >= start) && !writer.rollUpPending) break;
        if (this.clock.now() - start > SETTLE_TIMEOUT_MS)
          throw new DataNotSettledError('InfluxDB did not take the readings already accepted within 60 s');
        await sleep(100);
      }
    }
    // The continuous query passes each hour for 2 h after it; roll up the period's last hours now
    // rather than wait for it (a report just after midnight would otherwise miss the last hour).
    const tailFrom = Math.max(period.from, period.to - CQ_LOOKBACK_MS - HOUR_MS);
    await rollUpHours(this.influx, tailFrom, period.to - HOUR_MS);
  }

  monitorHours(period: ReportPeriod, progress?: (done: number, total: number) => void): Promise<MonitorHour[]> {
    return this.byDay(
      period,
      (from, to) =>
        `SELECT ${COLUMNS.join(', ')} FROM "${LONG_RP}"."${HOURLY_MEASUREMENT}" WHERE time >= ${from}ms AND time < ${to}ms GROUP BY "device"`,
      progress,
    );
  }

  monitorHoursFromRaw(period: ReportPeriod, progress?: (done: number, total: number) => void): Promise<MonitorHour[]> {
    return this.byDay(
      period,
      (from, to) =>
        `SELECT ${RAW_SELECT} FROM "${RAW_RP}"."${READINGS_MEASUREMENT}" WHERE time >= ${from}ms AND time < ${to}ms GROUP BY time(1h), "device" fill(none)`,
      progress,
    );
  }

  async firstDataAt(): Promise<number | null> {
    // A dust monitor reports PM10, a noise meter noise; raw readings cover the hours the
    // continuous query has not rolled up yet, the roll-up those past the raw retention.
    const statements = [
      `SELECT first(pm10_n) FROM "${LONG_RP}"."${HOURLY_MEASUREMENT}"`,
      `SELECT first(noise_n) FROM "${LONG_RP}"."${HOURLY_MEASUREMENT}"`,
      `SELECT first(pm10) FROM "${RAW_RP}"."${READINGS_MEASUREMENT}"`,
      `SELECT first(noise) FROM "${RAW_RP}"."${READINGS_MEASUREMENT}"`,
    ];
    const results = await this.influx.query(statements.join('; '));
    const times = results.flat().flatMap((s) => s.values.map((row) => row[0] as number));
    return times.length > 0 ? Math.min(...times) : null;
  }

  private async byDay(
    period: ReportPeriod,
    query: (from: number, to: number) => string,
    progress?: (done: number, total: number) => void,
  ): Promise<MonitorHour[]> {
    const days: number[] = [];
    for (let t = period.from; t < period.to; t += DAY_MS) days.push(t);
    const out: MonitorHour[][] = new Array<MonitorHour[]>(days.length);
    let next = 0;
    let done = 0;
    const worker = async (): Promise<void> => {
      while (next < days.length) {
        const i = next++;
        const from = days[i];
        const [series] = await this.influx.query(query(from, Math.min(period.to, from + DAY_MS)));
        out[i] = (series ?? []).flatMap(rowsOf);
        progress?.(++done, days.length);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL_QUERIES }, worker));
    return out.flat();
  }
}

/** Rows of one device's series; an hour with no particle or noise sample at all is not a row (the raw scan's fill(none) agrees). */
function rowsOf(series: InfluxSeries): MonitorHour[] {
  const deviceId = series.tags?.['device'];
  if (!deviceId) return [];
  const at = COLUMNS.map((c) => series.columns.indexOf(c));
  const num = (row: unknown[], k: number): number | null => {
    const v = at[k] < 0 ? null : row[at[k]];
    return typeof v === 'number' ? v : null;
  };
  const count = (row: unknown[], k: number): number => num(row, k) ?? 0;
  const rows: MonitorHour[] = [];
  for (const row of series.values) {
    const h: MonitorHour = {
      deviceId,
      hourStart: row[0] as number,
      received: count(row, 1) + count(row, 2),
      pm10: num(row, 0),
      pm10N: count(row, 1),
      pm25: num(row, 3),
      pm25N: count(row, 4),
      tsp: num(row, 5),
      tspN: count(row, 6),
      noise: num(row, 7),
      noiseN: count(row, 8),
    };
    if (h.received + h.pm25N + h.tspN + h.noiseN > 0) rows.push(h);
  }
  return rows;
}
