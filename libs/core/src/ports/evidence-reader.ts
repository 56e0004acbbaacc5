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
