import { Severity } from '@dustwatch/rules';
import type { ReportAlert } from '@dustwatch/reports';
import { AlertEventType, AlertEventView, AlertFilter, AlertView } from '../alerts/alert.model';
import { Principal } from '../auth/roles';

export interface NewAlert {
  subject: string;
  rule: string;
  /** The rule's display name when the alert opened (the rule file's `name`). */
  ruleName: string;
  metric: string;
  siteId: string;
  district: string;
  deviceId: string;
  severity: Severity;
  threshold: number;
  at: number;
  /** When the service raised it (its clock): the response deadline runs from here. */
  raisedAt: number;
  since: number;
  value: number;
  evidenceFrom: number | null;
}

export interface RuleStateRow {
  subject: string;
  ruleId: string;
  /** `cleared`: the memory of the last episode, `since` = when it cleared (see RuleState). */
  phase: 'pending' | 'raised' | 'cleared';
  since: number;
  severity: Severity;
}

export type AlertHistoryEntry = Omit<AlertEventView, 'alert'>;

/** The ledger's writes inside one unit of work. */
export interface AlertTx {
  /** Opens an alert; an active one for the same (subject, rule) is updated instead (`created: false`). */
  open(a: NewAlert): Promise<{ id: number; created: boolean }>;
  activeId(subject: string, rule: string): Promise<number | undefined>;
  exceeded(id: number, at: number, value: number): Promise<void>;
  escalate(id: number, severity: Severity, threshold: number): Promise<void>;
  resolve(id: number, at: number, reason: string, value: number | null): Promise<void>;
  acknowledge(id: number, by: string, at: number): Promise<boolean>;
  close(id: number, by: string, at: number, note: string): Promise<boolean>;
  touchNotified(id: number, at: number): Promise<void>;
  /** Unacknowledged, not closed, raised at or before `raisedBefore`, never escalated as overdue. */
  dueOverdue(raisedBefore: number): Promise<number[]>;
  markOverdue(id: number, at: number): Promise<void>;
  /** Open (unacknowledged) alerts last notified before `before`. */
  dueReminders(before: number): Promise<number[]>;
  get(id: number): Promise<AlertView | undefined>;
  /** Appends a history entry with the alert as it now stands. */
  addEvent(
    alertId: number,
    type: AlertEventType,
    at: number,
    actor: Principal | null,
    value: number | null,
    note: string | null,
  ): Promise<AlertEventView>;
  saveRuleState(subject: string, ruleId: string, state: Omit<RuleStateRow, 'subject' | 'ruleId'> | null): Promise<void>;
  /** One outbox row per channel for an event (the outbox lives with the ledger: same unit of work). */
  enqueue(
    eventId: number,
    channels: readonly string[],
    deliveryIdOf: (channel: string) => string,
    now: number,
  ): Promise<void>;
}

/**
 * The alert ledger's store: alerts, their history, the rule engine's state, the outbox rows of
 * notifications. `transaction` runs the ledger's changes as one unit of work, so an alert change,
 * its history entry, the rule state and the notifications it causes commit together or not at
 * all; an implementation over an asynchronous driver (PostgreSQL) maps it to BEGIN … COMMIT on
 * one connection.
 */
export interface AlertStore {
  transaction<T>(work: (tx: AlertTx) => Promise<T>): Promise<T>;
  get(id: number): Promise<AlertView | undefined>;
  list(f: AlertFilter): Promise<{ total: number; items: AlertView[] }>;
  history(alertId: number): Promise<AlertHistoryEntry[]>;
  /** Events after `afterId`, oldest first (SSE replay). */
  eventsAfter(afterId: number, limit: number): Promise<AlertEventView[]>;
  lastEventId(): Promise<number>;
  loadRuleStates(): Promise<RuleStateRow[]>;
  /** Active alerts per site and severity. */
  activeBySite(): Promise<Map<string, { warning: number; critical: number }>>;
  activeCounts(): Promise<{ rule: string; severity: string; n: number }[]>;
  /** Alerts opened before `to` and not closed before `from`: what a report of [from, to) judges. */
  forReport(from: number, to: number): Promise<ReportAlert[]>;
}
