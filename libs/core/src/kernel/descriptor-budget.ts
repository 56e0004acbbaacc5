/**
 * Every socket and file costs one descriptor of the process's open-file limit. When the device
 * edges could take them all, 19,980 idle HJ 212 connections left none for HTTP, the stores or
 * InfluxDB, and the whole service failed (issue 22). The edges' caps are therefore cut to fit
 * the limit, after a reserve for everything else.
 */
export interface ConnectionCaps {
  readonly http: number;
  readonly mqtt: number;
  readonly mqttPerAddress: number;
  readonly hj212: number;
  readonly hj212PerAddress: number;
}

export interface DescriptorPlan {
  /** The soft open-file limit the plan fits. */
  readonly limit: number;
  /** Kept for SQLite (database, WAL, journal), InfluxDB's connections, logs, Chromium's pipes, DNS. */
  readonly reserved: number;
  readonly caps: ConnectionCaps;
  /** One line per cap lowered from its configured value, naming the variable. */
  readonly lowered: readonly string[];
}

/** A running service holds ~35 descriptors of its own (descriptors.int.spec.ts counts them); the rest is margin: Chromium, InfluxDB retries, SQLite backups. */
const MIN_RESERVE = 256;
/** Shares of what is left: devices first (HJ 212 most monitors, then MQTT), people's HTTP the rest. */
const SHARES = { hj212: 0.5, mqtt: 0.4, http: 0.1 } as const;
/** One source address (a carrier's NAT) may take at most this part of an edge. */
const PER_ADDRESS_SHARE = 0.25;

const VARIABLES: Readonly<Record<keyof ConnectionCaps, string>> = {
  http: 'DUSTWATCH_HTTP_MAX_CONNECTIONS',
  mqtt: 'DUSTWATCH_MQTT_MAX_CONNECTIONS',
  mqttPerAddress: 'DUSTWATCH_MQTT_MAX_CONNECTIONS_PER_ADDRESS',
  hj212: 'DUSTWATCH_HJ212_MAX_CONNECTIONS',
  hj212PerAddress: 'DUSTWATCH_HJ212_MAX_CONNECTIONS_PER_ADDRESS',
};

/** The caps that fit `limit` descriptors: the configured ones, lowered where they would not fit. */
export function planDescriptors(
  limit: number,
  configured: ConnectionCaps,
  /** Edges that hold device connections here: one turned off (HJ 212 port 0, MQTT on an external broker) leaves its share to the others. */
  edges: { readonly hj212: boolean; readonly mqtt: boolean } = { hj212: true, mqtt: true },
): DescriptorPlan {
  const reserved = Math.max(MIN_RESERVE, Math.floor(limit * 0.05));
  const spare = Math.max(0, limit - reserved);
  const shares = { hj212: edges.hj212 ? SHARES.hj212 : 0, mqtt: edges.mqtt ? SHARES.mqtt : 0, http: SHARES.http };
  const total = shares.hj212 + shares.mqtt + shares.http;
  const fit = (share: number): number => Math.max(1, Math.floor((spare * share) / total));
  const hj212 = Math.min(configured.hj212, fit(shares.hj212));
  const mqtt = Math.min(configured.mqtt, fit(shares.mqtt));
  const caps: ConnectionCaps = {
    http: Math.min(configured.http, fit(shares.http)),
    mqtt,
    mqttPerAddress: Math.min(configured.mqttPerAddress, Math.max(1, Math.floor(mqtt * PER_ADDRESS_SHARE))),
    hj212,
    hj212PerAddress: Math.min(configured.hj212PerAddress, Math.max(1, Math.floor(hj212 * PER_ADDRESS_SHARE))),
  };
  const lowered = (Object.keys(caps) as (keyof ConnectionCaps)[])
    .filter((k) => caps[k] < configured[k])
    .map((k) => `${VARIABLES[k]} ${configured[k]} → ${caps[k]}`);
  return { limit, reserved, caps, lowered };
}

/** The open-file limits from /proc/self/limits ("Max open files  1024  524288  files"); null when not there. */
export function parseOpenFileLimits(procLimits: string): { soft: number; hard: number } | null {
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(procLimits);
  if (!match) return null;
  const value = (s: string): number => (s === 'unlimited' ? Number.POSITIVE_INFINITY : Number(s));
  return { soft: value(match[1]), hard: value(match[2]) };
}
