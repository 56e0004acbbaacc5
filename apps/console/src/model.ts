/**
 * The console's pure parts — the work list's order and its live updates, the overdue marker,
 * how values and times are shown — kept free of React so jest tests them directly.
 */

import type { components } from './api/schema';

/** The API's own types (generated from its OpenAPI document: src/api/schema.ts). */
export type Schemas = components['schemas'];
export type Severity = Schemas['AlertItemResponse']['severity'];

/**
 * An alert in the work list: the list's item (with its response deadline); a live event's
 * snapshot lacks the deadline fields until the row is merged (applyEvent).
 */
export type Alert = Omit<Schemas['AlertItemResponse'], 'responseDueAt' | 'overdue'> & {
  responseDueAt?: string;
  overdue?: boolean;
};

export type AlertEvent = Omit<Schemas['AlertEventResponse'], 'alert'> & { alert: Alert };

const SEVERITY_RANK: Record<Severity, number> = { critical: 2, warning: 1 };

/** The work list: most severe first, then the newest. */
export function sortWorkList(alerts: readonly Alert[]): Alert[] {
  return [...alerts].sort(
    (a, b) =>
      SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || b.raisedAt.localeCompare(a.raisedAt) || b.id - a.id,
  );
}

/**
 * A live event into the work list: the alert as it stood after the event replaces its row (or
 * adds one); a closed alert leaves the list. The deadline fields the stream's snapshot lacks are
 * kept from the row.
 */
export function applyEvent(list: readonly Alert[], event: AlertEvent, deadlineMinutes = 60): Alert[] {
  const rest = list.filter((a) => a.id !== event.alert.id);
  if (event.alert.state === 'closed') return rest;
  const before = list.find((a) => a.id === event.alert.id);
  const responseDueAt =
    before?.responseDueAt ?? new Date(Date.parse(event.alert.raisedAt) + deadlineMinutes * 60_000).toISOString();
  return sortWorkList([
    ...rest,
    { ...event.alert, responseDueAt, overdue: before?.overdue ?? event.type === 'overdue' },
  ]);
}

/**
 * Overdue: the service said so when the row was loaded (its clock is the one that counts), or,
 * since then, the deadline has passed without an acknowledgement (the reports' definition).
 */
export function isOverdue(alert: Alert, now: number): boolean {
  if (alert.overdue) return true;
  if (!alert.responseDueAt) return false;
  const due = Date.parse(alert.responseDueAt);
  return alert.acknowledgedAt === null ? now > due : Date.parse(alert.acknowledgedAt) > due;
}

const UNITS: Record<string, string> = { pm10: 'µg/m³', pm25: 'µg/m³', tsp: 'µg/m³', noise: 'dB(A)', offline: 'min' };

export function formatValue(metric: string, value: number | null): string {
  if (value === null) return '—';
  return `${Math.round(value * 10) / 10} ${UNITS[metric] ?? ''}`.trim();
}

const SHANGHAI = new Intl.DateTimeFormat('sv-SE', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
});

/** Every time the console shows is Asia/Shanghai, whatever the phone's zone. */
export function formatTime(iso: string | null): string {
  return iso === null ? '—' : SHANGHAI.format(new Date(iso));
}
