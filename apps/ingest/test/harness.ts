import { createConnection } from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { IClientOptions, MqttClient } from 'mqtt';
import { Clock, loadConfig } from '@dustwatch/core';
import { ThrowawayPostgres } from '@dustwatch/store-postgres';
import { RunningService, startService } from '../src/bootstrap';
import { InfluxServer } from './influx-server';

export const ADMIN_KEY = 'test-admin-key-0123456789';
export const TEST_DB = 'dustwatch_test';

/** The environment of a service under test: loopback, ephemeral ports, its own data folder. */
export function testEnv(
  influx: InfluxServer,
  dataDir: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    DUSTWATCH_ADMIN_API_KEY: ADMIN_KEY,
    DUSTWATCH_HTTP_HOST: '127.0.0.1',
    DUSTWATCH_HTTP_PORT: '0',
    DUSTWATCH_MQTT_HOST: '127.0.0.1',
    DUSTWATCH_MQTT_PORT: '0',
    // Off unless a test asks for it with a free port: 0 means off here, not "any port".
    DUSTWATCH_HJ212_PORT: '0',
    DUSTWATCH_DATA_DIR: dataDir,
    DUSTWATCH_INFLUX_URL: influx.url,
    DUSTWATCH_INFLUX_DB: TEST_DB,
    DUSTWATCH_LOG_LEVEL: 'warn',
    // The fleet snapshot adds lines to the spool; tests about spool depth and counts want only theirs.
    DUSTWATCH_SNAPSHOT_SECONDS: '0',
    // The report schedule would compute "yesterday" at start-up; the reports test turns it on.
    DUSTWATCH_REPORT_HOUR: '-1',
    ...extra,
  };
}

/**
 * The ingest-postgres jest project (test/on-postgres.ts, a setup file) calls `runOnPostgres()`:
 * the suite then runs with its shared stores on PostgreSQL — one throwaway cluster per test
 * file, one database per data folder, so a restart on the same folder finds the same database.
 */
let onPostgres = false;
let cluster: Promise<ThrowawayPostgres> | null = null;
const databaseOf = new Map<string, string>();

export function runOnPostgres(): void {
  onPostgres = true;
  afterAll(async () => {
    if (cluster) await (await cluster).stop();
  });
}

/** The variables that point a service (or the admin CLI) at the store of this data folder. */
async function storeEnv(dataDir: string): Promise<Record<string, string>> {
  if (!onPostgres) return {};
  let url = databaseOf.get(dataDir);
  if (!url) {
    cluster ??= ThrowawayPostgres.start();
    url = await (await cluster).database();
    databaseOf.set(dataDir, url);
  }
  return { DUSTWATCH_DATABASE_URL: url };
}

export interface TestService extends RunningService {
  readonly dataDir: string;
  /** What an admin CLI beside this service needs in its environment to use the same store. */
  readonly storeEnv: Record<string, string>;
  readonly baseUrl: string;
  readonly logs: string[];
  api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    key?: string | null,
  ): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

export async function startTestService(
  influx: InfluxServer,
  extra: Record<string, string> = {},
  dataDir = mkdtempSync(join(tmpdir(), 'dustwatch-data-')),
  clock?: Clock,
): Promise<TestService> {
  const store = await storeEnv(dataDir);
  const config = loadConfig(testEnv(influx, dataDir, { ...store, ...extra }));
  const logs: string[] = [];
  const service = await startService(config, { logSink: (line) => logs.push(line), clock });
  // The guard that a PostgreSQL run is one: the shared stores left no SQLite file behind.
  if (onPostgres && existsSync(join(dataDir, 'dustwatch.db'))) {
    await service.close();
    throw new Error(`on PostgreSQL, yet the service opened ${join(dataDir, 'dustwatch.db')}`);
  }
  const baseUrl = `http://127.0.0.1:${service.httpPort}`;
  return {
    ...service,
    dataDir,
    storeEnv: store,
    baseUrl,
    logs,
    api: (method, path, body, key = ADMIN_KEY) => api(baseUrl, method, path, body, key),
    stop: async () => {
      await service.close();
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export async function api<T>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  key: string | null = ADMIN_KEY,
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = {};
  if (key !== null) headers['x-api-key'] = key;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(baseUrl + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Creates a site and its devices through the admin API; returns each device's secret. */
export async function provision(
  service: { api: TestService['api'] },
  siteId: string,
  deviceIds: string[],
  district = 'Luzhou',
): Promise<Record<string, string>> {
  const site = await service.api('POST', '/api/sites', {
    id: siteId,
    name: `Site ${siteId}`,
    district,
    lat: 36.19,
    lon: 113.12,
  });
  if (site.status !== 201) throw new Error(`site: ${site.status} ${JSON.stringify(site.body)}`);
  const secrets: Record<string, string> = {};
  for (const id of deviceIds) {
    const res = await service.api<{ secret: string }>('POST', '/api/devices', {
      id,
      siteId,
      model: 'TEST-1',
      kind: 'site',
    });
    if (res.status !== 201) throw new Error(`device: ${res.status} ${JSON.stringify(res.body)}`);
    secrets[id] = res.body.secret;
  }
  return secrets;
}

/**
 * Connects like a device does; rejects with the CONNACK code on refusal. `localAddress` (any of
 * 127.0.0.0/8) makes the device come from another source address than a flood from 127.0.0.1.
 */
export function connectDevice(
  port: number,
  deviceId: string,
  secret: string | undefined,
  options: IClientOptions = {},
  localAddress?: string,
): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const opts: IClientOptions = {
      host: '127.0.0.1',
      port,
      protocolVersion: 4,
      clientId: deviceId,
      username: deviceId,
      password: secret,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      clean: true,
      ...options,
    };
    const client = localAddress
      ? new mqtt.MqttClient(() => createConnection({ host: '127.0.0.1', port, localAddress }), opts)
      : mqtt.connect(opts);
    client.once('connect', () => resolve(client));
    client.once('error', (error) => {
      client.end(true);
      reject(error);
    });
  });
}

/** Publishes one JSON array of readings (QoS 1) and resolves on PUBACK. */
export function publishBatch(
  client: MqttClient,
  deviceId: string,
  readings: { ts: number; pm10: number }[],
): Promise<void> {
  return new Promise((resolve, reject) =>
    client.publish(`devices/${deviceId}/readings`, JSON.stringify(readings), { qos: 1 }, (e) =>
      e ? reject(e) : resolve(),
    ),
  );
}

/**
 * Polls until `probe` returns a value that `done` accepts, or fails after the deadline. A probe
 * that throws (InfluxDB's database not created yet, a port not open yet) means "not yet"; the
 * last error is reported if the deadline passes.
 */
export async function eventually<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let failure: unknown = null;
    let last: T | undefined;
    try {
      last = await probe();
      if (done(last)) return last;
    } catch (error) {
      failure = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}; last ${failure ? `error: ${(failure as Error).message}` : `value: ${JSON.stringify(last)}`}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Value of a Prometheus sample (`name{labels}`) in the /metrics text, or null. */
export async function metricValue(baseUrl: string, sample: string): Promise<number | null> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(sample + ' '));
  return line ? Number(line.slice(sample.length + 1)) : null;
}

/** GET /api/health (the detailed report, behind a key): status code and body. */
export async function healthDetails<T = HealthBody>(baseUrl: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${baseUrl}/api/health`, { headers: { 'x-api-key': ADMIN_KEY } });
  return { status: res.status, body: (await res.json()) as T };
}

export interface HealthBody {
  status: string;
  broker: { listening: boolean; port: number; connectedDevices: number };
  spool: { writable: boolean; depth: number; bytes: number; quotaBytes: number; overQuota: boolean };
  quarantine: { bytes: number; quotaBytes: number };
  database: { engine: 'sqlite' | 'postgres'; reachable: boolean; error: string | null };
  influx: { reachable: boolean; lastError: string | null };
}

/** Waits until the spool is empty: every acknowledged line is in InfluxDB, so counts there are final. */
export async function spoolDrained(baseUrl: string, timeoutMs = 20_000): Promise<void> {
  await eventually(
    async () => (await healthDetails(baseUrl)).body.spool.depth,
    (depth) => depth === 0,
    timeoutMs,
    'the spool to drain into InfluxDB',
  );
}
