import { Clock } from '../kernel/clock';
import { IngestMetrics } from '../kernel/metrics';
import { DeviceEdge } from '../ports/device-edge';
import { QuarantineStore } from '../ports/quarantine-store';
import { ReadingsStore } from '../ports/readings-store';
import { StoreSet } from '../ports/store-set';

/** The time-series database as health sees it: reachable, and is the writer keeping up. */
export interface TimeSeriesHealth {
  ping(): Promise<boolean>;
  readonly writing: boolean;
  readonly lastError: string | null;
  readonly lastSuccessAt: number | null;
  /** Late readings' hours wait for their hourly roll-up (reports wait for it too). */
  readonly rollUpPending: boolean;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  broker: { listening: boolean; port: number | null; connectedDevices: number };
  spool: {
    writable: boolean;
    depth: number;
    bytes: number;
    quotaBytes: number;
    overQuota: boolean;
    oldestAgeSeconds: number;
    deadLines: number;
  };
  quarantine: { bytes: number; quotaBytes: number };
  /** The shared stores' database (SQLite, or PostgreSQL): without it no alert is committed. */
  database: { engine: StoreSet['engine']; reachable: boolean; error: string | null };
  influx: {
    reachable: boolean;
    writing: boolean;
    lastError: string | null;
    lastSuccessAt: string | null;
    rollUpPending: boolean;
  };
}

/**
 * Gathers health and refreshes the gauges that are derived from state, not from events.
 * Hand-written rather than @nestjs/terminus: the report's shape (broker, spool, influx) is a
 * documented contract that the compose healthcheck, the benches and operators read, and the
 * checks are three reads of state this service already holds.
 */
export class HealthService {
  constructor(
    private readonly edges: readonly DeviceEdge[],
    private readonly spool: ReadingsStore,
    private readonly quarantine: QuarantineStore,
    private readonly timeSeries: TimeSeriesHealth,
    private readonly metrics: IngestMetrics,
    private readonly clock: Clock,
    private readonly database: Pick<StoreSet, 'engine' | 'ping'>,
  ) {}

  async refreshGauges(): Promise<{ oldestAgeSeconds: number; deadLines: number }> {
    const oldest = await this.spool.oldestReceivedAt();
    const oldestAgeSeconds = oldest === null ? 0 : Math.max(0, (this.clock.now() - oldest) / 1000);
    const deadLines = await this.spool.deadCount();
    this.metrics.spoolDepth.set(this.spool.depth);
    this.metrics.spoolBytes.set(this.spool.bytes);
    this.metrics.spoolQuotaBytes.set(this.spool.quota);
    this.metrics.spoolOverQuota.set(this.spool.overQuota ? 1 : 0);
    this.metrics.spoolOldestAge.set(oldestAgeSeconds);
    this.metrics.spoolDead.set(deadLines);
    this.metrics.quarantineBytes.set(this.quarantine.bytes);
    this.metrics.quarantineQuotaBytes.set(this.quarantine.quota);
    this.metrics.connectedDevices.set(this.edges.reduce((n, e) => n + e.connectedCount, 0));
    return { oldestAgeSeconds, deadLines };
  }

  async report(): Promise<HealthReport> {
    const { oldestAgeSeconds, deadLines } = await this.refreshGauges();
    const reachable = await this.timeSeries.ping();
    const databaseError = await this.database.ping().then(
      () => null,
      (error: Error) => error.message,
    );
    const writable = await this.spool.writable();
    const broker = this.edges.find((e) => e.name === 'mqtt') ?? this.edges[0];
    const listening = this.edges.length > 0 && this.edges.every((e) => e.listening);
    const lastSuccessAt = this.timeSeries.lastSuccessAt;
    const report: HealthReport = {
      status: 'ok',
      broker: {
        listening: broker?.listening ?? false,
        port: broker?.port ?? null,
        connectedDevices: broker?.connectedCount ?? 0,
      },
      spool: {
        writable,
        depth: this.spool.depth,
        bytes: this.spool.bytes,
        quotaBytes: this.spool.quota,
        overQuota: this.spool.overQuota,
        oldestAgeSeconds,
        deadLines,
      },
      quarantine: { bytes: this.quarantine.bytes, quotaBytes: this.quarantine.quota },
      database: { engine: this.database.engine, reachable: databaseError === null, error: databaseError },
      influx: {
        reachable,
        writing: this.timeSeries.writing,
        lastError: this.timeSeries.lastError,
        lastSuccessAt: lastSuccessAt === null ? null : new Date(lastSuccessAt).toISOString(),
        rollUpPending: this.timeSeries.rollUpPending,
      },
    };
    report.status =
      listening && writable && !this.spool.overQuota && reachable && this.timeSeries.writing && databaseError === null
        ? 'ok'
        : 'degraded';
    return report;
  }
}
