import { DeviceBroker } from '../broker/device-broker';
import { Spool } from '../ingest/spool';
import { InfluxWriter } from '../ingest/influx-writer';
import { InfluxHttpClient } from '../influx/influx-http.client';
import { IngestMetrics } from './metrics';
import { Clock } from '../core/tokens';

export interface HealthReport {
  status: 'ok' | 'degraded';
  broker: { listening: boolean; port: number | null; connectedDevices: number };
  spool: { writable: boolean; depth: number; bytes: number; quotaBytes: number; overQuota: boolean; oldestAgeSeconds: number; deadLines: number };
  influx: { reachable: boolean; writing: boolean; lastError: string | null; lastSuccessAt: string | null };
}

/** Gathers health and refreshes the gauges that are derived from state, not from events. */
export class HealthService {
  constructor(
    private readonly broker: DeviceBroker,
    private readonly spool: Spool,
    private readonly writer: InfluxWriter,
    private readonly influx: InfluxHttpClient,
    private readonly metrics: IngestMetrics,
    private readonly clock: Clock,
  ) {}

  refreshGauges(): { oldestAgeSeconds: number; deadLines: number } {
    const oldest = this.spool.oldestReceivedAt();
    const oldestAgeSeconds = oldest === null ? 0 : Math.max(0, (this.clock.now() - oldest) / 1000);
    const deadLines = this.spool.deadCount();
    this.metrics.spoolDepth.set(this.spool.depth);
    this.metrics.spoolBytes.set(this.spool.bytes);
    this.metrics.spoolQuotaBytes.set(this.spool.quota);
    this.metrics.spoolOverQuota.set(this.spool.overQuota ? 1 : 0);
    this.metrics.spoolOldestAge.set(oldestAgeSeconds);
    this.metrics.spoolDead.set(deadLines);
    this.metrics.connectedDevices.set(this.broker.connectedCount);
    return { oldestAgeSeconds, deadLines };
  }

  async report(): Promise<HealthReport> {
    const { oldestAgeSeconds, deadLines } = this.refreshGauges();
    const reachable = await this.influx.ping();
    const writable = this.spool.writable();
    const report: HealthReport = {
      status: 'ok',
      broker: { listening: this.broker.listening, port: this.broker.port, connectedDevices: this.broker.connectedCount },
      spool: { writable, depth: this.spool.depth, bytes: this.spool.bytes, quotaBytes: this.spool.quota, overQuota: this.spool.overQuota, oldestAgeSeconds, deadLines },
      influx: { reachable, writing: this.writer.healthy, lastError: this.writer.lastError, lastSuccessAt: this.writer.lastSuccessAt === null ? null : new Date(this.writer.lastSuccessAt).toISOString() },
    };
    const ok = report.broker.listening && writable && !report.spool.overQuota && reachable && this.writer.healthy;
    report.status = ok ? 'ok' : 'degraded';
    return report;
  }
}
