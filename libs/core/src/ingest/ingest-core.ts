import {
  DeviceAggregate,
  MetricKey,
  Reading,
  ReadingWarning,
  Rejection,
  aggregateToLine,
  complianceValues,
  readingToLine,
} from '@dustwatch/telemetry';
import { SpoolFullError } from '../kernel/errors';
import { IngestMetrics } from '../kernel/metrics';
import { EvidenceLog } from '../ports/evidence-log';
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
  readonly warnings: readonly ReadingWarning[];
  /** Hour or day values the device computed itself (HJ 212): stored beside the readings, never judged. */
  readonly aggregates?: readonly DeviceAggregate[];
  readonly receivedAt: number;
  /**
   * Whose hourly quarantine cap the refusals use: the device's by default. Frames from nobody
   * authenticated share one (UNAUTHENTICATED_QUARANTINE), so 1,300 source addresses cannot keep
   * 1,300 caps' worth and push real devices' refusals out of the quota (issue 25).
   */
  readonly quarantineBudget?: string;
  /**
   * The payload or frame as received (HJ 212: password masked), for the evidence chain; chained
   * when the command has readings or device aggregates to store.
   */
  readonly raw?: Uint8Array;
}

/** The one quarantine budget every unauthenticated sender shares. */
export const UNAUTHENTICATED_QUARANTINE = 'unauthenticated';

export interface IngestOutcome {
  readonly accepted: number;
  /** Accepted readings that were redeliveries of one already journalled: acknowledged, not stored again. */
  readonly duplicates: number;
  readonly rejections: readonly Rejection[];
  readonly warnings: readonly ReadingWarning[];
}

export interface IngestCoreOptions {
  /** Metrics whose compliance-valid values are journalled with each reading (what the rule windows rebuild from). */
  readonly journalMetrics: readonly MetricKey[];
  /** Refused readings whose raw text is kept, per device and clock hour; the rest are counted only. */
  readonly quarantinePerDeviceHour: number;
}

/**
 * The quarantine's per-device rate cap: a device that floods garbage keeps its first refusals of
 * each hour (enough to diagnose it), not 37,000 rows a second. One map entry per device that
 * sent refused readings this hour; only authenticated devices get here.
 */
export class QuarantineBudget {
  private hour = -1;
  private readonly kept = new Map<string, number>();

  constructor(private readonly perDeviceHour: number) {}

  /** How many of `count` refused readings received now may be kept. */
  take(deviceId: string, receivedAt: number, count: number): number {
    const hour = Math.floor(receivedAt / 3_600_000);
    if (hour !== this.hour) {
      this.hour = hour;
      this.kept.clear();
    }
    const used = this.kept.get(deviceId) ?? 0;
    const allowed = Math.max(0, Math.min(count, this.perDeviceHour - used));
    if (allowed > 0) this.kept.set(deviceId, used + allowed);
    return allowed;
  }
}

/**
 * The ingest use case, shared by every edge. One unit of work per payload: refused readings to
 * the quarantine (within the device's hourly cap), accepted ones (line protocol plus journal entry) to the spool; it resolves only
 * when both are on disk, so the edge may acknowledge afterwards, and only then publishes
 * ReadingsAccepted (presence, rules). Throws SpoolFullError at the quota, before writing anything:
 * a refused payload is redelivered and must not leave a quarantine row behind each time.
 */
export class IngestCore {
  private readonly quarantineBudget: QuarantineBudget;

  constructor(
    private readonly readings: ReadingsStore,
    private readonly quarantine: QuarantineStore,
    private readonly metrics: IngestMetrics,
    private readonly accepted: ReadingsAcceptedBus,
    private readonly evidence: EvidenceLog | null,
    private readonly options: IngestCoreOptions,
  ) {
    this.quarantineBudget = new QuarantineBudget(options.quarantinePerDeviceHour);
  }

  async execute(command: IngestCommand): Promise<IngestOutcome> {
    if (this.readings.overQuota) throw new SpoolFullError(`spool is at its quota of ${this.readings.quota} bytes`);
    const { deviceId, readings, rejections, warnings, receivedAt } = command;
    const kept =
      rejections.length > 0
        ? this.quarantineBudget.take(command.quarantineBudget ?? deviceId, receivedAt, rejections.length)
        : 0;
    const quarantined = kept > 0 ? this.quarantine.add(deviceId, receivedAt, rejections.slice(0, kept)) : undefined;
    const samples = readings.map((r) => ({ ts: r.ts, values: complianceValues(r, this.options.journalMetrics) }));
    const entries = readings.map((r, i) => this.spoolEntry(r, command.siteId, samples[i].values));
    for (const a of command.aggregates ?? []) {
      const line = aggregateToLine(deviceId, command.siteId, a.period, a.ts, a.values);
      if (line !== null) entries.push({ line, journal: null });
    }
    // The receipt is chained first: its group commit is scheduled ahead of the spool's, so a
    // payload whose readings are on disk has its receipt on disk as well.
    const chained =
      entries.length > 0 && command.raw && this.evidence
        ? this.evidence.append(deviceId, command.edge, receivedAt, command.raw)
        : undefined;
    const committed = entries.length > 0 ? this.readings.commit(entries, receivedAt) : undefined;
    await quarantined;
    if (chained) {
      await chained;
      this.metrics.evidenceChained.inc();
    }
    const { duplicates } = (await committed) ?? { duplicates: 0 };
    for (const r of rejections) this.metrics.readingsRejected.inc({ reason: r.reasons[0].code });
    if (kept < rejections.length) this.metrics.quarantineNotKept.inc(rejections.length - kept);
    for (const w of warnings) this.metrics.readingsWarned.inc({ reason: w.code });
    if (readings.length > 0) {
      this.metrics.readingsAccepted.inc(readings.length);
      if (duplicates > 0) this.metrics.readingsDuplicate.inc(duplicates);
      this.accepted.publish({ deviceId, siteId: command.siteId, edge: command.edge, readings, samples, receivedAt });
    }
    return { accepted: readings.length, duplicates, rejections, warnings };
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
