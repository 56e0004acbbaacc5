import { EngineOutput, Transition } from '@dustwatch/rules';
import { ConflictError, InvalidInputError, NotFoundError } from '../core/errors';
import { Clock } from '../core/tokens';
import { IngestMetrics } from '../observability/metrics';
import { Principal } from '../auth/roles';
import { AlertEventType, AlertEventView, AlertFilter, AlertView } from './alert.model';
import { AlertFeed } from './alert-feed';
import { AlertRepository } from './alert.repository';

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** The idempotency key a receiver sees for one event on one channel: stable across retries. */
export const deliveryIdOf = (eventId: number, channel: string): string => `dw-${eventId}-${channel}`;

/**
 * The alert ledger: applies the rule engine's transitions (open, escalate, re-trigger, resolve)
 * and the inspectors' acts (acknowledge, close with a note). Each change, its history entry,
 * the rule state and the outbox rows of its notifications commit in one transaction.
 */
export class AlertService {
  constructor(
    private readonly repo: AlertRepository,
    private readonly feed: AlertFeed,
    private readonly channels: readonly string[],
    private readonly clock: Clock,
    private readonly metrics: IngestMetrics,
  ) {}

  apply(output: EngineOutput): AlertEventView[] {
    if (output.transitions.length === 0 && output.states.length === 0) return [];
    const events = this.repo.transaction(() => {
      for (const s of output.states) this.repo.saveRuleState(s.subject, s.ruleId, s.state);
      return output.transitions.flatMap((t) => this.applyOne(t));
    });
    this.published(events);
    return events;
  }

  acknowledge(id: number, by: Principal, note: string | undefined): AlertView {
    const event = this.repo.transaction(() => {
      const alert = this.require(id);
      if (!this.repo.acknowledge(id, by.name, this.clock.now())) throw new ConflictError(`alert ${id} is ${alert.state}; only an open alert can be acknowledged`);
      return this.record(id, 'acknowledged', this.clock.now(), by.name, null, note?.trim() || null);
    });
    this.published([event]);
    return event.alert;
  }

  close(id: number, by: Principal, note: string): AlertView {
    if (note.trim() === '') throw new InvalidInputError('a close-out needs a note saying what was done');
    const event = this.repo.transaction(() => {
      const alert = this.require(id);
      if (alert.state === 'open' || alert.state === 'acknowledged') throw new ConflictError(`alert ${id} is ${alert.state}: its condition still holds; it can be closed once it is resolved`);
      if (!this.repo.close(id, by.name, this.clock.now(), note.trim())) throw new ConflictError(`alert ${id} is closed already`);
      return this.record(id, 'closed', this.clock.now(), by.name, null, note.trim());
    });
    this.published([event]);
    return event.alert;
  }

  /** Re-notifies every open (unacknowledged) alert last notified `intervalMs` ago or more. */
  remind(intervalMs: number): AlertEventView[] {
    const now = this.clock.now();
    const events = this.repo.transaction(() => this.repo.dueReminders(now - intervalMs).map((id) => this.record(id, 'reminder', now, null, null, null)));
    this.published(events);
    return events;
  }

  get(id: number): AlertView & { history: ReturnType<AlertRepository['history']> } {
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
          subject: t.subject, rule: t.ruleId, metric: t.metric, siteId: t.device.siteId, district: t.device.district, deviceId: t.device.deviceId,
          severity: t.severity, threshold: t.threshold, at: t.at, since: t.since, value: t.value, evidenceFrom: t.window?.from ?? null,
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
      case 'exceed':
        if (activeId !== undefined) this.repo.exceeded(activeId, t.at, t.value);
        return [];
      case 'clear':
        if (activeId === undefined) return [];
        this.repo.resolve(activeId, t.at, t.reason, finite(t.value));
        return [this.record(activeId, 'resolved', t.at, null, finite(t.value), t.reason)];
    }
  }

  private record(alertId: number, type: AlertEventType, at: number, actor: string | null, value: number | null, note: string | null): AlertEventView {
    const event = this.repo.addEvent(alertId, type, at, actor, value, note);
    this.repo.enqueue(event.id, this.channels, (channel) => deliveryIdOf(event.id, channel), this.clock.now());
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
