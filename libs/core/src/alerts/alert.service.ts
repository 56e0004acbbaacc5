import { EngineOutput, Transition } from '@dustwatch/rules';
import { ConflictError, InvalidInputError, NotFoundError } from '../kernel/errors';
import { Clock } from '../kernel/clock';
import { IngestMetrics } from '../kernel/metrics';
import { Principal } from '../auth/roles';
import { AlertHistoryEntry, AlertStore, AlertTx } from '../ports/alert-store';
import { AlertEventType, AlertEventView, AlertFilter, AlertItem, AlertView } from './alert.model';
import { AlertFeed } from './alert-feed';

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** The idempotency key a receiver sees for one event on one channel: stable across retries. */
export const deliveryIdOf = (eventId: number, channel: string): string => `dw-${eventId}-${channel}`;

interface Exceedance {
  at: number;
  value: number;
  peak: number;
  peakAt: number;
}

/**
 * The alert ledger: applies the rule engine's transitions (open, escalate, re-trigger, resolve)
 * and the inspectors' acts (acknowledge, close with a note). Each change, its history entry,
 * the rule state and the outbox rows of its notifications commit in one unit of work.
 */
export class AlertService {
  /** Peaks and last exceedances not yet written (one per alert): a site above its limit costs no fsync per reading. */
  private exceedances = new Map<string, Exceedance>();

  constructor(
    private readonly store: AlertStore,
    private readonly feed: AlertFeed,
    private readonly channels: readonly string[],
    private readonly clock: Clock,
    private readonly metrics: IngestMetrics,
    /** The response deadline (rule file `compliance.responseDeadlineMinutes`), in ms. */
    private readonly responseDeadlineMs = 60 * 60_000,
  ) {}

  /**
   * Applies engine outputs in one unit of work (the caller groups an event-loop turn's outputs:
   * one fsync for all). Outputs with nothing but re-exceedances start none: peak and last
   * exceedance stay in memory and are written with the next unit of work or `flushExceedances`
   * (the rule timer). On failure nothing is written and the buffered exceedances are kept.
   */
  async apply(outputs: readonly EngineOutput[]): Promise<AlertEventView[]> {
    const needsTransaction = outputs.some((o) => o.states.length > 0 || o.transitions.some((t) => t.type !== 'exceed'));
    if (!needsTransaction) {
      for (const o of outputs) for (const t of o.transitions) this.bufferExceed(t);
      return [];
    }
    const events = await this.withExceedances(async (tx, exceedances) => {
      const out: AlertEventView[] = [];
      for (const o of outputs) {
        for (const s of o.states) await tx.saveRuleState(s.subject, s.ruleId, s.state);
        for (const t of o.transitions) {
          if (t.type === 'exceed') {
            exceedances.buffer(t);
            continue;
          }
          await exceedances.write(t.subject, t.ruleId); // older exceedances of this alert first
          out.push(...(await this.applyOne(tx, t)));
        }
      }
      return out;
    });
    this.published(events);
    return events;
  }

  /** Writes buffered peaks and last exceedances. */
  async flushExceedances(): Promise<void> {
    if (this.exceedances.size === 0) return;
    await this.withExceedances(async () => undefined);
  }

  /**
   * Runs `work` in a unit of work that also writes every buffered exceedance (the ones `work`
   * asks for first). The buffer is swapped out before and merged back if the unit fails, so
   * exceedances arriving meanwhile are kept and nothing is lost to a rollback.
   */
  private async withExceedances<T>(
    work: (
      tx: AlertTx,
      exceedances: { buffer(t: Transition): void; write(subject: string, ruleId: string): Promise<void> },
    ) => Promise<T>,
  ): Promise<T> {
    const taken = this.exceedances;
    this.exceedances = new Map();
    const written = new Set<string>();
    try {
      return await this.store.transaction(async (tx) => {
        const write = async (subject: string, ruleId: string): Promise<void> => {
          const k = `${subject}\u0000${ruleId}`;
          const e = taken.get(k);
          if (!e || written.has(k)) return;
          written.add(k);
          const id = await tx.activeId(subject, ruleId);
          if (id === undefined) return;
          await tx.exceeded(id, e.peakAt, e.peak);
          await tx.exceeded(id, e.at, e.value);
        };
        const buffer = (t: Transition): void => {
          this.bufferExceed(t, taken);
          written.delete(`${t.subject}\u0000${t.ruleId}`); // a later exceedance is written again
        };
        const result = await work(tx, { buffer, write });
        for (const k of taken.keys()) await write(...(k.split('\u0000') as [string, string]));
        return result;
      });
    } catch (error) {
      for (const [k, e] of taken) this.merge(this.exceedances, k, e);
      throw error;
    }
  }

  private bufferExceed(t: Transition, into = this.exceedances): void {
    this.merge(into, `${t.subject}\u0000${t.ruleId}`, { at: t.at, value: t.value, peak: t.value, peakAt: t.at });
  }

  private merge(into: Map<string, Exceedance>, k: string, x: Exceedance): void {
    const e = into.get(k);
    if (!e) {
      into.set(k, { ...x });
      return;
    }
    if (x.at >= e.at) Object.assign(e, { at: x.at, value: x.value });
    if (x.peak > e.peak) Object.assign(e, { peak: x.peak, peakAt: x.peakAt });
  }

  async acknowledge(id: number, by: Principal, note: string | undefined): Promise<AlertView> {
    const event = await this.store.transaction(async (tx) => {
      const alert = await this.require(tx, id);
      if (!(await tx.acknowledge(id, by.name, this.clock.now())))
        throw new ConflictError(`alert ${id} is ${alert.state}; only an open alert can be acknowledged`);
      return this.record(tx, id, 'acknowledged', this.clock.now(), by, null, note?.trim() || null);
    });
    this.published([event]);
    return event.alert;
  }

  async close(id: number, by: Principal, note: string): Promise<AlertView> {
    if (note.trim() === '') throw new InvalidInputError('a close-out needs a note saying what was done');
    const event = await this.store.transaction(async (tx) => {
      const alert = await this.require(tx, id);
      if (alert.state === 'open' || alert.state === 'acknowledged')
        throw new ConflictError(
          `alert ${id} is ${alert.state}: its condition still holds; it can be closed once it is resolved`,
        );
      if (!(await tx.close(id, by.name, this.clock.now(), note.trim())))
        throw new ConflictError(`alert ${id} is closed already`);
      return this.record(tx, id, 'closed', this.clock.now(), by, null, note.trim());
    });
    this.published([event]);
    return event.alert;
  }

  /** Re-notifies every open (unacknowledged) alert last notified `intervalMs` ago or more. */
  async remind(intervalMs: number): Promise<AlertEventView[]> {
    const now = this.clock.now();
    const events = await this.store.transaction(async (tx) => {
      const out: AlertEventView[] = [];
      for (const id of await tx.dueReminders(now - intervalMs))
        out.push(await this.record(tx, id, 'reminder', now, null, null, null));
      return out;
    });
    this.published(events);
    return events;
  }

  /**
   * Escalates, once, every alert nobody acknowledged within the response deadline (many cities
   * require an answer within an hour): an `overdue` event that goes out through every channel.
   */
  async escalateOverdue(): Promise<AlertEventView[]> {
    const now = this.clock.now();
    const events = await this.store.transaction(async (tx) => {
      const out: AlertEventView[] = [];
      for (const id of await tx.dueOverdue(now - this.responseDeadlineMs)) {
        await tx.markOverdue(id, now);
        out.push(await this.record(tx, id, 'overdue', now, null, null, null));
      }
      return out;
    });
    this.published(events);
    return events;
  }

  async get(id: number): Promise<AlertItem & { history: AlertHistoryEntry[] }> {
    const alert = await this.store.get(id);
    if (!alert) throw new NotFoundError(`no alert with id ${id}`);
    return { ...this.item(alert), history: await this.store.history(id) };
  }

  async list(filter: AlertFilter): Promise<{ total: number; items: AlertItem[] }> {
    const page = await this.store.list(filter);
    return { total: page.total, items: page.items.map((a) => this.item(a)) };
  }

  /** The deadline and the overdue marker, by the same definition as the reports. */
  private item(alert: AlertView): AlertItem {
    const raised = Date.parse(alert.raisedAt);
    const answered = alert.acknowledgedAt === null ? this.clock.now() : Date.parse(alert.acknowledgedAt);
    return {
      ...alert,
      responseDueAt: new Date(raised + this.responseDeadlineMs).toISOString(),
      overdue: answered - raised > this.responseDeadlineMs,
    };
  }

  private async applyOne(tx: AlertTx, t: Transition): Promise<AlertEventView[]> {
    const activeId = await tx.activeId(t.subject, t.ruleId);
    switch (t.type) {
      case 'raise': {
        const { id, created } = await tx.open({
          subject: t.subject,
          rule: t.ruleId,
          ruleName: t.ruleName,
          metric: t.metric,
          siteId: t.device.siteId,
          district: t.device.district,
          deviceId: t.device.deviceId,
          severity: t.severity,
          threshold: t.threshold,
          at: t.at,
          raisedAt: this.clock.now(),
          since: t.since,
          value: t.value,
          evidenceFrom: t.window?.from ?? null,
        });
        if (!created) return [];
        this.metrics.alertsOpened.inc({ rule: t.ruleId, severity: t.severity });
        return [await this.record(tx, id, 'opened', t.at, null, t.value, null)];
      }
      case 'escalate':
        if (activeId === undefined) return [];
        await tx.escalate(activeId, t.severity, t.threshold);
        await tx.exceeded(activeId, t.at, t.value);
        return [await this.record(tx, activeId, 'escalated', t.at, null, t.value, null)];
      case 'exceed': // buffered by apply()
        return [];
      case 'clear':
        if (activeId === undefined) return [];
        await tx.resolve(activeId, t.at, t.reason, finite(t.value));
        return [await this.record(tx, activeId, 'resolved', t.at, null, finite(t.value), t.reason)];
    }
  }

  private async record(
    tx: AlertTx,
    alertId: number,
    type: AlertEventType,
    at: number,
    actor: Principal | null,
    value: number | null,
    note: string | null,
  ): Promise<AlertEventView> {
    const event = await tx.addEvent(alertId, type, at, actor, value, note);
    await tx.enqueue(event.id, this.channels, (channel) => deliveryIdOf(event.id, channel), this.clock.now());
    await tx.touchNotified(alertId, this.clock.now());
    return event;
  }

  private async require(tx: AlertTx, id: number): Promise<AlertView> {
    const alert = await tx.get(id);
    if (!alert) throw new NotFoundError(`no alert with id ${id}`);
    return alert;
  }

  private published(events: readonly AlertEventView[]): void {
    for (const e of events) this.metrics.alertEvents.inc({ type: e.type });
    this.feed.publish(events);
  }
}
