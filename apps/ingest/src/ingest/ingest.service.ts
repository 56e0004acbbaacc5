import { Rejection, parseReadingsPayload, readingToLine } from '@dustwatch/telemetry';
import { SpoolFullError } from '../core/errors';
import { IngestMetrics } from '../observability/metrics';
import { DeviceStatusRepository } from './device-status.repository';
import { QuarantineRepository } from './quarantine.repository';
import { Spool } from './spool';

export interface IngestOutcome {
  readonly accepted: number;
  readonly rejections: readonly Rejection[];
}

/**
 * The ingestion use case, shared by every edge (MQTT today, HJ 212 later): validate a payload,
 * quarantine what is refused, durably spool what is accepted. It resolves only when both are on
 * disk, so the edge may acknowledge to the device afterwards. Throws SpoolFullError at the quota.
 */
export class IngestService {
  constructor(
    private readonly spool: Spool,
    private readonly quarantine: QuarantineRepository,
    private readonly status: DeviceStatusRepository,
    private readonly metrics: IngestMetrics,
    private readonly maxAgeMs: number,
  ) {}

  async ingest(deviceId: string, siteId: string, payload: Uint8Array, receivedAt: number): Promise<IngestOutcome> {
    // Checked before anything is written: a refused PUBLISH is redelivered, and must not leave
    // a quarantine row behind each time.
    if (this.spool.overQuota) throw new SpoolFullError(`spool is at its quota of ${this.spool.quota} bytes`);
    const result = parseReadingsPayload(payload, { deviceId, receivedAt, maxAgeMs: this.maxAgeMs });
    if (result.rejections.length > 0) {
      this.quarantine.add(deviceId, receivedAt, result.rejections);
      for (const r of result.rejections) this.metrics.readingsRejected.inc({ reason: r.reasons[0].code });
    }
    if (result.readings.length > 0) {
      await this.spool.append(result.readings.map((r) => readingToLine(r, siteId)), receivedAt);
      this.metrics.readingsAccepted.inc(result.readings.length);
      this.status.touch(deviceId, receivedAt);
    }
    return { accepted: result.readings.length, rejections: result.rejections };
  }
}
