import { AlertView } from '../alerts/alert.model';

export interface EvidenceReadings {
  metric: string;
  from: string | null;
  to: string | null;
  /** [ISO time, value] of the device's valid readings in the evidence window. */
  points: [string, number][];
  truncated: boolean;
  /** Why there are no points, when there are none by design or the time-series database could not answer. */
  note?: string;
}

/** The readings behind an alert, from the time-series database. */
export interface EvidenceReader {
  readingsFor(alert: AlertView): Promise<EvidenceReadings>;
}

/** One hour of one monitor from the hourly roll-up (labelled by the hour's start); `n` valid samples. */
export interface HourValue {
  readonly hourStart: number;
  readonly value: number | null;
  readonly n: number;
}

export type SeriesMetric = 'pm10' | 'pm25' | 'tsp' | 'noise';

/** Recent values for the inspectors' fleet view and site pages, from the time-series database. */
export interface SeriesReader {
  /** Each device's mean of a metric since `since` (valid values; noise as Leq). */
  recentMeans(metric: SeriesMetric, since: number): Promise<Map<string, number>>;
  /** Hourly values of these devices over [from, to), per device. */
  hourly(
    deviceIds: readonly string[],
    metric: SeriesMetric,
    from: number,
    to: number,
  ): Promise<Map<string, HourValue[]>>;
}
