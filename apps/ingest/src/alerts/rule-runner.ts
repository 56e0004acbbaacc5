import { EngineOutput, RuleEngine, RuleSample, RuleSet } from '@dustwatch/rules';
import { Reading, countsForCompliance } from '@dustwatch/telemetry';
import { Clock } from '../core/tokens';
import { DeviceStatusRepository } from '../ingest/device-status.repository';
import { Spool, SpooledSample } from '../ingest/spool';
import { ContextLogger } from '../observability/json-logger';
import { IngestMetrics } from '../observability/metrics';
import { AlertRepository } from './alert.repository';
import { AlertService } from './alert.service';
import { RegistryDirectory } from './registry-directory';

/** Delivered outbox rows are kept this long (for GET /api/notifications), then pruned. */
const DELIVERED_KEPT_MS = 7 * 86_400_000;

export interface RuleRunnerOptions {
  /** How often the offline timer looks (ms). */
  readonly tickMs: number;
  /** Re-notify open, unacknowledged alerts this often (minutes); 0 = never. */
  readonly renotifyMinutes: number;
}

/**
 * Runs the rule engine inside the service: fed by the ingest use case with every accepted
 * reading (after it is on disk), ticked by a timer for device-offline and reminders.
 *
 * Restart (no reset, no repeat): rule windows are rebuilt from `rule_samples`, which the spool
 * commits in the same transaction as the readings; rule states (pending/raised) come from
 * `rule_state`, committed with the alerts. InfluxDB is not needed for it: it may be down at
 * start-up, and readings still in the spool are not in it yet.
 */
export class RuleRunner {
  readonly engine: RuleEngine;
  private timer: NodeJS.Timeout | null = null;
  private lastPrune = 0;
  private pending: EngineOutput[] = [];

  constructor(
    ruleSet: RuleSet,
    private readonly directory: RegistryDirectory,
    private readonly spool: Spool,
    private readonly status: DeviceStatusRepository,
    private readonly repo: AlertRepository,
    private readonly alerts: AlertService,
    private readonly clock: Clock,
    private readonly metrics: IngestMetrics,
    private readonly logger: ContextLogger,
    private readonly options: RuleRunnerOptions,
  ) {
    this.engine = new RuleEngine(ruleSet, directory, clock);
  }

  /** The valid (flag N or none) values of the metrics the rules read, per reading. */
  samplesOf(readings: readonly Reading[]): RuleSample[] {
    const kept = this.engine.metricsKept;
    return readings.map((r) => {
      const values: Partial<Record<(typeof kept)[number], number>> = {};
      for (const m of kept) if (r.values[m] !== undefined && countsForCompliance(r, m)) values[m] = r.values[m];
      return { ts: r.ts, values };
    });
  }

  toSpooled(deviceId: string, samples: readonly RuleSample[]): SpooledSample[] {
    return samples.filter((s) => Object.keys(s.values).length > 0).map((s) => ({ deviceId, ts: s.ts, vals: JSON.stringify(s.values) }));
  }

  /**
   * Accepted, durable readings of one device. The engine runs now; its alert changes are
   * committed together with the rest of this event-loop turn's (group commit), like the spool's.
   * Never throws into the ingest path: a rule failure is logged and counted.
   */
  accept(deviceId: string, samples: readonly RuleSample[], receivedAt: number): void {
    try {
      const output = this.engine.onReadings(deviceId, samples, receivedAt);
      if (output.skippedTooOld > 0) this.metrics.ruleReadingsSkipped.inc({ reason: 'older_than_horizon' }, output.skippedTooOld);
      if (output.transitions.length === 0 && output.states.length === 0) return;
      this.pending.push(output);
      if (this.pending.length === 1) setImmediate(() => this.commit());
    } catch (error) {
      this.metrics.ruleFailures.inc();
      this.logger.error('rule evaluation failed', { deviceId, error: (error as Error).message, stack: (error as Error).stack });
    }
  }

  /** Commits the alert changes of the readings evaluated since the last commit. */
  commit(): void {
    const outputs = this.pending;
    if (outputs.length === 0) return;
    this.pending = [];
    try {
      this.alerts.apply(outputs);
    } catch (error) {
      this.metrics.ruleFailures.inc();
      this.logger.error('alert commit failed', { error: (error as Error).message, stack: (error as Error).stack });
    }
  }

  start(): void {
    const now = this.clock.now();
    const states = this.repo.loadRuleStates();
    this.engine.restoreStates(states);
    const byDevice = new Map<string, RuleSample[]>();
    const rows = this.spool.samplesSince(now - this.engine.retentionMs);
    for (const row of rows) {
      const samples = byDevice.get(row.deviceId) ?? [];
      if (samples.length === 0) byDevice.set(row.deviceId, samples);
      samples.push({ ts: row.ts, values: JSON.parse(row.vals) as RuleSample['values'] });
    }
    for (const [deviceId, samples] of byDevice) this.engine.restoreSamples(deviceId, samples);
    for (const [deviceId, t] of this.status.lastSeenAll()) this.engine.restoreLastSeen(deviceId, t);
    // A crash between a reading's commit and its evaluation would otherwise wait for the next reading.
    const caught = this.alerts.apply([this.engine.evaluateAll()]);
    this.logger.log('rule engine started', { ruleSamplesRestored: rows.length, ruleStatesRestored: states.length, eventsOnRestart: caught.length });
    this.timer = setInterval(() => this.tick(), this.options.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.commit();
    this.alerts.flushExceedances();
  }

  tick(): void {
    try {
      this.commit();
      this.alerts.apply([this.engine.tick()]);
      this.alerts.flushExceedances();
      if (this.options.renotifyMinutes > 0) this.alerts.remind(this.options.renotifyMinutes * 60_000);
      const now = this.clock.now();
      if (now - this.lastPrune > 60_000) {
        this.lastPrune = now;
        // Devices new since the last refresh are picked up on their first reading; this catches
        // moved or removed ones for the offline timer.
        this.directory.refresh();
        this.spool.pruneSamples(now - this.engine.retentionMs - 60_000);
        this.repo.pruneDelivered(now - DELIVERED_KEPT_MS);
      }
      this.metrics.outbox.reset();
      for (const [key, n] of Object.entries(this.repo.outboxCounts())) {
        const [channel, state] = key.split(':');
        this.metrics.outbox.set({ channel, state }, n);
      }
      this.metrics.alertsActive.reset();
      for (const c of this.repo.activeCounts()) this.metrics.alertsActive.set({ rule: c.rule, severity: c.severity }, c.n);
    } catch (error) {
      this.metrics.ruleFailures.inc();
      this.logger.error('rule timer failed', { error: (error as Error).message });
    }
  }
}
