import { RuleSample } from '@dustwatch/rules';
import { Reading, Rejection, parseReadingsPayload, readingToLine } from '@dustwatch/telemetry';
import { SpoolFullError } from '../core/errors';
import { IngestMetrics } from '../observability/metrics';
import { DeviceStatusRepository } from './device-status.repository';
import { QuarantineRepository } from './quarantine.repository';
import { Spool, SpooledSample } from './spool';

/** What the ingest path hands the rule engine; implemented by RuleRunner. */
export interface AcceptedReadingsSink {
  samplesOf(readings: readonly Reading[]): RuleSample[];
  toSpooled(deviceId: string, samples: readonly RuleSample[]): SpooledSample[];
  accept(deviceId: string, samples: readonly RuleSample[], receivedAt: number): void;
}

export interface IngestOutcome {
  readonly accepted: number;
  readonly rejections: readonly Rejection[];
}

/**
 * The ingestion use case, shared by every edge (MQTT today, HJ 212 later): validate a payload,
 * quarantine what is refused, durably spool what is accepted. It resolves only when both are on
 * disk, so the edge may acknowledge to the device afterwards. Throws SpoolFullError at the quota.
 * Accepted readings then go to the rule engine, before the edge acknowledges: an alert's latency
 * starts at the reading's arrival, not at its InfluxDB write.
 */
export class IngestService {
  constructor(
    private readonly spool: Spool,
    private readonly quarantine: QuarantineRepository,
    private readonly status: DeviceStatusRepository,
    private readonly metrics: IngestMetrics,
    private readonly rules: AcceptedReadingsSink,
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
      const samples = this.rules.samplesOf(result.readings);
      await this.spool.append(result.readings.map((r) => readingToLine(r, siteId)), receivedAt, this.rules.toSpooled(deviceId, samples));
      this.metrics.readingsAccepted.inc(result.readings.length);
      this.status.touch(deviceId, receivedAt);
      this.rules.accept(deviceId, samples, receivedAt);
    }
    return { accepted: result.readings.length, rejections: result.rejections };
  }
}
