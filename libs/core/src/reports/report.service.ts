import { RuleSet } from '@dustwatch/rules';
import {
  ComplianceReport,
  PeriodKind,
  ReportMonitor,
  ReportPeriod,
  computeReport,
  parsePeriod,
  periodContaining,
  previousPeriod,
  reportSettingsFrom,
} from '@dustwatch/reports';
import { Clock } from '../kernel/clock';
import { ConflictError, NotFoundError } from '../kernel/errors';
import { ContextLogger } from '../kernel/logger';
import { IngestMetrics } from '../kernel/metrics';
import { AlertStore } from '../ports/alert-store';
import { RegistryStore } from '../ports/registry-store';
import { ReportDataSource, ReportStore, ReportView, StoredReport, StoredReportMeta } from '../ports/report-store';

export type ReportProgress = (step: string, done: number, total: number) => void;

/** How long the installation's first reading is taken as known before it is looked up again. */
const FIRST_DATA_TTL_MS = 10 * 60_000;

/**
 * Compliance reports: computed once per closed period and kept (a bulletin sent out does not
 * change later); a recomputation is an explicit act that adds a version. One computation runs
 * at a time — a monthly report reads a month of roll-ups — and concurrent requests for the same
 * report share it.
 */
export class ReportService {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly inFlight = new Map<string, Promise<StoredReport>>();

  /** The installation's first reading, looked up at most every FIRST_DATA_TTL_MS (a backfill may move it earlier). */
  private firstData: { at: number | null; checkedAt: number } | null = null;

  constructor(
    private readonly store: ReportStore,
    private readonly source: ReportDataSource,
    private readonly alerts: AlertStore,
    private readonly registry: RegistryStore,
    private readonly ruleSet: RuleSet,
    private readonly clock: Clock,
    private readonly logger: ContextLogger,
    private readonly metrics: IngestMetrics | null,
    /** Hears the steps of every computation (the CLI's progress line). */
    private readonly progress?: ReportProgress,
  ) {}

  /** A closed period, or a clear refusal (PeriodError for a malformed id, ConflictError for a period not over). */
  closedPeriod(kind: PeriodKind, id: string): ReportPeriod {
    const period = parsePeriod(kind, id);
    if (period.to > this.clock.now())
      throw new ConflictError(
        `the ${kind} period ${id} is not over yet (it ends ${new Date(period.to).toISOString()}); reports cover closed periods`,
      );
    return period;
  }

  /**
   * The stored report (a given version, or the latest), computing and storing it first if there
   * is none. `byOperator`: the CLI's operator may have any period computed; a request over HTTP
   * only one since the installation's first reading.
   */
  async get(kind: PeriodKind, id: string, version?: number, byOperator = false): Promise<ReportView> {
    const period = this.closedPeriod(kind, id);
    let stored: StoredReport | undefined;
    if (version !== undefined) {
      stored = await this.store.version(kind, id, version);
      if (!stored) throw new NotFoundError(`no version ${version} of the ${kind} report ${id}`);
    } else {
      stored = await this.store.latest(kind, id);
      if (!stored) {
        if (!byOperator) await this.refuseBeforeFirstData(period);
        stored = await this.computeOnce(period, 'first request');
      }
    }
    return this.view(stored);
  }

  /**
   * A report is computed on request only for a period that ends after the installation's first
   * reading: a viewer could make the service compute and store one for every day back to 1970
   * (300 requests stored 300 reports, issue 22). The schedule's own reports are not refused.
   */
  private async refuseBeforeFirstData(period: ReportPeriod): Promise<void> {
    const now = this.clock.now();
    if (!this.firstData || this.firstData.at === null || now - this.firstData.checkedAt > FIRST_DATA_TTL_MS)
      this.firstData = { at: await this.source.firstDataAt(), checkedAt: now };
    const first = this.firstData.at;
    if (first === null || period.to <= first)
      throw new NotFoundError(
        first === null
          ? `no ${period.kind} report for ${period.id}: this installation has no readings yet`
          : `no ${period.kind} report for ${period.id}: this installation's first reading is from ${new Date(first).toISOString()}`,
      );
  }

  /** Computes a new version, keeping the old ones. */
  async recompute(kind: PeriodKind, id: string, by: string): Promise<ReportView> {
    const period = this.closedPeriod(kind, id);
    return this.view(await this.enqueue(() => this.computeAndSave(period, `recomputed by ${by}`)));
  }

  async list(kind?: PeriodKind): Promise<(StoredReportMeta & { revisedDataAvailable: boolean })[]> {
    const metas = await this.store.list(kind);
    return Promise.all(
      metas.map(async (m) => {
        const p = parsePeriod(m.kind, m.period);
        return { ...m, revisedDataAvailable: await this.store.revisedSince(p.from, p.to, m.dataAsOf) };
      }),
    );
  }

  /**
   * Computes a report without storing it (the CLI's `--no-store`, the benchmark). `progress`
   * hears each step; the previous period's ranks come from its stored report, or are computed.
   */
  async compute(period: ReportPeriod, progress?: ReportProgress, withPrevious = true): Promise<ComplianceReport> {
    await this.source.settle(period);
    const computedAt = this.clock.now();
    const [monitors, hours, alerts] = await Promise.all([
      this.monitors(),
      this.source.monitorHours(period, (done, total) => progress?.('hourly roll-ups', done, total)),
      this.alerts.forReport(period.from, period.to),
    ]);
    let previousRanks = new Map<string, number>();
    if (withPrevious) {
      const before = previousPeriod(period);
      const stored = await this.store.latest(before.kind, before.id);
      const ranking = stored ? stored.report.ranking : (await this.compute(before, undefined, false)).ranking;
      previousRanks = new Map(ranking.map((r) => [r.siteId, r.rank]));
    }
    progress?.('figures', 0, 1);
    const report = computeReport({
      period,
      monitors,
      hours,
      alerts,
      settings: reportSettingsFrom(this.ruleSet),
      previousRanks,
      computedAt,
    });
    progress?.('figures', 1, 1);
    return report;
  }

  /** For the service's own schedule: the report of the last closed period of a kind, if not stored yet. */
  async ensureStored(period: ReportPeriod, reason: string): Promise<StoredReport> {
    return (await this.store.latest(period.kind, period.id)) ?? this.computeOnce(period, reason);
  }

  /** Whether `t` lies in a period that may have a stored report (before today): late readings there revise it. */
  isReportable(t: number): boolean {
    const now = this.clock.now();
    if (now >= this.today.to || now < this.today.from) this.today = periodContaining('daily', now); // once a day
    return t < this.today.from;
  }
  private today: ReportPeriod = { kind: 'daily', id: '', from: 0, to: 0 };

  private async monitors(): Promise<ReportMonitor[]> {
    const [sites, devices] = await Promise.all([this.registry.listSites(), this.registry.listDevices()]);
    const siteById = new Map(sites.map((s) => [s.id, s]));
    return devices.flatMap((d) => {
      const site = siteById.get(d.siteId);
      return site
        ? [{ deviceId: d.id, siteId: site.id, siteName: site.name, district: site.district, kind: d.kind }]
        : [];
    });
  }

  private computeOnce(period: ReportPeriod, reason: string): Promise<StoredReport> {
    const key = `${period.kind}/${period.id}`;
    let running = this.inFlight.get(key);
    if (!running) {
      running = this.enqueue(async () => {
        // Another request may have stored it while this one waited in the queue.
        return (await this.store.latest(period.kind, period.id)) ?? this.computeAndSave(period, reason);
      }).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, running);
    }
    return running;
  }

  private async computeAndSave(period: ReportPeriod, reason: string): Promise<StoredReport> {
    const started = this.clock.now();
    const report = await this.compute(period, this.progress);
    // Readings accepted before `started` were settled into the roll-up; later ones revise the report.
    const meta = await this.store.save(report, started, reason);
    this.metrics?.reportSeconds.observe({ kind: period.kind }, (this.clock.now() - started) / 1000);
    this.logger.log('compliance report computed', {
      kind: period.kind,
      period: period.id,
      version: meta.version,
      reason,
      sites: report.sites.length,
      ms: this.clock.now() - started,
    });
    return { meta, report };
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async view(stored: StoredReport): Promise<ReportView> {
    const { report, meta } = stored;
    const [revisedDataAvailable, versions] = await Promise.all([
      this.store.revisedSince(report.from, report.to, meta.dataAsOf),
      this.store.list(meta.kind).then((all) => all.filter((m) => m.period === meta.period).length),
    ]);
    return { ...stored, revisedDataAvailable, versions };
  }
}

/**
 * Notes the hours of readings accepted for days that may already have a report (before today),
 * so a stored report can say "revised data available". Live readings cost one comparison.
 */
export function recordRevisions(
  service: ReportService,
  store: ReportStore,
  logger: ContextLogger,
): (event: { samples: readonly { ts: number }[]; receivedAt: number }) => void {
  return (event) => {
    let hours: Set<number> | null = null;
    for (const s of event.samples)
      if (service.isReportable(s.ts)) (hours ??= new Set()).add(Math.floor(s.ts / 3_600_000) * 3_600_000);
    if (hours)
      store
        .noteRevisedHours([...hours], event.receivedAt)
        .catch((error: unknown) =>
          logger.warn('could not note revised report hours', { error: (error as Error).message }),
        );
  };
}
