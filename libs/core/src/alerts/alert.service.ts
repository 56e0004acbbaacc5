import { EngineOutput, Transition } from '@dustwatch/rules';
import { ConflictError, InvalidInputError, NotFoundError } from '../kernel/errors';
import { Clock } from '../kernel/clock';
import { IngestMetrics } from '../kernel/metrics';
import { Principal } from '../auth/roles';
import { AlertHistoryEntry, AlertStore } from '../ports/alert-store';
import { OutboxStore } from '../ports/outbox-store';
import { AlertEventType, AlertEventView, AlertFilter, AlertView } from './alert.model';
import { AlertFeed } from './alert-feed';

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** The idempotency key a receiver sees for one event on one channel: stable across retries. */
export const deliveryIdOf = (eventId: number, channel: string): string => `dw-${eventId}-${channel}`;

/**
 * The alert ledger: applies the rule engine's transitions (open, escalate, re-trigger, resolve)
 * and the inspectors' acts (acknowledge, close with a note). Each change, its history entry,
 * the rule state and the outbox rows of its notifications commit in one transaction.
 */
export class AlertService {
  private readonly exceedances = new Map<string, { at: number; value: number; peak: number; peakAt: number }>();

  constructor(
    private readonly repo: AlertStore,
    private readonly outbox: OutboxStore,
    private readonly feed: AlertFeed,
    private readonly channels: readonly string[],
    private readonly clock: Clock,
    private readonly metrics: IngestMetrics,
  ) {}

  /**
   * Applies engine outputs in one transaction (the caller groups an event-loop turn's outputs:
   * one fsync for all). Outputs with nothing but re-exceedances start no transaction: peak and
   * last exceedance are kept in memory and written with the next transaction or `flushExceedances`
   * (the rule timer), so a site above its limit does not cost an fsync per reading.
   */
  apply(outputs: readonly EngineOutput[]): AlertEventView[] {
    const needsTransaction = outputs.some((o) => o.states.length > 0 || o.transitions.some((t) => t.type !== 'exceed'));
    if (!needsTransaction) {
      for (const o of outputs) for (const t of o.transitions) this.bufferExceed(t);
      return [];
    }
    const events = this.repo.transaction(() => {
      const out: AlertEventView[] = [];
      for (const o of outputs) {
        for (const s of o.states) this.repo.saveRuleState(s.subject, s.ruleId, s.state);
        for (const t of o.transitions) {
          if (t.type === 'exceed') {
            this.bufferExceed(t);
            continue;
          }
          this.writeExceed(t.subject, t.ruleId); // older exceedances of this alert first
          out.push(...this.applyOne(t));
        }
      }
      for (const k of [...this.exceedances.keys()]) this.writeExceed(...(k.split('\u0000') as [string, string]));
      return out;
    });
    this.published(events);
    return events;
  }

  /** Writes buffered peaks and last exceedances. */
  flushExceedances(): void {
    if (this.exceedances.size === 0) return;
    this.repo.transaction(() => {
      for (const k of [...this.exceedances.keys()]) this.writeExceed(...(k.split('\u0000') as [string, string]));
    });
  }

  private bufferExceed(t: Transition): void {
    const k = `${t.subject}\u0000${t.ruleId}`;
    const e = this.exceedances.get(k);
    if (!e) this.exceedances.set(k, { at: t.at, value: t.value, peak: t.value, peakAt: t.at });
    else {
      if (t.at >= e.at) Object.assign(e, { at: t.at, value: t.value });
      if (t.value > e.peak) Object.assign(e, { peak: t.value, peakAt: t.at });
    }
  }

  private writeExceed(subject: string, ruleId: string): void {
    const k = `${subject}\u0000${ruleId}`;
    const e = this.exceedances.get(k);
    if (!e) return;
    this.exceedances.delete(k);
    const id = this.repo.activeId(subject, ruleId);
    if (id === undefined) return;
    this.repo.exceeded(id, e.peakAt, e.peak);
    this.repo.exceeded(id, e.at, e.value);
  }

  acknowledge(id: number, by: Principal, note: string | undefined): AlertView {
    const event = this.repo.transaction(() => {
      const alert = this.require(id);
      if (!this.repo.acknowledge(id, by.name, this.clock.now()))
        throw new ConflictError(`alert ${id} is ${alert.state}; only an open alert can be acknowledged`);
      return this.record(id, 'acknowledged', this.clock.now(), by.name, null, note?.trim() || null);
    });
    this.published([event]);
    return event.alert;
  }

  close(id: number, by: Principal, note: string): AlertView {
    if (note.trim() === '') throw new InvalidInputError('a close-out needs a note saying what was done');
    const event = this.repo.transaction(() => {
      const alert = this.require(id);
      if (alert.state === 'open' || alert.state === 'acknowledged')
        throw new ConflictError(
          `alert ${id} is ${alert.state}: its condition still holds; it can be closed once it is resolved`,
        );
      if (!this.repo.close(id, by.name, this.clock.now(), note.trim()))
        throw new ConflictError(`alert ${id} is closed already`);
      return this.record(id, 'closed', this.clock.now(), by.name, null, note.trim());
    });
    this.published([event]);
    return event.alert;
  }

  /** Re-notifies every open (unacknowledged) alert last notified `intervalMs` ago or more. */
  remind(intervalMs: number): AlertEventView[] {
    const now = this.clock.now();
    const events = this.repo.transaction(() =>
      this.repo.dueReminders(now - intervalMs).map((id) => this.record(id, 'reminder', now, null, null, null)),
    );
    this.published(events);
    return events;
  }

  get(id: number): AlertView & { history: AlertHistoryEntry[] } {
    const alert = this.require(id);
    return { ...alert, history: this.repo.history(id) };
  }

  list(filter: AlertFilter): { total: number; items: AlertView[] } {
    return this.repo.list(filter);
  }

  private applyOne(t: Transition): AlertEventView[] {
    const activeId = this.repo.activeId(t.subject, t.ruleId);
    switch (t.type) {
      case 'raise': {
        const { id, created } = this.repo.open({
          subject: t.subject,
          rule: t.ruleId,
          metric: t.metric,
          siteId: t.device.siteId,
          district: t.device.district,
          deviceId: t.device.deviceId,
          severity: t.severity,
          threshold: t.threshold,
          at: t.at,
          since: t.since,
          value: t.value,
          evidenceFrom: t.window?.from ?? null,
        });
        if (!created) return [];
        this.metrics.alertsOpened.inc({ rule: t.ruleId, severity: t.severity });
        return [this.record(id, 'opened', t.at, null, t.value, null)];
      }
      case 'escalate':
        if (activeId === undefined) return [];
        this.repo.escalate(activeId, t.severity, t.threshold);
        this.repo.exceeded(activeId, t.at, t.value);
        return [this.record(activeId, 'escalated', t.at, null, t.value, null)];
      case 'exceed': // buffered by apply()
        return [];
      case 'clear':
        if (activeId === undefined) return [];
        this.repo.resolve(activeId, t.at, t.reason, finite(t.value));
        return [this.record(activeId, 'resolved', t.at, null, finite(t.value), t.reason)];
    }
  }

  private record(
    alertId: number,
    type: AlertEventType,
    at: number,
    actor: string | null,
    value: number | null,
    note: string | null,
  ): AlertEventView {
    const event = this.repo.addEvent(alertId, type, at, actor, value, note);
    this.outbox.enqueue(event.id, this.channels, (channel) => deliveryIdOf(event.id, channel), this.clock.now());
    this.repo.touchNotified(alertId, this.clock.now());
    return event;
  }

  private require(id: number): AlertView {
    const alert = this.repo.get(id);
    if (!alert) throw new NotFoundError(`no alert with id ${id}`);
    return alert;
  }

  private published(events: readonly AlertEventView[]): void {
    for (const e of events) this.metrics.alertEvents.inc({ type: e.type });
    this.feed.publish(events);
  }
}
