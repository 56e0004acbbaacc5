import { connect as tcpConnect } from 'node:net';
import mqtt from 'mqtt';
import { InfluxServer } from './influx-server';
import {
  ADMIN_KEY,
  TEST_DB,
  TestService,
  connectDevice,
  eventually,
  healthDetails,
  metricValue,
  provision,
  removeDir,
  startTestService,
} from './harness';

// Issue 10: what a hostile outsider could do to a running service, each refused exactly.
let influx: InfluxServer;
let service: TestService;
let secrets: Record<string, string>;
const T0 = Date.now() - 3_600_000;

beforeAll(async () => {
  influx = await InfluxServer.start();
  service = await startTestService(influx, { DUSTWATCH_QUARANTINE_PER_DEVICE_HOUR: '50' });
  secrets = await provision(service, 'HARD-1', ['hard-1', 'hard-2', 'hard-3']);
});

afterAll(async () => {
  await service?.stop();
  if (service) removeDir(service.dataDir);
  await influx?.stop();
});

const metric = async (sample: string): Promise<number> => (await metricValue(service.baseUrl, sample)) ?? 0;

/** One CONNECT with a wrong password from 127.0.0.1; resolves with the CONNACK return code. */
function badConnect(clientId: string): Promise<number> {
  return new Promise((resolve) => {
    const client = mqtt.connect({
      host: '127.0.0.1',
      port: service.mqttPort,
      clientId,
      username: clientId,
      password: 'not-the-secret-000000',
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    client.once('error', (error) => {
      client.end(true);
      resolve((error as Error & { code?: number }).code ?? -1);
    });
    client.once('connect', () => {
      client.end(true);
      resolve(0);
    });
  });
}

/** Raw HTTP, to see what the server does before a body arrives. */
function rawRequest(head: string, waitMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = tcpConnect(Number(new URL(service.baseUrl).port), '127.0.0.1');
    let answer = '';
    const done = (): void => {
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(done, waitMs);
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.write(head);
  });
}

describe('login flood (finding 1, 8)', () => {
  it('throttles wrong-password CONNECTs per address, logs them rate-limited, and still admits a device from elsewhere', async () => {
    const throttledBefore = await metric('dustwatch_device_logins_refused_total{edge="mqtt",reason="throttled"}');
    const badBefore = await metric('dustwatch_device_logins_refused_total{edge="mqtt",reason="bad_credentials"}');
    const logLinesBefore = service.logs.filter((l) => l.includes('MQTT CONNECT refused')).length;
    const codes = await Promise.all(Array.from({ length: 60 }, (_, i) => badConnect(`flood-${i}`)));
    // 20 free failures are checked and refused as bad credentials (4); the rest are refused
    // unchecked (3, server unavailable: try later). Concurrent checks may all pass the gate first.
    expect(codes.every((c) => c === 3 || c === 4)).toBe(true);
    const after = await Promise.all(Array.from({ length: 10 }, (_, i) => badConnect(`flood-late-${i}`)));
    expect(after).toEqual(Array(10).fill(3));
    const throttled =
      (await metric('dustwatch_device_logins_refused_total{edge="mqtt",reason="throttled"}')) - throttledBefore;
    const bad =
      (await metric('dustwatch_device_logins_refused_total{edge="mqtt",reason="bad_credentials"}')) - badBefore;
    expect(throttled + bad).toBe(70);
    expect(throttled).toBeGreaterThanOrEqual(10);
    // One line per address and code per minute, however many were refused.
    const lines = service.logs.filter((l) => l.includes('MQTT CONNECT refused')).length - logLinesBefore;
    expect(lines).toBe(2);
    expect(await metric('dustwatch_log_lines_suppressed_total{context="mqtt"}')).toBeGreaterThanOrEqual(68);

    // The real device, from another address, is not held up by the flood's back-off.
    const device = await connectDevice(service.mqttPort, 'hard-1', secrets['hard-1'], {}, '127.0.0.2');
    await device.publishAsync('devices/hard-1/readings', JSON.stringify({ ts: T0, pm10: 42 }), { qos: 1 });
    device.end(true);
    const rows = await eventually(
      () => influx.rows(TEST_DB, `SELECT pm10 FROM raw.readings WHERE device = 'hard-1'`),
      (r) => r.length === 1,
      10_000,
      "hard-1's reading",
    );
    expect(rows.map((r) => r.pm10)).toEqual([42]);
  });
});

describe('HTTP bodies and statuses (findings 2, 4)', () => {
  it('answers a request without a key 401 before reading its body', async () => {
    // Headers announce 19 MB and no body follows: the answer can only come from the headers.
    const answer = await rawRequest(
      'POST /api/fleet/import HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 19000000\r\n\r\n{',
      3000,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(answer.toLowerCase()).toContain('connection: close');
    // Express routes paths case-insensitively and with a trailing slash: so does the check.
    const shouted = await rawRequest(
      'POST /API/Fleet/Import/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 19000000\r\n\r\n{',
      3000,
    );
    expect(shouted).toMatch(/^HTTP\/1\.1 401 /);
  });

  it('refuses a body over its route limit 413 before reading it, and a depth bomb 400', async () => {
    const tooDeep = await metric('dustwatch_http_errors_total{status="400",reason="too_deep"}');
    const tooLarge = await metric('dustwatch_http_errors_total{status="413",reason="payload_too_large"}');
    const big = await rawRequest(
      `POST /api/fleet/import HTTP/1.1\r\nHost: x\r\nx-api-key: ${ADMIN_KEY}\r\nContent-Type: application/json\r\nContent-Length: 25000000\r\n\r\n{`,
      3000,
    );
    expect(big).toMatch(/^HTTP\/1\.1 413 /);
    expect(big).toContain('"message":"request body is larger than this route accepts"');
    // 64 KiB on every other route, admin or not.
    const site = await fetch(`${service.baseUrl}/api/sites`, {
      method: 'POST',
      headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'S-BIG', name: 'x'.repeat(70_000), district: 'd', lat: 36, lon: 113 }),
    });
    expect([site.status, ((await site.json()) as { message: string }).message]).toEqual([
      413,
      'request body is larger than this route accepts',
    ]);
    const deep = await fetch(`${service.baseUrl}/api/fleet/import`, {
      method: 'POST',
      headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' },
      body: '['.repeat(50_000) + ']'.repeat(50_000),
    });
    expect([deep.status, ((await deep.json()) as { message: string }).message]).toEqual([
      400,
      'JSON nested deeper than 32 levels',
    ]);
    const malformed = await fetch(`${service.baseUrl}/api/sites`, {
      method: 'POST',
      headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' },
      body: '{"id":',
    });
    expect([malformed.status, ((await malformed.json()) as { message: string }).message]).toEqual([
      400,
      'body is not valid JSON',
    ]);
    expect((await metric('dustwatch_http_errors_total{status="400",reason="too_deep"}')) - tooDeep).toBe(1);
    expect((await metric('dustwatch_http_errors_total{status="413",reason="payload_too_large"}')) - tooLarge).toBe(2);
    expect(service.logs.some((l) => l.includes('unhandled error'))).toBe(false);
  });
});

describe('quarantine (findings 3, 5, 6, 7)', () => {
  it('keeps the first refused readings per device and hour, counts the rest, and shows its size', async () => {
    const notKeptBefore = await metric('dustwatch_quarantine_not_kept_total');
    const rejectedBefore = await metric('dustwatch_readings_rejected_total{reason="out_of_range"}');
    const device = await connectDevice(service.mqttPort, 'hard-2', secrets['hard-2'], {}, '127.0.0.3');
    for (let m = 0; m < 3; m++) {
      const batch = Array.from({ length: 40 }, (_, i) => ({ ts: T0 + (m * 40 + i) * 1000, pm10: -1 - i }));
      await device.publishAsync('devices/hard-2/readings', JSON.stringify(batch), { qos: 1 });
    }
    device.end(true);
    const kept = await service.api<unknown[]>('GET', '/api/quarantine?deviceId=hard-2&limit=1000');
    expect(kept.body).toHaveLength(50);
    expect((await metric('dustwatch_quarantine_not_kept_total')) - notKeptBefore).toBe(70);
    expect((await metric('dustwatch_readings_rejected_total{reason="out_of_range"}')) - rejectedBefore).toBe(120);
    const { body } = await healthDetails(service.baseUrl);
    expect(body.quarantine.quotaBytes).toBe(64 * 1024 * 1024);
    expect(body.quarantine.bytes).toBeGreaterThan(50 * 20);
  });

  it('refuses an impossible date, keeps the raw text as sent, and warns about a flag without its value', async () => {
    const warnedBefore = await metric('dustwatch_readings_warnings_total{reason="flag_without_value"}');
    const device = await connectDevice(service.mqttPort, 'hard-3', secrets['hard-3'], {}, '127.0.0.3');
    const messages: string[] = [];
    await device.subscribeAsync('devices/hard-3/errors', { qos: 1 });
    device.on('message', (_topic, payload) => messages.push(payload.toString()));
    const payload = `[{"ts":"2026-09-31T10:00:00+08:00","pm10":5},{"ts":${T0},"pm10":1e400},{"ts":${T0 + 1000},"pm10":87,"flags":{"tsp":"C"}}]`;
    await device.publishAsync('devices/hard-3/readings', payload, { qos: 1 });
    await eventually(
      async () => messages.length,
      (n) => n === 1,
      5000,
      'the feedback message',
    );
    device.end(true);
    expect(JSON.parse(messages[0])).toEqual({
      accepted: 1,
      rejected: [
        {
          index: 0,
          reasons: [
            {
              code: 'bad_timestamp',
              field: 'ts',
              message:
                'ts "2026-09-31T10:00:00+08:00" is not a real calendar date and time (or its offset is beyond ±14:59)',
            },
          ],
        },
        {
          index: 1,
          reasons: [
            {
              code: 'not_finite',
              field: 'pm10',
              message: 'pm10 must be a finite number (NaN and Infinity are refused)',
            },
          ],
        },
      ],
      warnings: [
        {
          index: 2,
          code: 'flag_without_value',
          field: 'flags.tsp',
          message: 'flag for tsp dropped: the reading carries no tsp value (reading kept)',
        },
      ],
    });
    expect((await metric('dustwatch_readings_warnings_total{reason="flag_without_value"}')) - warnedBefore).toBe(1);
    const kept = await service.api<{ batchIndex: number; raw: string }[]>('GET', '/api/quarantine?deviceId=hard-3');
    expect(kept.body.map((q) => [q.batchIndex, q.raw])).toEqual([
      [1, `{"ts":${T0},"pm10":1e400}`],
      [0, '{"ts":"2026-09-31T10:00:00+08:00","pm10":5}'],
    ]);
    const rows = await eventually(
      () => influx.rows(TEST_DB, `SELECT pm10, tsp FROM raw.readings WHERE device = 'hard-3'`),
      (r) => r.length === 1,
      10_000,
      "hard-3's reading",
    );
    expect(rows.map((r) => [r.time, r.pm10, r.tsp])).toEqual([[T0 + 1000, 87, null]]);
  });
});

describe('HTTP hygiene (finding 10)', () => {
  it('sends the usual security headers and no X-Powered-By', async () => {
    const res = await fetch(`${service.baseUrl}/health`);
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('strict-transport-security')).toContain('max-age=');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('content-security-policy')).not.toContain('upgrade-insecure-requests');
  });

  it('opens the SSE stream with a short-lived token, never with an API key in the URL', async () => {
    const viewer = await service.api<{ key: string }>('POST', '/api/keys', { name: 'wall-screen', role: 'viewer' });
    expect(viewer.status).toBe(201);
    const issued = await service.api<{ token: string; expiresAt: string }>(
      'POST',
      '/api/alerts/stream-token',
      undefined,
      viewer.body.key,
    );
    expect(issued.status).toBe(200);
    expect(Date.parse(issued.body.expiresAt) - Date.now()).toBeGreaterThan(4 * 60_000);
    const open = async (query: string): Promise<number> => {
      const controller = new AbortController();
      const res = await fetch(`${service.baseUrl}/api/alerts/stream?${query}`, { signal: controller.signal });
      controller.abort();
      return res.status;
    };
    expect(await open(`token=${encodeURIComponent(issued.body.token)}`)).toBe(200);
    expect(await open(`apiKey=${viewer.body.key}`)).toBe(401);
    const [body, signature] = issued.body.token.split('.');
    const forged = Buffer.from(JSON.stringify({ n: 'x', r: 'admin', e: Date.now() + 60_000 })).toString('base64url');
    expect(await open(`token=${forged}.${signature}`)).toBe(401);
    expect(await open(`token=${body}.${signature}x`)).toBe(401);
    // A token opens streams only: it is no key for the rest of the API.
    const elsewhere = await fetch(`${service.baseUrl}/api/alerts?token=${encodeURIComponent(issued.body.token)}`);
    expect(elsewhere.status).toBe(401);
  });

  it('labels refusals by what they are in the metrics', async () => {
    const viewer = await service.api<{ key: string }>('POST', '/api/keys', { name: 'viewer-403', role: 'viewer' });
    expect(viewer.status).toBe(201);
    const before = await metric('dustwatch_http_errors_total{status="403",reason="forbidden"}');
    expect((await service.api('GET', '/api/sites', undefined, viewer.body.key)).status).toBe(403);
    expect((await metric('dustwatch_http_errors_total{status="403",reason="forbidden"}')) - before).toBe(1);
  });
});

describe('names and notes (issue 22, finding 6)', () => {
  const site = { id: 'CTRL-1', district: '潞州区', lat: 36.2, lon: 113.1 };
  it('refuses control and bidi characters in names, display names and notes, saying which; a note keeps its line breaks', async () => {
    const refused = async (path: string, body: object): Promise<string> => {
      const res = await service.api<{ message: string; problems?: string[] }>('POST', path, body);
      expect(res.status).toBe(400);
      return JSON.stringify(res.body);
    };
    expect(await refused('/api/sites', { ...site, name: 'evil\u202Etxt.exe' })).toContain('U+202E');
    expect(await refused('/api/sites', { ...site, name: '工地\n### 注入 [点我](http://x)' })).toContain('U+000A');
    expect(
      await refused('/api/fleet/import', {
        version: 1,
        sites: [{ ...site, name: '工地', district: '潞州\u0007区', devices: [] }],
      }),
    ).toContain('U+0007');
    expect(
      await refused('/api/users', {
        name: 'ctrl-user',
        role: 'viewer',
        password: 'ctrl-password-2026',
        displayName: '王\u0000',
      }),
    ).toContain('U+0000');
    expect(await refused('/api/alerts/999999/acknowledge', { note: '已处理\u001b[31m' })).toContain('U+001B');
    // Line breaks in a note pass validation: this alert does not exist, so 404 and not 400.
    expect(
      (await service.api('POST', '/api/alerts/999999/close', { note: '覆盖裸土\r\n冲洗车辆\n已复查' })).status,
    ).toBe(404);
    expect((await service.api('POST', '/api/sites', { ...site, name: '潞州区第三住宅工地' })).status).toBe(201);
  });
});
