import { HourValue, SeriesMetric, SeriesReader } from '@dustwatch/core';
import { HOURLY_MEASUREMENT, READINGS_MEASUREMENT, isValidId } from '@dustwatch/telemetry';
import { InfluxHttpClient } from './influx-http.client';
import { LONG_RP, RAW_RP } from './influx-schema';

/** The aggregate per metric: the noise level is an energy average (GB 12523), never a mean of dB. */
const RECENT: Record<SeriesMetric, string> = {
  pm10: 'mean("pm10")',
  pm25: 'mean("pm25")',
  tsp: 'mean("tsp")',
  noise: '10 * log10(mean("noise_energy"))',
};

/** Device ids travel as bound parameters (`$d0`, `$d1`, …), never inside the query text. */
export class InfluxSeriesReader implements SeriesReader {
  constructor(private readonly influx: InfluxHttpClient) {}

  async recentMeans(metric: SeriesMetric, since: number): Promise<Map<string, number>> {
    const [series] = await this.influx.query(
      `SELECT ${RECENT[metric]} AS v FROM "${RAW_RP}"."${READINGS_MEASUREMENT}" WHERE time > ${Math.trunc(since)}ms GROUP BY "device"`,
    );
    const out = new Map<string, number>();
    for (const s of series ?? []) {
      const v = s.values[0]?.[1];
      if (s.tags?.['device'] && typeof v === 'number') out.set(s.tags['device'], v);
    }
    return out;
  }

  async hourly(
    deviceIds: readonly string[],
    metric: SeriesMetric,
    from: number,
    to: number,
  ): Promise<Map<string, HourValue[]>> {
    const ids = deviceIds.filter(isValidId);
    const out = new Map<string, HourValue[]>(ids.map((id) => [id, []]));
    if (ids.length === 0) return out;
    const bind = Object.fromEntries(ids.map((id, i) => [`d${i}`, id]));
    const [series] = await this.influx.query(
      `SELECT "${metric}", "${metric}_n" FROM "${LONG_RP}"."${HOURLY_MEASUREMENT}" WHERE (${ids.map((_, i) => `"device" = $d${i}`).join(' OR ')}) AND time >= ${Math.trunc(from)}ms AND time < ${Math.trunc(to)}ms GROUP BY "device"`,
      bind,
    );
    for (const s of series ?? []) {
      const list = out.get(s.tags?.['device'] ?? '');
      if (!list) continue;
      for (const [t, v, n] of s.values)
        list.push({
          hourStart: t as number,
          value: typeof v === 'number' ? v : null,
          n: typeof n === 'number' ? n : 0,
        });
    }
    return out;
  }
}
