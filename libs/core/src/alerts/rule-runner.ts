import { EngineOutput, RuleEngine, RuleSample, RuleSet, sampleRetentionMs } from '@dustwatch/rules';
import { Clock } from '../kernel/clock';
import { ContextLogger } from '../kernel/logger';
import { IngestMetrics } from '../kernel/metrics';
import { Scheduler, TimerHandle } from '../kernel/scheduler';
import { ReadingsAccepted } from '../ingest/readings-accepted';
import { AlertStore } from '../ports/alert-store';
import { JournalEntry, ReadingsStore } from '../ports/readings-store';
import { AlertService } from './alert.service';
import { RegistryDirectory } from './registry-directory';

export interface RuleRunnerOptions {
  /** How often the timer looks (ms): device-offline, schedule ends, reminders. */
  readonly tickMs: number;
  /** Re-notify open, unacknowledged alerts this often (minutes); 0 = never. */
  readonly renotifyMinutes: number;
}

/** The fleet directory is reloaded this often (and whenever the registry says the fleet changed). */
const DIRECTORY_REFRESH_MS = 60_000;

/**
 * Runs the rule engine inside the service: it hears ReadingsAccepted (the readings are durable
 * by then) and a timer (device-offline, schedule ends, reminders).
 *
 * Alert changes are committed once per event-loop turn (group commit). Should a commit fail, the
 * outputs stay pending and the next turn or tick commits them: the engine has already moved on,
 * so dropping them would lose the alert until a restart.
 *
 * Restart (no reset, no repeat): windows are rebuilt from the accepted-readings journal, which
 * the spool commits in the same transaction as the readings; rule states come from the alert
 * store, committed with the alerts. Not from InfluxDB: it may be down at start-up, and readings
 * still in the spool are not in it yet.
 *
 * Several instances (docs/cluster.md): only the rule owner runs it, fed from the shared rule
 * feed by `RuleOwnership` (`rebuild`, `judge`, `startTimer`, `forget`) instead of the bus.
 */
export class RuleRunner {
  private engine: RuleEngine;
  private timer: TimerHandle | null = null;
  private lastRefresh = 0;
  private pending: EngineOutput[] = [];
  private commitScheduled = false;
  private committing: Promise<void> = Promise.resolve();
  private ticking = false;
  /** Readings that arrived while the directory was reloading for a device it did not know yet. */
  private waiting: ReadingsAccepted[] | null = null;

  constructor(
    private readonly ruleSet: RuleSet,
    private readonly directory: RegistryDirectory,
    private readonly journal: ReadingsStore,
    private readonly store: AlertStore,
    private readonly alerts: AlertService,
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
    private readonly metrics: IngestMetrics,
    private readonly logger: ContextLogger,
    private readonly options: RuleRunnerOptions,
  ) {
    this.engine = new RuleEngine(ruleSet, directory, clock);
  }

  /** ReadingsAccepted listener. Never throws into the ingest path: a rule failure is logged and counted. */
  onAccepted(event: ReadingsAccepted): void {
    if (this.waiting) {
      this.waiting.push(event);
      return;
    }
    if (this.directory.device(event.deviceId)) return this.evaluate(event);
    // A device provisioned a moment ago: reload the fleet, then judge its readings in order.
    this.waiting = [event];
    void this.directory
      .refresh()
      .catch((error: Error) => this.logger.error('fleet directory reload failed', { error: error.message }))
      .finally(() => {
        const queued = this.waiting ?? [];
        this.waiting = null;
        for (const e of queued) this.evaluate(e);
      });
  }

  private evaluate(event: Pick<ReadingsAccepted, 'deviceId' | 'samples' | 'receivedAt'>): void {
    try {
      // The core journalled exactly these values (the rule set's metrics), so a restart rebuilds the same windows.
      const output = this.engine.onReadings(event.deviceId, event.samples, event.receivedAt);
      if (output.skippedTooOld > 0)
        this.metrics.ruleReadingsSkipped.inc({ reason: 'older_than_horizon' }, output.skippedTooOld);
      this.enqueue(output);
    } catch (error) {
      this.metrics.ruleFailures.inc();
      this.logger.error('rule evaluation failed', {
        deviceId: event.deviceId,
        error: (error as Error).message,
        stack: (error as Error).stack,
      });
    }
  }

  private enqueue(output: EngineOutput): void {
    if (output.transitions.length === 0 && output.states.length === 0) return;
    this.pending.push(output);
    if (this.commitScheduled) return;
    this.commitScheduled = true;
    setImmediate(() => {
      this.commitScheduled = false;
      void this.commit();
    });
  }

  /**
   * Commits the alert changes evaluated since the last commit, one commit at a time and in
   * order; on failure they stay pending (ahead of newer ones) for the next turn or tick.
   */
  commit(): Promise<void> {
    this.committing = this.committing.then(async () => {
      if (this.pending.length === 0) return;
      const outputs = this.pending;
      this.pending = [];
      try {
        await this.alerts.apply(outputs);
      } catch (error) {
        this.pending = [...outputs, ...this.pending];
        this.metrics.ruleFailures.inc();
        this.logger.error('alert commit failed; kept, retried on the next tick', {
          outputs: outputs.length,
          error: (error as Error).message,
        });
      }
    });
    return this.committing;
  }

  /** One instance: windows from this instance's journal, then the timer. */
  async start(): Promise<void> {
    await this.rebuild((since) => this.journal.journalSince(since));
    this.startTimer();
  }

  /**
   * A fresh engine: rule states from the alert store, windows from `samplesSince` (per device in
   * time order), then one evaluation of everything — a crash between a reading's commit and its
   * evaluation would otherwise wait for the next reading. Resolves with the samples restored.
   */
  async rebuild(samplesSince: (since: number) => Promise<JournalEntry[]>): Promise<number> {
    const now = this.clock.now();
    this.forget();
    await this.directory.refresh();
    this.lastRefresh = now;
    const states = await this.store.loadRuleStates();
    this.engine.restoreStates(states);
    const byDevice = new Map<string, RuleSample[]>();
    const rows = await samplesSince(now - sampleRetentionMs(this.ruleSet));
    for (const row of rows) {
      const samples = byDevice.get(row.deviceId) ?? [];
      if (samples.length === 0) byDevice.set(row.deviceId, samples);
      samples.push({ ts: row.ts, values: JSON.parse(row.vals) as RuleSample['values'] });
    }
    for (const [deviceId, samples] of byDevice) this.engine.restoreSamples(deviceId, samples);
    this.enqueue(this.engine.evaluateAll());
    await this.commit();
    this.logger.log('rule engine started', { samplesRestored: rows.length, ruleStatesRestored: states.length });
    return rows.length;
  }

  /**
   * Judges readings from the shared feed, in feed order (the rule owner). Unlike `onAccepted` it
   * resolves only when every entry was evaluated, so the caller can commit and then move its
   * cursor past them.
   */
  async judge(entries: readonly (JournalEntry & { readonly receivedAt: number })[]): Promise<void> {
    if (entries.some((e) => !this.directory.device(e.deviceId))) await this.directory.refresh();
    for (const e of entries)
      this.evaluate({
        deviceId: e.deviceId,
        samples: [{ ts: e.ts, values: JSON.parse(e.vals) as RuleSample['values'] }],
        receivedAt: e.receivedAt,
      });
  }

  /** True while evaluated alert changes wait for a successful commit. */
  get uncommitted(): boolean {
    return this.pending.length > 0;
  }

  startTimer(): void {
    this.timer ??= this.scheduler.every(this.options.tickMs, () => void this.tick());
  }

  /**
   * Drops the windows and uncommitted changes (ownership lost: the next owner judges again from
   * the last committed cursor), and stops the timer.
   */
  forget(): void {
    this.timer?.cancel();
    this.timer = null;
    this.pending = [];
    this.engine = new RuleEngine(this.ruleSet, this.directory, this.clock);
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    await this.commit();
    await this.alerts
      .flushExceedances()
      .catch((error: Error) => this.logger.error('exceedances not written at shutdown', { error: error.message }));
  }

  /** The timer's round; a round still running when the next is due is not doubled. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      this.enqueue(this.engine.tick());
      await this.commit();
      await this.alerts.flushExceedances();
      await this.alerts.escalateOverdue();
      if (this.options.renotifyMinutes > 0) await this.alerts.remind(this.options.renotifyMinutes * 60_000);
      const now = this.clock.now();
      if (now - this.lastRefresh > DIRECTORY_REFRESH_MS) {
        this.lastRefresh = now;
        // Catches devices moved or removed by a CLI import while the service runs.
        await this.directory.refresh();
      }
      this.metrics.alertsActive.reset();
      for (const c of await this.store.activeCounts())
        this.metrics.alertsActive.set({ rule: c.rule, severity: c.severity }, c.n);
    } catch (error) {
      this.metrics.ruleFailures.inc();
      this.logger.error('rule timer failed', { error: (error as Error).message });
    } finally {
      this.ticking = false;
    }
  }
}
