import { PERIOD_KINDS, PeriodKind, lastClosedPeriod, reportSummary } from '@dustwatch/reports';
import { ReportSummaryChannel } from '../alerts/channel';
import { Clock } from '../kernel/clock';
import { ContextLogger } from '../kernel/logger';
import { IngestMetrics } from '../kernel/metrics';
import { Scheduler, TimerHandle } from '../kernel/scheduler';
import { ReportStore } from '../ports/report-store';
import { ReportService } from './report.service';

export interface ReportScheduleOptions {
  /** Local hour (Asia/Shanghai) the reports are due: 8 → the daily report at 08:00 for the day before. */
  readonly hour: number;
  /** Where the full report is: `${publicUrl}/api/reports/{kind}/{period}?format=html`. */
  readonly publicUrl: string;
  readonly tickMs: number;
}

const HOUR_MS = 3_600_000;

/**
 * The bureau's rhythm: at the report hour, the daily report for the day before; on Mondays the
 * weekly one; on the 1st the monthly one. Each is stored once, and its summary goes out through
 * every channel that carries reports until each has taken it (state in the report store, so a
 * restart neither loses nor repeats a summary). A service that was down at 08:00 catches up on
 * the latest closed period of each kind when it starts; older gaps are left to an admin.
 */
export class ReportSchedule {
  private timer: TimerHandle | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly reports: ReportService,
    private readonly store: ReportStore,
    private readonly channels: readonly ReportSummaryChannel[],
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
    private readonly logger: ContextLogger,
    private readonly metrics: IngestMetrics,
    private readonly options: ReportScheduleOptions,
  ) {}

  start(): void {
    this.timer = this.scheduler.every(this.options.tickMs, () => void this.tick());
    // The catch-up pass a few seconds after start, once the writer has set InfluxDB's schema up.
    void this.scheduler.sleep(5000).then(() => this.timer && this.tick());
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    await this.running;
  }

  /** The period of a kind whose report is due at `now`: the last one closed before the report hour of today. */
  duePeriod(kind: PeriodKind, now = this.clock.now()) {
    return lastClosedPeriod(kind, now - this.options.hour * HOUR_MS);
  }

  /** One pass (overlapping calls share it). */
  tick(): Promise<void> {
    this.running ??= this.pass().finally(() => (this.running = null));
    return this.running;
  }

  private async pass(): Promise<void> {
    for (const kind of PERIOD_KINDS) {
      const period = this.duePeriod(kind);
      try {
        const stored = await this.reports.ensureStored(period, 'schedule');
        const versions = (await this.store.list(kind)).filter((m) => m.period === period.id);
        if (this.channels.length === 0 || versions.some((m) => m.summarySentAt !== null)) continue;
        const summary = reportSummary(
          stored.report,
          `${this.options.publicUrl}/api/reports/${kind}/${period.id}?format=html`,
        );
        const deliveryId = `report-${kind}-${period.id}-v${stored.meta.version}`;
        // All channels, then mark: a channel that fails is retried with the others on the next tick
        // (a receiver drops the repeat by its delivery id).
        await Promise.all(this.channels.map((c) => c.deliverReport(deliveryId, summary)));
        await this.store.markSummarySent(kind, period.id, stored.meta.version, this.clock.now());
        this.metrics.reportSummariesSent.inc({ kind });
        this.logger.log('report summary sent', { kind, period: period.id, channels: this.channels.map((c) => c.name) });
      } catch (error) {
        this.logger.warn('scheduled report not done yet; retrying on the next tick', {
          kind,
          period: period.id,
          error: (error as Error).message,
        });
      }
    }
  }
}
