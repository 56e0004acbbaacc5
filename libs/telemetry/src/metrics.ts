/**
 * The metric catalogue of contract v1: JSON key, InfluxDB field, unit, HJ 212-2017 code and
 * the plausible range outside which a value is refused (see docs/reading-contract-v1.md).
 * Ranges follow the project's domain reference; PM is deliberately not capped at 1,000 µg/m³
 * because sand storms exceed it (Beijing, March 2021: PM10 > 8,000).
 */
export interface MetricSpec {
  readonly key: MetricKey;
  readonly field: string;
  readonly label: string;
  readonly unit: string;
  readonly hj212Code: string;
  readonly min: number;
  readonly max: number;
}

export const METRIC_KEYS = [
  'pm25',
  'pm10',
  'tsp',
  'noise',
  'windSpeed',
  'windDir',
  'temperature',
  'humidity',
  'pressure',
] as const;
export type MetricKey = (typeof METRIC_KEYS)[number];

export const METRICS: Readonly<Record<MetricKey, MetricSpec>> = {
  pm25: { key: 'pm25', field: 'pm25', label: 'PM2.5', unit: 'µg/m³', hj212Code: 'a34004', min: 0, max: 20_000 },
  pm10: { key: 'pm10', field: 'pm10', label: 'PM10', unit: 'µg/m³', hj212Code: 'a34002', min: 0, max: 20_000 },
  tsp: { key: 'tsp', field: 'tsp', label: 'TSP', unit: 'µg/m³', hj212Code: 'a34001', min: 0, max: 50_000 },
  noise: { key: 'noise', field: 'noise', label: 'Noise LA', unit: 'dB(A)', hj212Code: 'LA', min: 20, max: 140 },
  windSpeed: {
    key: 'windSpeed',
    field: 'wind_speed',
    label: 'Wind speed',
    unit: 'm/s',
    hj212Code: 'a01007',
    min: 0,
    max: 75,
  },
  windDir: {
    key: 'windDir',
    field: 'wind_dir',
    label: 'Wind direction',
    unit: '°',
    hj212Code: 'a01008',
    min: 0,
    max: 360,
  },
  temperature: {
    key: 'temperature',
    field: 'temperature',
    label: 'Temperature',
    unit: '°C',
    hj212Code: 'a01001',
    min: -50,
    max: 60,
  },
  humidity: {
    key: 'humidity',
    field: 'humidity',
    label: 'Relative humidity',
    unit: '%',
    hj212Code: 'a01002',
    min: 0,
    max: 100,
  },
  // Contract v1 is kPa. Devices that send hPa (500-1,100) are refused as out of range:
  // unit and scale belong to the device model's configuration, not to guesswork.
  pressure: {
    key: 'pressure',
    field: 'pressure',
    label: 'Air pressure',
    unit: 'kPa',
    hj212Code: 'a01006',
    min: 50,
    max: 110,
  },
};

export function isMetricKey(value: string): value is MetricKey {
  return (METRIC_KEYS as readonly string[]).includes(value);
}

/**
 * HJ 212-2017 data flags. Only N (or no flag) counts toward compliance averages;
 * the others are stored but kept apart (see line-protocol.ts).
 */
export const DATA_FLAGS = ['N', 'F', 'M', 'S', 'D', 'C', 'T', 'B'] as const;
export type DataFlag = (typeof DATA_FLAGS)[number];

export function isDataFlag(value: unknown): value is DataFlag {
  return typeof value === 'string' && (DATA_FLAGS as readonly string[]).includes(value);
}
