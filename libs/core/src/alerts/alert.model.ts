import { Severity } from '@dustwatch/rules';

export const ALERT_STATES = ['open', 'acknowledged', 'resolved', 'closed'] as const;
export type AlertState = (typeof ALERT_STATES)[number];
export const ALERT_EVENT_TYPES = [
  'opened',
  'escalated',
  'acknowledged',
  'resolved',
  'closed',
  'reminder',
  'overdue',
] as const;
export type AlertEventType = (typeof ALERT_EVENT_TYPES)[number];

/** An alert as the API and every notification channel show it (times ISO 8601, UTC). */
export interface AlertView {
  id: number;
  rule: string;
  /** The rule's display name (zh-CN) when the alert opened; the rule id for alerts from before names. */
  ruleName: string;
  metric: string;
  subject: string;
  siteId: string;
  siteName: string | null;
  district: string;
  deviceId: string;
  state: AlertState;
  severity: Severity;
  threshold: number;
  /** The reading time of the first reading that met the rule. */
  openedAt: string;
  /**
   * When the service raised it: ≈ openedAt for live data, later for a device's buffered upload.
   * The response deadline runs from here — nobody can answer an alert before it exists.
   */
  raisedAt: string;
  firstExceedanceAt: string;
  lastExceedanceAt: string;
  peakValue: number | null;
  peakAt: string | null;
  lastValue: number | null;
  evidence: { from: string | null; to: string | null };
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  resolvedReason: string | null;
  closedBy: string | null;
  closedAt: string | null;
  closeNote: string | null;
}

/** An alert in the inspectors' list and detail: with its response deadline and whether it was missed. */
export interface AlertItem extends AlertView {
  /** raisedAt + the response deadline (rule file `compliance.responseDeadlineMinutes`). */
  responseDueAt: string;
  /** Acknowledged after the deadline, or not acknowledged and the deadline has passed (docs/reports.md, "overdue"). */
  overdue: boolean;
}

/** One entry of an alert's history, with the alert as it stood right after it. */
export interface AlertEventView {
  id: number;
  alertId: number;
  type: AlertEventType;
  at: string;
  actor: string | null;
  /** The person's display name at the time of the act (null for API keys and the service's own events). */
  actorName: string | null;
  severity: Severity;
  state: AlertState;
  value: number | null;
  note: string | null;
  alert: AlertView;
}

export interface AlertFilter {
  state?: AlertState[];
  siteId?: string;
  district?: string;
  rule?: string;
  severity?: Severity;
  /** Opened at or after / before (epoch ms). */
  from?: number;
  to?: number;
  limit: number;
  offset: number;
}
