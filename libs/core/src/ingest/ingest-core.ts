import { MetricKey, Reading, Rejection, complianceValues, readingToLine } from '@dustwatch/telemetry';
import { SpoolFullError } from '../kernel/errors';
import { IngestMetrics } from '../kernel/metrics';
import { QuarantineStore } from '../ports/quarantine-store';
import { ReadingsStore, SpoolEntry } from '../ports/readings-store';
import { ReadingsAcceptedBus } from './readings-accepted';

/** A decoded payload, from any edge: what the core needs and nothing of the wire format. */
export interface IngestCommand {
  readonly deviceId: string;
  readonly siteId: string;
  /** The edge it came through (`mqtt`, `hj212`), for logs and events. */
  readonly edge: string;
  readonly readings: readonly Reading[];
  readonly rejections: readonly Rejection[];
  readonly receivedAt: number;
}

export interface IngestOutcome {
  readonly accepted: number;
  /** Accepted readings that were redeliveries of one already journalled: acknowledged, not stored again. */
  readonly duplicates: number;
  readonly rejections: readonly Rejection[];
}

export interface IngestCoreOptions {
  /** Metrics whose compliance-valid values are journalled with each reading (what the rule windows rebuild from). */
  readonly journalMetrics: readonly MetricKey[];
}

/**
 * The ingest use case, shared by every edge. One unit of work per payload: refused readings to
 * the quarantine, accepted ones (line protocol plus journal entry) to the spool; it resolves only
 * when both are on disk, so the edge may acknowledge afterwards, and only then publishes
 * ReadingsAccepted (presence, rules). Throws SpoolFullError at the quota, before writing anything:
 * a refused payload is redelivered and must not leave a quarantine row behind each time.
 */
export class IngestCore {
  constructor(
    private readonly readings: ReadingsStore,
    private readonly quarantine: QuarantineStore,
    private readonly metrics: IngestMetrics,
    private readonly accepted: ReadingsAcceptedBus,
    private readonly options: IngestCoreOptions,
  ) {}

  async execute(command: IngestCommand): Promise<IngestOutcome> {
    if (this.readings.overQuota) throw new SpoolFullError(`spool is at its quota of ${this.readings.quota} bytes`);
    const { deviceId, readings, rejections, receivedAt } = command;
    const quarantined = rejections.length > 0 ? this.quarantine.add(deviceId, receivedAt, rejections) : undefined;
    const samples = readings.map((r) => ({ ts: r.ts, values: complianceValues(r, this.options.journalMetrics) }));
    const entries = readings.map((r, i) => this.spoolEntry(r, command.siteId, samples[i].values));
    const committed = readings.length > 0 ? this.readings.commit(entries, receivedAt) : undefined;
    await quarantined;
    const { duplicates } = (await committed) ?? { duplicates: 0 };
    for (const r of rejections) this.metrics.readingsRejected.inc({ reason: r.reasons[0].code });
    if (readings.length > 0) {
      this.metrics.readingsAccepted.inc(readings.length);
      if (duplicates > 0) this.metrics.readingsDuplicate.inc(duplicates);
      this.accepted.publish({ deviceId, siteId: command.siteId, edge: command.edge, readings, samples, receivedAt });
    }
    return { accepted: readings.length, duplicates, rejections };
  }

  private spoolEntry(reading: Reading, siteId: string, journalValues: object): SpoolEntry {
    // A reading without its own time is keyed by its receive time, so its redelivery (received
    // later) is not recognised: contract v1 asks devices to send `ts`.
    return {
      line: readingToLine(reading, siteId),
      journal: {
        deviceId: reading.deviceId,
        ts: reading.ts,
        vals: JSON.stringify(journalValues),
      },
    };
  }
}
