import { Severity } from '@dustwatch/rules';
import { AlertEventType, AlertEventView, AlertFilter, AlertView } from '../alerts/alert.model';

export interface NewAlert {
  subject: string;
  rule: string;
  metric: string;
  siteId: string;
  district: string;
  deviceId: string;
  severity: Severity;
  threshold: number;
  at: number;
  since: number;
  value: number;
  evidenceFrom: number | null;
}

export interface RuleStateRow {
  subject: string;
  ruleId: string;
  phase: 'pending' | 'raised';
  since: number;
  severity: Severity;
}

export type AlertHistoryEntry = Omit<AlertEventView, 'alert'>;

/**
 * The alert ledger's store: alerts, their history, the rule engine's state. `transaction` runs
 * the ledger's changes as one unit, so an alert change, its history entry, the rule state and
 * the outbox rows of its notifications commit together or not at all.
 *
 * Its methods are synchronous inside `transaction` (the SQLite implementation's shape); a
 * store over an asynchronous driver would need an async unit of work here — the one port not
 * yet asynchronous (docs/architecture.md).
 */
export interface AlertStore {
  transaction<T>(fn: () => T): T;
  /** Opens an alert; an active one for the same (subject, rule) is updated instead (`created: false`). */
  open(a: NewAlert): { id: number; created: boolean };
  activeId(subject: string, rule: string): number | undefined;
  exceeded(id: number, at: number, value: number): void;
  escalate(id: number, severity: Severity, threshold: number): void;
  resolve(id: number, at: number, reason: string, value: number | null): void;
  acknowledge(id: number, by: string, at: number): boolean;
  close(id: number, by: string, at: number, note: string): boolean;
  touchNotified(id: number, at: number): void;
  dueReminders(before: number): number[];
  get(id: number): AlertView | undefined;
  list(f: AlertFilter): { total: number; items: AlertView[] };
  addEvent(
    alertId: number,
    type: AlertEventType,
    at: number,
    actor: string | null,
    value: number | null,
    note: string | null,
  ): AlertEventView;
  history(alertId: number): AlertHistoryEntry[];
  /** Events after `afterId`, oldest first (SSE replay). */
  eventsAfter(afterId: number, limit: number): AlertEventView[];
  lastEventId(): number;
  loadRuleStates(): RuleStateRow[];
  saveRuleState(subject: string, ruleId: string, state: Omit<RuleStateRow, 'subject' | 'ruleId'> | null): void;
  /** Active alerts per site and severity. */
  activeBySite(): Map<string, { warning: number; critical: number }>;
  activeCounts(): { rule: string; severity: string; n: number }[];
}
