import { MetricKey } from '@dustwatch/telemetry';
import { inSchedule, lastScheduleEnd, windowInSchedule } from './schedule';
import {
  MeasurementRule,
  OfflineRule,
  RaiseLevel,
  Rule,
  RuleSet,
  Severity,
  holds,
  metricsUsed,
  rulesForSite,
  severityRank,
} from './rule-set';
import { SampleSeries, WindowStats } from './window';

export interface Clock {
  now(): number;
}

export interface DeviceInfo {
  readonly deviceId: string;
  readonly siteId: string;
  readonly district: string;
  readonly kind: 'site' | 'background';
}

/** Who a device is; implemented over the registry by the app. */
export interface DeviceDirectory {
  device(deviceId: string): DeviceInfo | undefined;
  /** Background stations of a district. */
  backgroundDevices(district: string): readonly string[];
  /** Every device the offline timer watches. */
  allDevices(): readonly DeviceInfo[];
  /** Receive time of the device's last accepted reading (the presence record owns it), or undefined if it never sent one. */
  lastSeenAt(deviceId: string): number | undefined;
}

/** One accepted reading as the rules see it: only values flagged N or unflagged. */
export interface RuleSample {
  readonly ts: number;
  readonly values: Readonly<Partial<Record<MetricKey, number>>>;
}

/**
 * Where a (subject, rule) pair stands; persisted so a restart neither resets nor repeats it.
 * `cleared` is the memory of the last episode: back to normal, but a late window at or before
 * `since` (the event time that episode cleared) belongs to an episode already judged and opens
 * nothing (issue 18: a backfill reopened an alert a minute, once per late reading).
 */
export interface RuleState {
  readonly subject: string;
  readonly ruleId: string;
  readonly phase: 'pending' | 'raised' | 'cleared';
  /** Event time the condition started to hold; for `cleared`, the time it cleared. */
  readonly since: number;
  readonly severity: Severity;
}

interface Base {
  readonly subject: string;
  readonly device: DeviceInfo;
  readonly ruleId: string;
  readonly metric: MetricKey | 'offline';
  /** Event time: the end of the evaluated window, or the timer's now for device-offline. */
  readonly at: number;
  readonly value: number;
  readonly window: { readonly from: number; readonly to: number } | null;
}
export interface RaiseTransition extends Base {
  readonly type: 'raise';
  /** The rule's display name, kept with the alert so its history reads as it was judged. */
  readonly ruleName: string;
  readonly severity: Severity;
  readonly threshold: number;
  /** When the condition started to hold (earlier than `at` with a minimum duration). */
  readonly since: number;
}
export interface EscalateTransition extends Base {
  readonly type: 'escalate';
  readonly severity: Severity;
  readonly threshold: number;
}
/** The condition still holds on a new window: the alert's peak and last exceedance move. */
export interface ExceedTransition extends Base {
  readonly type: 'exceed';
}
export interface ClearTransition extends Base {
  readonly type: 'clear';
  readonly reason: 'condition-cleared' | 'schedule-ended' | 'reading-received' | 'rule-disabled';
}
export type Transition = RaiseTransition | EscalateTransition | ExceedTransition | ClearTransition;

export interface EngineOutput {
  readonly transitions: Transition[];
  /** States that changed; `null` state means back to normal (delete). */
  readonly states: { readonly subject: string; readonly ruleId: string; readonly state: RuleState | null }[];
  /** Readings that were stored but not evaluated because they are older than the evaluation horizon. */
  readonly skippedTooOld: number;
}

const MINUTE = 60_000;

/** How far back (from now) a device's samples must be kept, and reloaded after a restart: a reading as old as the evaluation horizon is still evaluated, with the window behind it. */
export function sampleRetentionMs(set: RuleSet): number {
  const all = [set.rules, ...Object.values(set.siteOverrides)].flat();
  const longest = Math.max(0, ...all.flatMap((r) => (r.kind === 'offline' ? [] : [r.windowMinutes * MINUTE])));
  return set.evaluationHorizonMinutes * MINUTE + longest + 15 * MINUTE;
}

const key = (subject: string, ruleId: string): string => `${subject}\u0000${ruleId}`;

/**
 * The rule engine: pure logic over an injected clock, no I/O. Window rules run in event time
 * (the readings' own times), so a buffered batch or a late reading lands in the window it
 * belongs to; the offline rule runs in processing time on `tick`, because silence has no
 * reading to carry a time (the ThingsBoard failure mode: inactivity seen only on return).
 *
 * Every condition has hysteresis (a separate clear level), an optional minimum duration, and
 * severity levels that escalate one alert rather than opening a second.
 */
export class RuleEngine {
  private readonly series = new Map<string, Map<MetricKey, SampleSeries>>();
  private readonly states = new Map<string, RuleState>();
  private readonly metrics: readonly MetricKey[];
  private readonly windowsMs: number[];
  private readonly keepMs: number;
  private readonly startedAt: number;
  private changed = new Map<string, { subject: string; ruleId: string; state: RuleState | null }>();

  constructor(
    private readonly set: RuleSet,
    private readonly directory: DeviceDirectory,
    private readonly clock: Clock,
  ) {
    this.metrics = metricsUsed(set);
    const all = [set.rules, ...Object.values(set.siteOverrides)].flat();
    this.windowsMs = [...new Set(all.flatMap((r) => (r.kind === 'offline' ? [] : [r.windowMinutes * MINUTE])))];
    // As far back as the evaluation horizon plus a window: a late reading is judged in its own windows.
    this.keepMs = sampleRetentionMs(set);
    this.startedAt = clock.now();
  }

  /** Metrics the windows keep: what the app stores per sample. */
  get metricsKept(): readonly MetricKey[] {
    return this.metrics;
  }

  /**
   * How far back (from now) samples must be kept and reloaded after a restart: a reading as old as
   * the evaluation horizon is still evaluated, with the window behind it.
   */
  get retentionMs(): number {
    return sampleRetentionMs(this.set);
  }

  /** Restores persisted rule states (at start-up, before any reading). */
  restoreStates(states: readonly RuleState[]): void {
    for (const s of states) this.states.set(key(s.subject, s.ruleId), s);
  }

  /** Restores samples and last-seen times after a restart, without evaluating. */
  restoreSamples(deviceId: string, samples: readonly RuleSample[]): void {
    for (const s of samples) this.addSample(deviceId, s);
  }

  /**
   * Accepted readings of one device (any order). Each reading that moves the device's newest time
   * is evaluated at that time, in time order. Late ones (older than the device's newest: a
   * buffered upload after live data resumed) are judged in the windows they belong to, at their
   * own times (evaluatePast); then the current window is evaluated again.
   */
  onReadings(deviceId: string, samples: readonly RuleSample[], receivedAt: number): EngineOutput {
    const device = this.directory.device(deviceId);
    const transitions: Transition[] = [];
    if (!device) return this.output(transitions, 0);
    const offline = this.rules(device).filter((r): r is OfflineRule => r.kind === 'offline');
    for (const rule of offline) {
      const state = this.states.get(key(deviceId, rule.id));
      if (state?.phase === 'raised') {
        transitions.push({
          type: 'clear',
          reason: 'reading-received',
          subject: deviceId,
          device,
          ruleId: rule.id,
          metric: 'offline',
          at: receivedAt,
          value: (receivedAt - state.since) / MINUTE,
          window: { from: state.since, to: receivedAt },
        });
        this.setState(deviceId, rule.id, null);
      }
    }
    const horizon = this.clock.now() - this.set.evaluationHorizonMinutes * MINUTE;
    let skipped = 0;
    const late: number[] = [];
    for (const sample of [...samples].sort((a, b) => a.ts - b.ts)) {
      if (sample.ts < horizon) {
        skipped++;
        continue;
      }
      const before = this.newest(deviceId);
      if (!this.addSample(deviceId, sample)) continue; // duplicate: already counted
      if (before !== null && sample.ts < before) late.push(sample.ts);
      else this.evaluate(device, transitions, 'may-clear');
    }
    if (late.length > 0) {
      this.evaluatePast(device, late, transitions);
      // The current window holds a gap the upload is still filling: it may raise or escalate,
      // but a clear waits for the next reading in order (at most one reporting interval later).
      this.evaluate(device, transitions, 'no-clear');
    }
    return this.output(transitions, skipped);
  }

  /**
   * Evaluates every device's newest windows once: after a restart, catches a raise lost to a
   * crash. No clear: the journal may end in the middle of a late upload, whose gap would make the
   * window look clean; the device's next reading judges it.
   */
  evaluateAll(): EngineOutput {
    const transitions: Transition[] = [];
    for (const deviceId of this.series.keys()) {
      const device = this.directory.device(deviceId);
      if (device) this.evaluate(device, transitions, 'no-clear');
    }
    return this.output(transitions, 0);
  }

  /**
   * The timer: raises device-offline for every device silent for its rule's duration, even if it
   * never returns; and resolves a scheduled rule's alert when its schedule has ended, even if no
   * reading follows (a monitor that fell silent at 21:50 does not keep a noise-day alert open all
   * night).
   */
  tick(): EngineOutput {
    const now = this.clock.now();
    const transitions: Transition[] = [];
    this.forgetOldEpisodes(now);
    this.endSchedules(now, transitions);
    for (const device of this.directory.allDevices()) {
      const seen = this.directory.lastSeenAt(device.deviceId);
      // A device that never sent a reading is not commissioned yet; and silence while the
      // service itself was down is not the device's: count from our own start at the latest.
      if (seen === undefined) continue;
      const silentSince = Math.max(seen, this.startedAt);
      for (const rule of this.rules(device)) {
        if (rule.kind !== 'offline') continue;
        const k = key(device.deviceId, rule.id);
        if (!rule.enabled) {
          this.clearIfRaised(device, device.deviceId, rule.id, 'offline', now, transitions);
          continue;
        }
        if (this.states.get(k)?.phase === 'raised' || now - silentSince < rule.silenceMinutes * MINUTE) continue;
        transitions.push({
          type: 'raise',
          subject: device.deviceId,
          device,
          ruleId: rule.id,
          ruleName: rule.name,
          metric: 'offline',
          severity: rule.severity,
          threshold: rule.silenceMinutes,
          since: seen,
          at: now,
          value: (now - seen) / MINUTE,
          window: { from: seen, to: now },
        });
        this.setState(device.deviceId, rule.id, {
          subject: device.deviceId,
          ruleId: rule.id,
          phase: 'raised',
          since: seen,
          severity: rule.severity,
        });
      }
    }
    return this.output(transitions, 0);
  }

  /**
   * A device's event time now: its newest reading's time advanced by the real time since that
   * reading arrived. For a live monitor that is the wall clock; for a replay of the past it
   * continues the replay's own time, so a simulated evening does not end at the real clock's 22:00.
   */
  private deviceTime(deviceId: string, now: number): number | null {
    const newest = this.newest(deviceId);
    const seen = this.directory.lastSeenAt(deviceId);
    if (newest === null || seen === undefined) return null;
    return newest + Math.max(0, now - seen);
  }

  /** An episode that ended before the evaluation horizon and its windows can no longer be judged late. */
  private forgetOldEpisodes(now: number): void {
    for (const state of [...this.states.values()])
      if (state.phase === 'cleared' && state.since < now - this.keepMs)
        this.setState(state.subject, state.ruleId, null);
  }

  private endSchedules(now: number, out: Transition[]): void {
    for (const state of [...this.states.values()]) {
      if (state.phase !== 'raised') continue;
      const device = this.directory.device(state.subject);
      const rule = device && this.rules(device).find((r) => r.id === state.ruleId);
      if (!device || !rule || rule.kind === 'offline' || !rule.schedule) continue;
      const t = this.deviceTime(device.deviceId, now);
      if (t !== null && !inSchedule(rule.schedule, t))
        this.clearIfRaised(
          device,
          device.deviceId,
          rule.id,
          rule.metric,
          lastScheduleEnd(rule.schedule, t),
          out,
          'schedule-ended',
        );
    }
  }

  private rules(device: DeviceInfo): readonly Rule[] {
    return rulesForSite(this.set, device.siteId);
  }

  private newest(deviceId: string): number | null {
    let newest: number | null = null;
    for (const s of this.series.get(deviceId)?.values() ?? [])
      if (s.latest !== null && (newest === null || s.latest > newest)) newest = s.latest;
    return newest;
  }

  private addSample(deviceId: string, sample: RuleSample): boolean {
    let byMetric = this.series.get(deviceId);
    if (!byMetric) {
      byMetric = new Map(this.metrics.map((m) => [m, new SampleSeries(this.windowsMs, this.keepMs)]));
      this.series.set(deviceId, byMetric);
    }
    let added = false;
    for (const metric of this.metrics) {
      const v = sample.values[metric];
      if (v !== undefined && byMetric.get(metric)!.add(sample.ts, v)) added = true;
    }
    return added;
  }

  /** The measurement rules that judge this device's windows. */
  private measurementRules(device: DeviceInfo): MeasurementRule[] {
    return this.rules(device).filter(
      (rule): rule is MeasurementRule =>
        rule.kind !== 'offline' &&
        !(rule.kind === 'window' && rule.appliesTo !== device.kind) &&
        !(rule.kind === 'background-difference' && device.kind !== 'site'),
    );
  }

  /**
   * Late readings: each rule is judged on the windows that end at the late readings' times, in
   * time order, so an exceedance inside a link outage opens its alert at its real time and
   * escalates it at its real time. One episode, one alert, whatever order the data arrive in:
   * - a late window inside an open alert's episode (at or after its start) can escalate it and
   *   move its peak, never clear it: a clear is judged on the newest, complete window;
   * - a late window before an open alert's start, or at or before the end of the last episode
   *   (`cleared`), belongs to what was already judged and opens nothing;
   * - otherwise it is judged as live data would have been. A pending state of the live data is
   *   set aside meanwhile, and stands again if the past windows leave nothing behind.
   */
  private evaluatePast(device: DeviceInfo, times: readonly number[], out: Transition[]): void {
    for (const rule of this.measurementRules(device)) {
      const k = key(device.deviceId, rule.id);
      const live = this.states.get(k);
      const series = this.series.get(device.deviceId)?.get(rule.metric);
      if (!rule.enabled || !series) continue;
      if (live?.phase === 'pending') this.states.delete(k);
      const windowMs = rule.windowMinutes * MINUTE;
      for (const at of times) {
        const state = this.states.get(k);
        if (state?.phase === 'raised' ? at < state.since : state?.phase === 'cleared' && at <= state.since) continue;
        if (rule.schedule && !windowInSchedule(rule.schedule, at, windowMs)) {
          const end = inSchedule(rule.schedule, at) ? at : lastScheduleEnd(rule.schedule, at);
          this.clearIfRaised(device, device.deviceId, rule.id, rule.metric, end, out, 'schedule-ended');
          continue;
        }
        const value = this.windowValue(rule, device, series, windowMs, at);
        if (value !== null) this.decide(rule, device, value, at, { from: at - windowMs, to: at }, out, 'no-clear');
      }
      if (!this.states.has(k) && live) this.setState(device.deviceId, rule.id, live);
    }
  }

  private evaluate(device: DeviceInfo, out: Transition[], clearing: Clearing): void {
    for (const rule of this.measurementRules(device)) {
      const series = this.series.get(device.deviceId)?.get(rule.metric);
      const at = series?.latest;
      if (!series || at === null || at === undefined) continue;
      if (!rule.enabled) {
        this.clearIfRaised(device, device.deviceId, rule.id, rule.metric, at, out);
        continue;
      }
      const windowMs = rule.windowMinutes * MINUTE;
      const window = { from: at - windowMs, to: at };
      if (rule.schedule && !windowInSchedule(rule.schedule, at, windowMs)) {
        // Stamped at the schedule's end, whether a reading or the timer notices it.
        this.clearIfRaised(
          device,
          device.deviceId,
          rule.id,
          rule.metric,
          inSchedule(rule.schedule, at) ? at : lastScheduleEnd(rule.schedule, at),
          out,
          'schedule-ended',
        );
        continue;
      }
      const value = this.windowValue(rule, device, series, windowMs, at);
      if (value !== null) this.decide(rule, device, value, at, window, out, clearing);
    }
  }

  /** The window's value, or null when the window (or the background's) has too few valid samples. */
  private windowValue(
    rule: MeasurementRule,
    device: DeviceInfo,
    series: SampleSeries,
    windowMs: number,
    at: number,
  ): number | null {
    // The running sums hold the window at the newest sample; a past window is counted afresh.
    const own = at === series.latest ? series.current(windowMs) : series.between(at - windowMs, at);
    if (!this.valid(own, windowMs, at)) return null;
    const value = this.average(rule, own);
    if (rule.kind === 'window') return value;
    const backgrounds: number[] = [];
    for (const id of this.directory.backgroundDevices(device.district)) {
      const stats = this.series
        .get(id)
        ?.get(rule.metric)
        ?.between(at - windowMs, at);
      if (stats && this.valid(stats, windowMs, at)) backgrounds.push(this.average(rule, stats));
    }
    if (backgrounds.length === 0) return null;
    return value - backgrounds.reduce((a, b) => a + b, 0) / backgrounds.length;
  }

  /**
   * Valid: the window holds its share (75 %) of the expected readings AND its readings cover that
   * share of its length. By count alone a monitor reporting every 10 s (HJ 212 allows 30 s, the
   * demo plays 10 s) had its hourly mean judged on 7.5 minutes of data. A reading stands for the
   * interval that ends at its time, so the oldest one covers back to one interval before it.
   */
  private valid(stats: WindowStats, windowMs: number, at: number): boolean {
    const intervalMs = this.set.expectedIntervalSeconds * 1000;
    return (
      stats.count >= this.set.validity * (windowMs / intervalMs) &&
      at - stats.oldest + intervalMs >= this.set.validity * windowMs
    );
  }

  private average(rule: MeasurementRule, stats: WindowStats): number {
    return rule.average === 'energy' ? stats.energyMean : stats.mean;
  }

  /** Hysteresis, minimum duration and escalation for one evaluated window. */
  private decide(
    rule: MeasurementRule,
    device: DeviceInfo,
    value: number,
    at: number,
    window: { from: number; to: number },
    out: Transition[],
    clearing: Clearing,
  ): void {
    const subject = device.deviceId;
    const stored = this.states.get(key(subject, rule.id));
    const state = stored?.phase === 'cleared' ? undefined : stored; // the memory of an episode is no condition
    const level = highestLevel(rule.raise, value);
    const base = { subject, device, ruleId: rule.id, metric: rule.metric, at, value, window };
    if (state?.phase === 'raised') {
      if (holds(rule.clear, value)) {
        if (clearing === 'no-clear') return;
        out.push({ ...base, type: 'clear', reason: 'condition-cleared' });
        this.setState(subject, rule.id, clearedAt(state, at));
      } else if (level && severityRank(level.severity) > severityRank(state.severity)) {
        out.push({ ...base, type: 'escalate', severity: level.severity, threshold: level.value });
        this.setState(subject, rule.id, { ...state, severity: level.severity });
      } else if (level) {
        out.push({ ...base, type: 'exceed' });
      }
      return; // between the raise and clear levels: hysteresis, nothing changes
    }
    if (!level) {
      if (state?.phase === 'pending') this.setState(subject, rule.id, null);
      return;
    }
    const since = state?.phase === 'pending' ? state.since : at;
    if (at - since >= rule.minDurationMinutes * MINUTE) {
      out.push({
        ...base,
        type: 'raise',
        ruleName: rule.name,
        severity: level.severity,
        threshold: level.value,
        since,
      });
      this.setState(subject, rule.id, { subject, ruleId: rule.id, phase: 'raised', since, severity: level.severity });
    } else if (!state) {
      this.setState(subject, rule.id, { subject, ruleId: rule.id, phase: 'pending', since, severity: level.severity });
    }
  }

  private clearIfRaised(
    device: DeviceInfo,
    subject: string,
    ruleId: string,
    metric: MetricKey | 'offline',
    at: number,
    out: Transition[],
    reason: ClearTransition['reason'] = 'rule-disabled',
  ): void {
    const state = this.states.get(key(subject, ruleId));
    if (!state || state.phase === 'cleared') return;
    if (state.phase === 'raised') {
      out.push({ type: 'clear', reason, subject, device, ruleId, metric, at, value: NaN, window: null });
      this.setState(subject, ruleId, clearedAt(state, at));
    } else this.setState(subject, ruleId, null);
  }

  private setState(subject: string, ruleId: string, state: RuleState | null): void {
    const k = key(subject, ruleId);
    if (state) this.states.set(k, state);
    else this.states.delete(k);
    this.changed.set(k, { subject, ruleId, state });
  }

  private output(transitions: Transition[], skippedTooOld: number): EngineOutput {
    const states = [...this.changed.values()];
    this.changed = new Map();
    return { transitions, states, skippedTooOld };
  }
}

/** `no-clear` when the window judged may still be missing readings a device is uploading late. */
type Clearing = 'may-clear' | 'no-clear';

function clearedAt(state: RuleState, at: number): RuleState {
  return { ...state, phase: 'cleared', since: at };
}

function highestLevel(levels: readonly RaiseLevel[], value: number): RaiseLevel | null {
  for (let i = levels.length - 1; i >= 0; i--) if (holds(levels[i], value)) return levels[i];
  return null;
}
