import { METRICS, isMetricKey } from '@dustwatch/telemetry';
import { AlertView, EvidenceReader, EvidenceReadings } from '@dustwatch/core';
import { InfluxHttpClient } from './influx-http.client';
import { RAW_RP } from './influx-schema';

const MAX_POINTS = 5000;

/** The readings behind an alert, from InfluxDB; the device id and times travel as bound parameters. */
export class InfluxEvidenceReader implements EvidenceReader {
  constructor(private readonly influx: InfluxHttpClient) {}

  async readingsFor(alert: AlertView): Promise<EvidenceReadings> {
    const base = {
      metric: alert.metric,
      from: alert.evidence.from,
      to: alert.evidence.to ?? new Date().toISOString(),
      points: [] as [string, number][],
      truncated: false,
    };
    if (!isMetricKey(alert.metric))
      return { ...base, note: 'device-offline alerts have no readings in their window: that is the evidence' };
    if (!base.from) return { ...base, note: 'no evidence window recorded' };
    const field = METRICS[alert.metric].field; // from the catalogue, not from the request
    try {
      const [series] = await this.influx.query(
        `SELECT "${field}" FROM "${RAW_RP}"."readings" WHERE "device" = $device AND time > $from AND time <= $to AND "${field}" >= 0 LIMIT ${MAX_POINTS + 1}`,
        { device: alert.deviceId, from: base.from, to: base.to },
      );
      const values = (series[0]?.values ?? []) as [number, number][];
      return {
        ...base,
        points: values.slice(0, MAX_POINTS).map(([t, v]) => [new Date(t).toISOString(), v]),
        truncated: values.length > MAX_POINTS,
      };
    } catch (error) {
      return { ...base, note: `InfluxDB could not answer: ${(error as Error).message}` };
    }
  }
}
