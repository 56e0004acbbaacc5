import type { ComplianceReport, PeriodKind } from '@dustwatch/reports';
import type { Severity } from '@dustwatch/rules';
import type { AlertEventType, AlertEventView, AlertState, AlertView } from '../alerts/alert.model';
import type { Principal } from '../auth/roles';
import type { OutboxView } from './outbox-store';
import type { Device, Hj212Settings } from './registry-store';
import type { StoredReport, StoredReportMeta } from './report-store';

/**
 * Row shapes the SQLite and PostgreSQL stores share: both hold the same columns (epoch ms, 0/1
 * flags, JSON as text), so one mapping from a row to the port's view serves both.
 */

/** The columns of an AlertRow (aliases quoted: PostgreSQL folds unquoted names to lower case; SQLite takes both). */
export const ALERT_COLUMNS = `a.id, a.rule, coalesce(a.rule_name, a.rule) AS "ruleName", a.metric, a.subject, a.site_id AS "siteId", s.name AS "siteName", a.district, a.device_id AS "deviceId",
  a.state, a.severity, a.threshold, a.opened_at AS "openedAt", a.raised_at AS "raisedAt", a.first_exceedance_at AS "firstExceedanceAt", a.last_exceedance_at AS "lastExceedanceAt",
  a.peak_value AS "peakValue", a.peak_at AS "peakAt", a.last_value AS "lastValue", a.evidence_from AS "evidenceFrom", a.evidence_to AS "evidenceTo",
  a.acknowledged_by AS "acknowledgedBy", a.acknowledged_at AS "acknowledgedAt", a.resolved_at AS "resolvedAt", a.resolved_reason AS "resolvedReason",
  a.closed_by AS "closedBy", a.closed_at AS "closedAt", a.close_note AS "closeNote"`;
export const ALERT_FROM = 'alerts a LEFT JOIN sites s ON s.id = a.site_id';

/** The columns of an AlertEventRow. */
export const ALERT_EVENT_COLUMNS =
  'id, alert_id AS "alertId", type, at, actor, actor_name AS "actorName", severity, state, value, note, alert_snapshot AS snapshot';

/**
 * The outbox rows `channel` may lease to `owner` at `now`, oldest first (named parameters
 * @channel, @owner, @now; PostgreSQL's store numbers them): due, not leased to another owner,
 * and below the first blocker of their alert on the channel — its first pending row still
 * waiting for a retry or leased to someone else — so each receiver sees an alert's events in
 * order. One pass finds every alert's blocker.
 */
export const CLAIMABLE_OUTBOX_ROWS = `WITH blockers AS (
    SELECT e.alert_id, min(p.id) AS first_blocked FROM outbox p JOIN alert_events e ON e.id = p.event_id
     WHERE p.channel = @channel AND p.state = 'pending'
       AND (p.next_attempt_at > @now OR (p.claimed_until >= @now AND p.claimed_by <> @owner))
     GROUP BY e.alert_id)
  SELECT o.id FROM outbox o JOIN alert_events e ON e.id = o.event_id LEFT JOIN blockers b ON b.alert_id = e.alert_id
   WHERE o.channel = @channel AND o.state = 'pending' AND o.next_attempt_at <= @now
     AND (o.claimed_until IS NULL OR o.claimed_until < @now OR o.claimed_by = @owner)
     AND (b.first_blocked IS NULL OR o.id < b.first_blocked)
   ORDER BY o.id`;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** An `alerts` row joined with its site's name, columns aliased to these names. */
export interface AlertRow {
  id: number;
  rule: string;
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
  openedAt: number;
  raisedAt: number | null;
  firstExceedanceAt: number;
  lastExceedanceAt: number;
  peakValue: number | null;
  peakAt: number | null;
  lastValue: number | null;
  evidenceFrom: number | null;
  evidenceTo: number | null;
  acknowledgedBy: string | null;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
  resolvedReason: string | null;
  closedBy: string | null;
  closedAt: number | null;
  closeNote: string | null;
}

export function alertViewOf(r: AlertRow): AlertView {
  return {
    id: r.id,
    rule: r.rule,
    ruleName: r.ruleName,
    metric: r.metric,
    subject: r.subject,
    siteId: r.siteId,
    siteName: r.siteName,
    district: r.district,
    deviceId: r.deviceId,
    state: r.state,
    severity: r.severity,
    threshold: r.threshold,
    openedAt: iso(r.openedAt)!,
    raisedAt: iso(r.raisedAt ?? r.openedAt)!,
    firstExceedanceAt: iso(r.firstExceedanceAt)!,
    lastExceedanceAt: iso(r.lastExceedanceAt)!,
    peakValue: r.peakValue,
    peakAt: iso(r.peakAt),
    lastValue: r.lastValue,
    evidence: { from: iso(r.evidenceFrom), to: iso(r.evidenceTo) },
    acknowledgedBy: r.acknowledgedBy,
    acknowledgedAt: iso(r.acknowledgedAt),
    resolvedAt: iso(r.resolvedAt),
    resolvedReason: r.resolvedReason,
    closedBy: r.closedBy,
    closedAt: iso(r.closedAt),
    closeNote: r.closeNote,
  };
}

/** An `alert_events` row; `snapshot` the alert as it stood right after the event. */
export type AlertEventRow = Omit<AlertEventView, 'alert' | 'at'> & { at: number; snapshot: string };

export const alertEventViewsOf = (rows: readonly AlertEventRow[]): AlertEventView[] =>
  rows.map(({ snapshot, ...e }) => ({ ...e, at: iso(e.at)!, alert: alertOfSnapshot(snapshot) }));

/** Snapshots from before rule names carry the rule id only. */
function alertOfSnapshot(snapshot: string): AlertView {
  const alert = JSON.parse(snapshot) as Omit<AlertView, 'ruleName'> & { ruleName?: string };
  return { ...alert, ruleName: alert.ruleName ?? alert.rule };
}

export const SITE_COLUMNS = 'id, name, district, lat, lon, area_m2 AS "areaM2"';
/** The columns of a DeviceRow from DEVICES. */
export const DEVICE_COLUMNS =
  'd.id, d.site_id AS "siteId", d.model, d.kind, d.enabled, h.mn AS "hjMn", h.crc AS "hjCrc", h.units AS "hjUnits"';
export const DEVICES = 'devices d LEFT JOIN device_hj212 h ON h.device_id = d.id';

/** An outbox row with its alert (JOIN alert_events), times as epoch ms. */
export type OutboxViewRow = Omit<OutboxView, 'nextAttemptAt' | 'createdAt' | 'deliveredAt'> & {
  nextAttemptAt: number;
  createdAt: number;
  deliveredAt: number | null;
};

export const OUTBOX_VIEW_COLUMNS = `o.id, o.delivery_id AS "deliveryId", o.event_id AS "eventId", e.alert_id AS "alertId", o.channel, o.state, o.attempts,
  o.next_attempt_at AS "nextAttemptAt", o.last_error AS "lastError", o.created_at AS "createdAt", o.delivered_at AS "deliveredAt"`;

export const outboxViewOf = (r: OutboxViewRow): OutboxView => ({
  ...r,
  nextAttemptAt: iso(r.nextAttemptAt)!,
  createdAt: iso(r.createdAt)!,
  deliveredAt: iso(r.deliveredAt),
});

/** A history entry's columns (an event without the alert's snapshot). */
export const ALERT_HISTORY_COLUMNS =
  'id, alert_id AS "alertId", type, at, actor, actor_name AS "actorName", severity, state, value, note';

export const historyEntryOf = (
  e: Omit<AlertEventView, 'alert' | 'at'> & { at: number },
): Omit<AlertEventView, 'alert'> => ({
  ...e,
  at: iso(e.at)!,
});

/** The INSERT of an event, in both stores' parameter order (`?` on SQLite, `$1…$10` on PostgreSQL). */
export const ALERT_EVENT_INSERT_COLUMNS =
  'alert_id, type, at, actor, actor_name, severity, state, value, note, alert_snapshot';

export const alertEventValues = (
  alert: AlertView,
  type: AlertEventType,
  at: number,
  by: Principal | null,
  value: number | null,
  note: string | null,
): unknown[] => [
  alert.id,
  type,
  at,
  by?.name ?? null,
  by?.displayName ?? null,
  alert.severity,
  alert.state,
  value,
  note,
  JSON.stringify(alert),
];

/** The event `addEvent` just wrote, as the port returns it. */
export function newAlertEventView(
  id: number,
  alert: AlertView,
  type: AlertEventType,
  at: number,
  by: Principal | null,
  value: number | null,
  note: string | null,
): AlertEventView {
  return {
    id,
    alertId: alert.id,
    type,
    at: iso(at)!,
    actor: by?.name ?? null,
    actorName: by?.displayName ?? null,
    severity: alert.severity,
    state: alert.state,
    value,
    note,
    alert,
  };
}

/** `SELECT site_id AS "siteId", severity, count(*) AS n … GROUP BY site_id, severity` as a map per site. */
export function activeBySiteOf(
  rows: readonly { siteId: string; severity: 'warning' | 'critical'; n: number }[],
): Map<string, { warning: number; critical: number }> {
  const bySite = new Map<string, { warning: number; critical: number }>();
  for (const r of rows) {
    const entry = bySite.get(r.siteId) ?? { warning: 0, critical: 0 };
    entry[r.severity] = r.n;
    bySite.set(r.siteId, entry);
  }
  return bySite;
}

/** The device columns with the HJ 212 identity's (LEFT JOIN device_hj212). */
export interface DeviceRow {
  enabled: number | boolean;
  hjMn: string | null;
  hjCrc: Hj212Settings['crc'] | null;
  hjUnits: string | null;
}

/** A row as a Device: enabled as a boolean, the HJ 212 columns as `hj212`. */
export function deviceOf<T extends DeviceRow>(row: T): Omit<T, keyof DeviceRow> & Device {
  const { enabled, hjMn, hjCrc, hjUnits, ...rest } = row;
  const device = { ...rest, enabled: enabled === 1 || enabled === true } as unknown as Omit<T, keyof DeviceRow> &
    Device;
  if (hjMn !== null && hjCrc !== null)
    device.hj212 = { mn: hjMn, crc: hjCrc, units: JSON.parse(hjUnits ?? '{}') as Hj212Settings['units'] };
  return device;
}

/** A `reports` row; `body` only when asked for. */
export interface ReportRow {
  kind: PeriodKind;
  period: string;
  version: number;
  computed_at: number;
  data_as_of: number;
  computed_by: string;
  summary_sent_at: number | null;
  body?: string;
}

export const REPORT_META_COLUMNS = 'kind, period, version, computed_at, data_as_of, computed_by, summary_sent_at';

export const reportMetaOf = (r: ReportRow): StoredReportMeta => ({
  kind: r.kind,
  period: r.period,
  version: r.version,
  computedAt: r.computed_at,
  dataAsOf: r.data_as_of,
  computedBy: r.computed_by,
  summarySentAt: r.summary_sent_at,
});

export const storedReportOf = (r: ReportRow | undefined): StoredReport | undefined =>
  r && { meta: reportMetaOf(r), report: JSON.parse(r.body as string) as ComplianceReport };
