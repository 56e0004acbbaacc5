import { readFileSync, writeFileSync } from 'node:fs';
import { CONSOLE_API_TYPES, consoleApiTypes } from './console-api-types';
import { MqttClient } from 'mqtt';
import { InfluxServer } from './influx-server';
import {
  ADMIN_KEY,
  TEST_DB,
  TestService,
  connectDevice,
  eventually,
  metricValue,
  provision,
  removeDir,
  spoolDrained,
  startTestService,
  healthDetails,
} from './harness';

// Real parts: influxd from Debian's package, the service's embedded aedes over TCP, the mqtt
// client, SQLite on disk. Nothing here is mocked.
let influx: InfluxServer;
let service: TestService;
let secrets: Record<string, string>;
const clients: MqttClient[] = [];

const NOW = Date.now();
const T0 = Math.floor(NOW / 60_000) * 60_000 - 30 * 60_000; // a whole minute, half an hour ago

async function device(id: string): Promise<MqttClient> {
  const client = await connectDevice(service.mqttPort, id, secrets[id]);
  clients.push(client);
  return client;
}

function points(where: string): Promise<Record<string, unknown>[]> {
  return influx.rows(TEST_DB, `SELECT * FROM raw.readings WHERE ${where} ORDER BY time`);
}

function connackCode(promise: Promise<unknown>): Promise<number | string> {
  return promise.then(
    () => 'connected',
    (error: { code?: number }) => error.code ?? 'no code',
  );
}

beforeAll(async () => {
  influx = await InfluxServer.start();
  service = await startTestService(influx);
  secrets = await provision(service, 'CZ-001', ['dev-a', 'dev-b', 'dev-c', 'dev-d', 'dev-e']);
});

afterAll(async () => {
  for (const c of clients) c.end(true);
  await service?.stop();
  await influx?.stop();
  if (service) removeDir(service.dataDir);
});

describe('readings over MQTT land in InfluxDB', () => {
  it('stores a QoS 1 reading with the right tags, fields and time', async () => {
    const client = await device('dev-a');
    await client.publishAsync(
      'devices/dev-a/readings',
      JSON.stringify({
        ts: new Date(T0).toISOString(),
        pm25: 35.5,
        pm10: 120,
        tsp: 260,
        noise: 70,
        windSpeed: 2.5,
        windDir: 180,
        temperature: 12.5,
        humidity: 40,
        pressure: 91.2,
        flags: { tsp: 'M' },
      }),
      { qos: 1 },
    );
    const fields =
      'site, pm25, pm10, tsp, tsp_flagged, tsp_flag, noise, noise_energy, wind_speed, wind_dir, temperature, humidity, pressure, server_time';
    const rows = await eventually(
      () => influx.rows(TEST_DB, `SELECT ${fields} FROM raw.readings WHERE device = 'dev-a'`),
      (r) => r.length === 1,
      20_000,
      'the point',
    );
    expect(rows).toEqual([
      {
        time: T0,
        site: 'CZ-001',
        pm25: 35.5,
        pm10: 120,
        tsp: null,
        tsp_flagged: 260,
        tsp_flag: 'M',
        noise: 70,
        noise_energy: 1e7,
        wind_speed: 2.5,
        wind_dir: 180,
        temperature: 12.5,
        humidity: 40,
        pressure: 91.2,
        server_time: null,
      },
    ]);
  });

  it('keeps the good readings of a batch, quarantines the bad ones and tells the device', async () => {
    const client = await device('dev-b');
    const errors: string[] = [];
    await client.subscribeAsync('devices/dev-b/errors', { qos: 1 });
    client.on('message', (_topic, payload) => errors.push(payload.toString()));
    await client.publishAsync(
      'devices/dev-b/readings',
      JSON.stringify([
        { ts: T0, pm10: 50 },
        { ts: T0 + 60_000, pm10: -3 },
        { ts: T0 + 120_000, pm10: 70, colour: 'red' },
        { ts: T0 + 180_000, pm10: 90 },
      ]),
      { qos: 1 },
    );
    const rows = await eventually(
      () => points(`device = 'dev-b'`),
      (r) => r.length === 2,
      20_000,
      'two points',
    );
    expect(rows.map((r) => [r.time, r.pm10])).toEqual([
      [T0, 50],
      [T0 + 180_000, 90],
    ]);
    await eventually(
      async () => errors.length,
      (n) => n === 1,
      5000,
      'the error message',
    );
    expect(JSON.parse(errors[0])).toEqual({
      accepted: 2,
      rejected: [
        { index: 1, reasons: [{ code: 'out_of_range', field: 'pm10', message: 'pm10 must be ≥ 0 µg/m³' }] },
        { index: 2, reasons: [{ code: 'unknown_field', field: 'colour', message: 'unknown field "colour"' }] },
      ],
    });
    const quarantine = await service.api<
      { deviceId: string; batchIndex: number; reasons: { code: string }[]; raw: string }[]
    >('GET', '/api/quarantine?deviceId=dev-b');
    expect(quarantine.status).toBe(200);
    expect(quarantine.body.map((q) => [q.batchIndex, q.reasons.map((r) => r.code), q.raw])).toEqual([
      [2, ['unknown_field'], `{"ts":${T0 + 120_000},"pm10":70,"colour":"red"}`],
      [1, ['out_of_range'], `{"ts":${T0 + 60_000},"pm10":-3}`],
    ]);
  });

  it('quarantines malformed JSON with its raw text and counts the reason', async () => {
    const before = await metricValue(service.baseUrl, 'dustwatch_readings_rejected_total{reason="malformed_json"}');
    const client = await device('dev-c');
    await client.publishAsync('devices/dev-c/readings', '{"pm10": NaN}', { qos: 1 });
    const [entry] = (
      await service.api<{ reasons: { code: string }[]; raw: string; batchIndex: null }[]>(
        'GET',
        '/api/quarantine?deviceId=dev-c',
      )
    ).body;
    expect(entry.reasons.map((r) => r.code)).toEqual(['malformed_json']);
    expect(entry.raw).toBe('{"pm10": NaN}');
    expect(entry.batchIndex).toBeNull();
    expect(await metricValue(service.baseUrl, 'dustwatch_readings_rejected_total{reason="malformed_json"}')).toBe(
      (before ?? 0) + 1,
    );
  });

  it('stores a redelivered QoS 1 duplicate once: written to InfluxDB once, counted as a duplicate', async () => {
    // InfluxDB merges points of the same series and time, so the stored rows alone cannot show a
    // double write: the points-written counter can.
    await spoolDrained(service.baseUrl);
    const written = async (): Promise<number> =>
      (await metricValue(service.baseUrl, 'dustwatch_influx_points_written_total')) ?? 0;
    const duplicates = async (): Promise<number> =>
      (await metricValue(service.baseUrl, 'dustwatch_readings_duplicate_total')) ?? 0;
    const [writtenBefore, duplicatesBefore] = [await written(), await duplicates()];
    const client = await device('dev-d');
    const reading = JSON.stringify({ ts: T0 + 5000, pm10: 77 });
    await client.publishAsync('devices/dev-d/readings', reading, { qos: 1 });
    await client.publishAsync('devices/dev-d/readings', reading, { qos: 1, dup: true });
    await client.publishAsync('devices/dev-d/readings', JSON.stringify({ ts: T0 + 5000, pm10: 99 }), { qos: 1 }); // same time, other value: the first stays
    await client.publishAsync('devices/dev-d/readings', JSON.stringify({ ts: T0 + 65_000, pm10: 78 }), { qos: 1 });
    await spoolDrained(service.baseUrl);
    expect((await points(`device = 'dev-d'`)).map((r) => [r.time, r.pm10])).toEqual([
      [T0 + 5000, 77],
      [T0 + 65_000, 78],
    ]);
    expect((await written()) - writtenBefore).toBe(2);
    expect((await duplicates()) - duplicatesBefore).toBe(2);
  });

  it('stamps a reading without ts with the receive time and marks it', async () => {
    const client = await device('dev-e');
    const before = Date.now();
    await client.publishAsync('devices/dev-e/readings', JSON.stringify({ humidity: 55 }), { qos: 0 });
    const rows = await eventually(
      () => points(`device = 'dev-e'`),
      (r) => r.length === 1,
      20_000,
      'the point',
    );
    expect(rows[0]).toMatchObject({ humidity: 55, server_time: true });
    expect(rows[0].time as number).toBeGreaterThanOrEqual(before);
    expect(rows[0].time as number).toBeLessThanOrEqual(Date.now());
  });

  it('rolls late readings up into readings_1h with the noise energy average', async () => {
    const client = await device('dev-a');
    const hour = Math.floor((NOW - 5 * 3_600_000) / 3_600_000) * 3_600_000;
    await client.publishAsync(
      'devices/dev-a/readings',
      JSON.stringify([
        { ts: hour + 60_000, pm10: 100, noise: 60 },
        { ts: hour + 120_000, pm10: 200, noise: 80 },
      ]),
      { qos: 1 },
    );
    const rows = await eventually(
      () =>
        influx.rows(
          TEST_DB,
          `SELECT pm10, noise, noise_max, pm10_n FROM long.readings_1h WHERE device = 'dev-a' AND time = ${hour}ms`,
        ),
      (r) => r.length === 1,
      20_000,
      'the hourly row',
    );
    expect(rows[0].pm10).toBe(150);
    // Energy average of 60 and 80 dB(A): 10·log10((10^6 + 10^8) / 2) = 77.03 dB(A), not 70.
    expect(rows[0].noise as number).toBeCloseTo(10 * Math.log10((1e6 + 1e8) / 2), 9);
    expect(rows[0].noise_max).toBe(80);
    expect(rows[0].pm10_n).toBe(2);
  });
});

describe('device authentication and authorisation', () => {
  it('refuses bad credentials with the proper CONNACK codes', async () => {
    const port = service.mqttPort;
    expect(await connackCode(connectDevice(port, 'dev-a', 'wrong-secret-xxxxxxxx'))).toBe(4);
    expect(await connackCode(connectDevice(port, 'nobody', 'whatever-secret-xxxx'))).toBe(4);
    expect(await connackCode(connectDevice(port, 'dev-a', undefined))).toBe(4);
    expect(await connackCode(connectDevice(port, 'dev-a', secrets['dev-a'], { username: 'dev-b' }))).toBe(2);
    expect(await connackCode(connectDevice(port, 'dev+a', 'x', { username: 'dev+a' }))).toBe(2);
    expect(
      await metricValue(service.baseUrl, 'dustwatch_mqtt_connects_refused_total{code="4"}'),
    ).toBeGreaterThanOrEqual(3);
  });

  it('refuses a disabled device with code 5 and drops its live connection', async () => {
    const extra = await provision(service, 'CZ-002', ['dev-x']);
    const live = await connectDevice(service.mqttPort, 'dev-x', extra['dev-x']);
    const closed = new Promise<void>((resolve) => live.once('close', () => resolve()));
    expect((await service.api('POST', '/api/devices/dev-x/disable')).status).toBe(200);
    await closed;
    live.end(true);
    expect(await connackCode(connectDevice(service.mqttPort, 'dev-x', extra['dev-x']))).toBe(5);
  });

  it('lets a device subscribe only below its own topics (SUBACK 0x80 otherwise)', async () => {
    const client = await device('dev-b');
    // mqtt.js rejects a SUBACK that holds a refusal; the packet it carries is what the broker sent.
    const suback = await client
      .subscribeAsync(['devices/dev-b/errors', 'devices/dev-a/errors', 'devices/+/readings', '#'], { qos: 1 })
      .then(
        () => null,
        (error: { packet?: { granted: number[] } }) => error.packet,
      );
    expect(suback?.granted).toEqual([1, 128, 128, 128]);
  });

  it("disconnects a device that publishes to another device's topic, and stores nothing", async () => {
    const client = await device('dev-c');
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish('devices/dev-e/readings', JSON.stringify({ ts: T0 + 999, pm10: 5 }), { qos: 1 });
    await closed;
    expect(await points(`time = ${T0 + 999}ms`)).toEqual([]);
    expect(
      await metricValue(service.baseUrl, 'dustwatch_mqtt_publishes_refused_total{reason="topic_not_allowed"}'),
    ).toBe(1);
  });

  it('refuses packets over 64 KiB by closing the connection', async () => {
    const client = await device('dev-d');
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish('devices/dev-d/readings', JSON.stringify({ pm10: 1, pad: 'x'.repeat(70 * 1024) }), { qos: 1 });
    await closed;
    expect(
      await metricValue(service.baseUrl, 'dustwatch_mqtt_publishes_refused_total{reason="packet_too_large"}'),
    ).toBe(1);
  });

  it('never lets a CONNECT without the secret kick a live device; the real device takes over', async () => {
    const first = await device('dev-e');
    expect(await connackCode(connectDevice(service.mqttPort, 'dev-e', 'attacker-guess-xxxxxxx'))).toBe(4);
    expect(first.connected).toBe(true);
    await first.publishAsync('devices/dev-e/readings', JSON.stringify({ ts: T0 + 7000, pm10: 11 }), { qos: 1 });

    const firstClosed = new Promise<void>((resolve) => first.once('close', () => resolve()));
    first.options.reconnectPeriod = 0;
    const second = await device('dev-e');
    await firstClosed;
    await second.publishAsync('devices/dev-e/readings', JSON.stringify({ ts: T0 + 8000, pm10: 12 }), { qos: 1 });
    const rows = await eventually(
      () => points(`device = 'dev-e' AND time >= ${T0 + 7000}ms AND time <= ${T0 + 8000}ms`),
      (r) => r.length === 2,
      20_000,
      'both points',
    );
    expect(rows.map((r) => r.pm10)).toEqual([11, 12]);
    const devices = await service.api<{ id: string; online: boolean }[]>('GET', '/api/devices?siteId=CZ-001');
    expect(devices.body.find((d) => d.id === 'dev-e')?.online).toBe(true);
  });
});

describe('admin API and operations endpoints', () => {
  it('records connect, disconnect and last-seen per device', async () => {
    const before = Date.now();
    const client = await connectDevice(service.mqttPort, 'dev-b', secrets['dev-b']);
    await client.publishAsync('devices/dev-b/readings', JSON.stringify({ ts: T0 + 11_000, pm10: 5 }), { qos: 1 });
    await client.endAsync();
    const devices = await eventually(
      () =>
        service.api<
          { id: string; online: boolean; lastConnectAt: string; lastDisconnectAt: string; lastSeenAt: string }[]
        >('GET', '/api/devices?siteId=CZ-001'),
      (res) => res.body.find((d) => d.id === 'dev-b')?.online === false,
      5000,
      'dev-b offline',
    );
    const status = devices.body.find((d) => d.id === 'dev-b')!;
    for (const at of [status.lastConnectAt, status.lastDisconnectAt, status.lastSeenAt]) {
      expect(Date.parse(at)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(at)).toBeLessThanOrEqual(Date.now());
    }
    expect(Date.parse(status.lastDisconnectAt)).toBeGreaterThanOrEqual(Date.parse(status.lastConnectAt));
  });

  it('records the last will on devices/{id}/status when a connection dies without DISCONNECT', async () => {
    const client = await connectDevice(service.mqttPort, 'dev-d', secrets['dev-d'], {
      will: { topic: 'devices/dev-d/status', payload: Buffer.from('offline: power lost'), qos: 1, retain: false },
    });
    client.stream.destroy(); // the device vanishes: no DISCONNECT, so the broker publishes the will
    client.end(true);
    const devices = await eventually(
      () =>
        service.api<{ id: string; online: boolean; lastStatus: string | null; lastStatusAt: string | null }[]>(
          'GET',
          '/api/devices?siteId=CZ-001',
        ),
      (res) => res.body.find((d) => d.id === 'dev-d')?.lastStatus !== null,
      5000,
      'the last will',
    );
    const status = devices.body.find((d) => d.id === 'dev-d')!;
    expect(status.lastStatus).toBe('offline: power lost');
    expect(status.online).toBe(false);
  });

  it('imports a fleet document over the API and lists every problem of a bad one', async () => {
    const fleet = {
      version: 1,
      sites: [
        {
          id: 'API-1',
          name: 'api site',
          district: 'Lucheng',
          lat: 36.3,
          lon: 113.2,
          devices: [{ id: 'API-1-M1', model: 'm', kind: 'site', secret: 's'.repeat(20) }],
        },
      ],
    };
    const ok = await service.api('POST', '/api/fleet/import', fleet);
    expect(ok).toEqual({
      status: 200,
      body: { sites: { created: 1, updated: 0 }, devices: { created: 1, updated: 0 }, generatedSecrets: [] },
    });
    const client = await connectDevice(service.mqttPort, 'API-1-M1', 's'.repeat(20));
    clients.push(client);
    const bad = await service.api('POST', '/api/fleet/import', {
      version: 1,
      sites: [{ id: 'API 2', name: 'x', district: 'y', lat: 1, lon: 1, devices: [] }, { name: 'z' }],
    });
    expect(bad).toEqual({
      status: 400,
      body: {
        statusCode: 400,
        error: 'invalid_input',
        message: 'fleet file has 6 problem(s)',
        problems: [
          'sites[0].id: id must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$ (letters, digits, _ and -; no +, #, / or spaces)',
          'sites[1].devices: is required',
          'sites[1].id: is required',
          'sites[1].district: is required',
          'sites[1].lat: is required',
          'sites[1].lon: is required',
        ],
      },
    });
  });

  it('requires credentials (a session or the admin key)', async () => {
    expect(await service.api('GET', '/api/sites', undefined, null)).toEqual({
      status: 401,
      body: {
        statusCode: 401,
        error: 'Unauthorized',
        message: 'sign in, or send an API key as x-api-key or Authorization: Bearer',
      },
    });
    expect((await service.api('GET', '/api/sites', undefined, 'wrong-key-wrong-key')).status).toBe(401);
    const bearer = await fetch(`${service.baseUrl}/api/sites`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(bearer.status).toBe(200);
  });

  it('validates ids and answers conflicts and unknown ids precisely', async () => {
    const bad = await service.api<{ message: string[] }>('POST', '/api/devices', {
      id: 'a/b',
      siteId: 'CZ-001',
      model: 'm',
      kind: 'site',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toEqual([
      'id must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$ (letters, digits, _ and -; no +, #, / or spaces)',
    ]);
    const dup = await service.api('POST', '/api/devices', { id: 'dev-a', siteId: 'CZ-001', model: 'm', kind: 'site' });
    expect(dup).toEqual({
      status: 409,
      body: { statusCode: 409, error: 'conflict', message: 'device dev-a already exists' },
    });
    const missing = await service.api('POST', '/api/devices/ghost/rotate-secret');
    expect(missing).toEqual({
      status: 404,
      body: { statusCode: 404, error: 'not_found', message: 'device ghost does not exist' },
    });
    expect((await service.api('POST', '/api/devices/a%2Bb/disable')).status).toBe(400);
    expect(await metricValue(service.baseUrl, 'dustwatch_http_errors_total{status="409",reason="conflict"}')).toBe(1);
    expect(await metricValue(service.baseUrl, 'dustwatch_http_errors_total{status="404",reason="not_found"}')).toBe(1);
  });

  it('rotates a secret: the old one stops working, the new one works', async () => {
    const rotated = await service.api<{ secret: string }>('POST', '/api/devices/dev-c/rotate-secret');
    expect(rotated.status).toBe(200);
    expect(await connackCode(connectDevice(service.mqttPort, 'dev-c', secrets['dev-c']))).toBe(4);
    const client = await connectDevice(service.mqttPort, 'dev-c', rotated.body.secret);
    clients.push(client);
    secrets['dev-c'] = rotated.body.secret;
  });

  it('reports health and Prometheus metrics', async () => {
    // In public only up and ready; the details (InfluxDB's error text…) need a key.
    const ready = await fetch(`${service.baseUrl}/health`);
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ok' }]);
    const live = await fetch(`${service.baseUrl}/health/live`);
    expect([live.status, await live.json()]).toEqual([200, { status: 'ok' }]);
    expect((await fetch(`${service.baseUrl}/api/health`)).status).toBe(401);
    const { status, body } = await healthDetails(service.baseUrl);
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.broker).toMatchObject({ listening: true, port: service.mqttPort });
    expect(body.spool).toMatchObject({ writable: true, overQuota: false });
    expect(body.influx.reachable).toBe(true);
    const accepted = async (): Promise<number> =>
      (await metricValue(service.baseUrl, 'dustwatch_readings_accepted_total')) ?? 0;
    const before = await accepted();
    const client = await device('dev-e');
    await client.publishAsync(
      'devices/dev-e/readings',
      JSON.stringify([
        { ts: T0 + 300_000, pm10: 12 },
        { ts: T0 + 360_000, pm10: 13 },
      ]),
      { qos: 1 },
    );
    expect((await accepted()) - before).toBe(2); // PUBACK came after the count
    expect(await metricValue(service.baseUrl, 'dustwatch_spool_quota_bytes')).toBe(1024 * 1024 * 1024);
  });

  it('serves the OpenAPI document', async () => {
    const res = await fetch(`${service.baseUrl}/api/docs-json`);
    const doc = (await res.json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/sites',
        '/api/devices',
        '/api/devices/{id}/rotate-secret',
        '/api/fleet/import',
        '/health',
        '/health/live',
        '/api/health',
        '/api/alerts/stream-token',
        '/metrics',
      ]),
    );
    // Every route declares what it answers: a 2xx with a schema (the console is built on them).
    type Operation = { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> };
    const undeclared: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, Operation>>)) {
      for (const [method, op] of Object.entries(methods)) {
        const ok = Object.entries(op.responses).filter(([code]) => code.startsWith('2'));
        const typed = ok.some(
          ([code, r]) => code === '204' || Object.values(r.content ?? {}).some((c) => c.schema !== undefined),
        );
        if (!typed) undeclared.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(undeclared).toEqual([]);
    const schemas = (
      doc as unknown as { components: { schemas: Record<string, { properties: Record<string, unknown> }> } }
    ).components.schemas;
    expect(Object.keys(schemas['AlertResponse'].properties)).toEqual(
      expect.arrayContaining(['id', 'rule', 'state', 'severity', 'evidence', 'closeNote']),
    );
    // The console's types are this document's (npm run console:api rewrites them after an API change).
    const generated = await consoleApiTypes(doc);
    if (process.env['DUSTWATCH_WRITE_CONSOLE_API'] === '1') writeFileSync(CONSOLE_API_TYPES, generated);
    expect(readFileSync(CONSOLE_API_TYPES, 'utf8')).toBe(generated);
  });
});
