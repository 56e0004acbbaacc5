import { isValidId } from './ids';

/** Topic layout of contract v1. A device owns everything under `devices/{deviceId}/`. */
export const TOPIC_ROOT = 'devices';
export type DeviceTopicKind = 'readings' | 'status' | 'errors';

export function deviceTopic(deviceId: string, kind: DeviceTopicKind): string {
  return `${TOPIC_ROOT}/${deviceId}/${kind}`;
}

export interface ParsedDeviceTopic {
  readonly deviceId: string;
  readonly kind: string;
}

/** Splits `devices/{id}/{kind}`; anything else (extra levels, bad id) is null. */
export function parseDeviceTopic(topic: string): ParsedDeviceTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 3 || parts[0] !== TOPIC_ROOT || !isValidId(parts[1]) || parts[2] === '') return null;
  return { deviceId: parts[1], kind: parts[2] };
}

/** Topics a device may publish to: its own readings and status, nothing else. */
export function mayPublish(deviceId: string, topic: string): boolean {
  const parsed = parseDeviceTopic(topic);
  return parsed !== null && parsed.deviceId === deviceId && (parsed.kind === 'readings' || parsed.kind === 'status');
}

/**
 * Topic filters a device may subscribe to: only below its own `devices/{id}/`. A wildcard is
 * allowed in the last level only within its own subtree (e.g. `devices/d1/#`), never in the id.
 */
export function maySubscribe(deviceId: string, filter: string): boolean {
  const prefix = `${TOPIC_ROOT}/${deviceId}/`;
  if (!filter.startsWith(prefix)) return false;
  const rest = filter.slice(prefix.length);
  if (rest === '') return false;
  const levels = rest.split('/');
  return levels.every((level, i) => level === '+' || (level === '#' ? i === levels.length - 1 : !/[+#]/.test(level)));
}

export const ALERTS_ROOT = 'alerts';
export const alertTopic = (siteId: string): string => `${ALERTS_ROOT}/${siteId}`;

/** Filters an API-key subscriber (viewer or above) may use: `alerts/#`, `alerts/+` or `alerts/{siteId}`. */
export function mayWatchAlerts(filter: string): boolean {
  if (filter === `${ALERTS_ROOT}/#` || filter === `${ALERTS_ROOT}/+`) return true;
  const rest = filter.startsWith(`${ALERTS_ROOT}/`) ? filter.slice(ALERTS_ROOT.length + 1) : null;
  return rest !== null && isValidId(rest);
}
