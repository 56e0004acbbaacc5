import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { MqttClient } from 'mqtt';
import { InfluxServer } from './influx-server';
import { SseClient } from './sse-client';
import { InfluxHttpClient, rollUpHours } from '@dustwatch/influx';
import { TEST_DB, TestService, connectDevice, eventually, provision, removeDir, startTestService } from './harness';

const ADMIN_CLI = resolve(__dirname, '../../..', 'dist/apps/ingest/apps/ingest/src/cli.js');
const HOUR = 3_600_000;

interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

/** A browser's requests: the session cookie it was given, and the CSRF token the page keeps. */
class Browser {
  cookie: string | null = null;
  csrf: string | null = null;

  constructor(private readonly baseUrl: string) {}

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    withCsrf = true,
  ): Promise<Answer<T>> {
    const headers: Record<string, string> = {};
    if (this.cookie) headers['cookie'] = this.cookie;
    if (withCsrf && this.csrf) headers['x-csrf-token'] = this.csrf;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(this.baseUrl + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const setCookie = res.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0];
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as T, headers: res.headers };
  }

  async signIn(name: string, password: string): Promise<Answer> {
    const answer = await this.request<{ csrfToken?: string }>('POST', '/api/session', { name, password });
    this.csrf = answer.body.csrfToken ?? null;
    return answer;
  }
}

describe('people sign in with a name and password (sessions, CSRF, throttling, the ledger names them)', () => {
  let influx: InfluxServer;
  let service: TestService;
  let device: MqttClient;
  const offset = { ms: 0 };
  const clock = { now: () => Date.now() + offset.ms };
  let alertId: number;

  beforeAll(async () => {
    influx = await InfluxServer.start();
    service = await startTestService(influx, { DUSTWATCH_RULE_TICK_MS: '200' }, undefined, clock);
    for (const [name, role, displayName] of [
      ['wang', 'inspector', '王工'],
      ['li', 'viewer', '李主任'],
      ['zhao', 'inspector', '赵工'],
    ])
      expect(
        (await service.api('POST', '/api/users', { name, role, displayName, password: `${name}-password-2026` }))
          .status,
      ).toBe(201);
    // An alert to work: an hour of PM10 at 300 from a site monitor.
    const secrets = await provision(service, 'P1', ['P1-M1']);
    device = await connectDevice(service.mqttPort, 'P1-M1', secrets['P1-M1']);
    const now = Date.now();
    const readings = Array.from({ length: 60 }, (_, i) => ({ ts: now - (60 - i) * 60_000, pm10: 300 }));
    await new Promise<void>((ok, fail) =>
      device.publish('devices/P1-M1/readings', JSON.stringify(readings), { qos: 1 }, (e) => (e ? fail(e) : ok())),
    );
    const alerts = await eventually(
      () => service.api<{ items: { id: number }[] }>('GET', '/api/alerts?siteId=P1'),
      (r) => r.body.items.length > 0,
      20_000,
      'the alert',
    );
    alertId = alerts.body.items[0].id;
  }, 60_000);

  afterAll(async () => {
    device?.end(true);
    await service?.stop();
    removeDir(service?.dataDir);
    await influx?.stop();
  });

  it('signs in: an httpOnly SameSite=Strict cookie, a CSRF token in the body, and who is signed in', async () => {
    const browser = new Browser(service.baseUrl);
    const answer = await browser.signIn('wang', 'wang-password-2026');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ name: 'wang', role: 'inspector' });
    expect(answer.body['csrfToken']).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const setCookie = answer.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^dw_session=[A-Za-z0-9_-]{43}; Max-Age=43200; Path=\/; HttpOnly; SameSite=Strict$/);
    // any tab of the session can fetch its CSRF token (issue 18: a second tab could not change anything)
    expect((await browser.request('GET', '/api/session')).body).toEqual({
      name: 'wang',
      role: 'inspector',
      csrfToken: answer.body['csrfToken'],
    });
    expect((await browser.request('GET', '/api/alerts')).status).toBe(200);
  });

  it('refuses a wrong password and an unknown name alike, and a request without any credentials', async () => {
    const browser = new Browser(service.baseUrl);
    const wrong = await browser.signIn('zhao', 'not-his-password');
    const unknown = await browser.signIn('nobody', 'whatever-password');
    expect([wrong.status, wrong.body['message']]).toEqual([401, 'wrong name or password']);
    expect([unknown.status, unknown.body['message']]).toEqual([401, 'wrong name or password']);
    expect(browser.cookie).toBeNull();
    expect((await browser.request('GET', '/api/alerts')).status).toBe(401);
    browser.cookie = 'dw_session=forged-token';
    expect((await browser.request('GET', '/api/alerts')).status).toBe(401);
  });

  it('a state-changing request needs the CSRF token; the ledger records the person as the actor', async () => {
    const browser = new Browser(service.baseUrl);
    await browser.signIn('wang', 'wang-password-2026');
    const forged = await browser.request('POST', `/api/alerts/${alertId}/acknowledge`, { note: 'x' }, false);
    expect(forged.status).toBe(403);
    expect(forged.body['message']).toContain('x-csrf-token');
    const ack = await browser.request('POST', `/api/alerts/${alertId}/acknowledge`, { note: '已到现场' });
    expect(ack.status).toBe(200);
    const detail = await service.api<{ acknowledgedBy: string; history: { type: string; actor: string | null }[] }>(
      'GET',
      `/api/alerts/${alertId}`,
    );
    expect(detail.body.acknowledgedBy).toBe('wang');
    expect(detail.body.history.find((h) => h.type === 'acknowledged')?.actor).toBe('wang');
  });

  it('a viewer reads but may not act; only an admin manages accounts', async () => {
    const viewer = new Browser(service.baseUrl);
    await viewer.signIn('li', 'li-password-2026');
    expect((await viewer.request('GET', '/api/alerts')).status).toBe(200);
    expect((await viewer.request('POST', `/api/alerts/${alertId}/close`, { note: 'x' })).status).toBe(403);
    expect((await viewer.request('GET', '/api/users')).status).toBe(403);
    const short = await service.api<{ problems: string[] }>('POST', '/api/users', {
      name: 'sun',
      role: 'inspector',
      password: 'short',
    });
    expect(short.status).toBe(400);
    const users = await service.api<{ name: string; displayName: string; role: string }[]>('GET', '/api/users');
    expect(users.body.map((u) => [u.name, u.displayName, u.role])).toEqual([
      ['li', '李主任', 'viewer'],
      ['wang', '王工', 'inspector'],
      ['zhao', '赵工', 'inspector'],
    ]);
    expect(JSON.stringify(users.body)).not.toContain('scrypt');
  });

  it('sign-out ends the session; a session expires after 12 hours; disabling a person ends theirs', async () => {
    const browser = new Browser(service.baseUrl);
    await browser.signIn('wang', 'wang-password-2026');
    const cookie = browser.cookie;
    const out = await browser.request('DELETE', '/api/session');
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^dw_session=; Max-Age=0;/);
    browser.cookie = cookie; // the old cookie, replayed
    expect((await browser.request('GET', '/api/session')).status).toBe(401);

    await browser.signIn('wang', 'wang-password-2026');
    offset.ms = 11 * HOUR;
    expect((await browser.request('GET', '/api/session')).status).toBe(200);
    offset.ms = 12 * HOUR + 1000;
    expect((await browser.request('GET', '/api/session')).status).toBe(401);
    offset.ms = 0;

    await browser.signIn('zhao', 'zhao-password-2026');
    expect((await browser.request('GET', '/api/session')).status).toBe(200);
    expect((await service.api('POST', '/api/users/zhao/disable')).status).toBe(204);
    expect((await browser.request('GET', '/api/session')).status).toBe(401);
    expect((await browser.signIn('zhao', 'zhao-password-2026')).status).toBe(401);
  });

  it('streams end with the credential that opened them: sign-out, a disabled person, a revoked key; their stream tokens too; 10 a person at most (issue 22)', async () => {
    const streamUrl = `${service.baseUrl}/api/alerts/stream`;
    /** Resolves true when the stream ends within 5 s. */
    const endsSoon = (client: SseClient): Promise<boolean> =>
      Promise.race([client.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
    const signedIn = async (name: string): Promise<{ browser: Browser; cookie: SseClient; token: string }> => {
      const browser = new Browser(service.baseUrl);
      expect((await browser.signIn(name, `${name}-password-2026`)).status).toBe(200);
      const cookie = await SseClient.open(streamUrl, { cookie: browser.cookie! });
      expect(cookie.status).toBe(200);
      const token = (await browser.request<{ token: string }>('POST', '/api/alerts/stream-token')).body.token;
      return { browser, cookie, token };
    };
    const byToken = (token: string) => SseClient.open(`${streamUrl}?token=${encodeURIComponent(token)}`, {});

    // Sign-out: the cookie's stream and the token's stream end; the token opens nothing more.
    const wang = await signedIn('wang');
    const wangOther = await signedIn('wang'); // the same person on another phone: a session of its own
    const tokenStream = await byToken(wang.token);
    expect(tokenStream.status).toBe(200);
    expect((await wang.browser.request('DELETE', '/api/session')).status).toBe(204);
    expect(await endsSoon(wang.cookie)).toBe(true);
    expect(await endsSoon(tokenStream)).toBe(true);
    expect((await byToken(wang.token)).status).toBe(401);
    // … and only that session's: the other phone keeps its stream and its token.
    const otherToken = await byToken(wangOther.token);
    expect(otherToken.status).toBe(200);
    expect(await Promise.race([wangOther.cookie.closed.then(() => 'ended'), Promise.resolve('open')])).toBe('open');

    // Disabling a person ends every session's streams and tokens at once.
    expect(
      (await service.api('POST', '/api/users', { name: 'sun', role: 'viewer', password: 'sun-password-2026' })).status,
    ).toBe(201);
    const sun = await signedIn('sun');
    expect((await service.api('POST', '/api/users/sun/disable')).status).toBe(204);
    expect(await endsSoon(sun.cookie)).toBe(true);
    expect((await byToken(sun.token)).status).toBe(401);

    // A revoked key: its header stream and its token's stream end.
    const key = await service.api<{ id: number; key: string }>('POST', '/api/keys', {
      name: 'wall-screen',
      role: 'viewer',
    });
    const keyStream = await SseClient.open(streamUrl, { 'x-api-key': key.body.key });
    const keyToken = (await service.api<{ token: string }>('POST', '/api/alerts/stream-token', undefined, key.body.key))
      .body.token;
    const keyTokenStream = await byToken(keyToken);
    expect([keyStream.status, keyTokenStream.status]).toEqual([200, 200]);
    expect((await service.api('DELETE', `/api/keys/${key.body.id}`)).status).toBe(204);
    expect(await endsSoon(keyStream)).toBe(true);
    expect(await endsSoon(keyTokenStream)).toBe(true);
    expect((await byToken(keyToken)).status).toBe(401);

    // At most 10 streams a person: wang's other phone holds 2, so 8 more open and the next is refused.
    const more = await Promise.all(Array.from({ length: 8 }, () => byToken(wangOther.token)));
    expect(more.map((c) => c.status)).toEqual(Array(8).fill(200));
    const refused = await fetch(`${streamUrl}?token=${encodeURIComponent(wangOther.token)}`);
    expect(refused.status).toBe(429);
    expect((await refused.json()).message).toBe('10 alert streams are open for this person or key already: close one');
    for (const c of [...more, otherToken, wangOther.cookie]) c.close();
    await eventually(
      () => byToken(wangOther.token),
      (c) => {
        c.close();
        return c.status === 200;
      },
      5000,
      'a stream slot freed by closing one',
    );
  });

  it('throttles failed sign-ins per name: after 5, even the right password waits (429 with Retry-After)', async () => {
    const browser = new Browser(service.baseUrl);
    for (let i = 0; i < 5; i++) expect((await browser.signIn('li', `guess-${i}-aaaaaaaa`)).status).toBe(401);
    const blocked = await browser.signIn('li', 'li-password-2026');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    offset.ms = 6_000; // the first back-off (5 s) has passed
    expect((await browser.signIn('li', 'li-password-2026')).status).toBe(200);
    offset.ms = 0;
  });

  it("the fleet view and a site page, for a viewer: every site with its last hour, a site's hours per monitor", async () => {
    const viewer = new Browser(service.baseUrl);
    await viewer.signIn('li', 'li-password-2026');
    const fleet = await viewer.request<{
      pm10Levels: { rule: string; raise: { value: number }[]; clear: { value: number } }[];
      sites: Record<string, unknown>[];
    }>('GET', '/api/fleet');
    expect(fleet.status).toBe(200);
    expect(fleet.body.pm10Levels).toEqual([
      {
        rule: 'pm10-hourly',
        raise: [
          { severity: 'warning', op: '>=', value: 150 },
          { severity: 'critical', op: '>=', value: 250 },
        ],
        clear: { severity: 'clear', op: '<', value: 120 },
      },
    ]);
    expect(fleet.body.sites).toEqual([
      expect.objectContaining({ id: 'P1', kind: 'site', monitors: 1, online: 1, activeCritical: 1, pm10OneHour: 300 }),
    ]);
    // The hours come from the roll-up; InfluxDB's CQ runs every 10 minutes, so the test runs its statement.
    await eventually(
      async () => (await service.api<{ spool: { depth: number } }>('GET', '/api/health')).body.spool.depth,
      (d) => d === 0,
      20_000,
      'the spool drained',
    );
    await rollUpHours(new InfluxHttpClient({ url: influx.url, database: TEST_DB }), Date.now() - 2 * HOUR, Date.now());
    const page = await viewer.request<{
      monitors: { deviceId: string; pm10: { value: number | null; n: number }[] }[];
    }>('GET', '/api/sites/P1/series?hours=24');
    expect(page.status).toBe(200);
    const pm10 = page.body.monitors[0].pm10;
    expect(page.body.monitors.map((m) => m.deviceId)).toEqual(['P1-M1']);
    expect(pm10.reduce((a, h) => a + h.n, 0)).toBe(60); // the hour of readings, split over at most two clock hours
    expect(pm10.every((h) => h.value === 300)).toBe(true);
    expect((await viewer.request('GET', '/api/sites/P1/series?hours=5')).status).toBe(400);
    expect((await viewer.request('GET', '/api/sites/NOPE/series')).status).toBe(404);
  });

  it('dustwatch-admin create-user --if-none makes the first admin only on an installation without accounts', () => {
    const run = (args: string[]) =>
      spawnSync(process.execPath, [ADMIN_CLI, 'create-user', ...args], {
        env: { ...process.env, ...service.storeEnv, DUSTWATCH_DATA_DIR: service.dataDir },
        encoding: 'utf8',
      });
    const skipped = run(['root', '--role', 'admin', '--if-none']);
    expect([skipped.status, skipped.stdout]).toEqual([0, '']);
    const made = run(['qian', '--role', 'viewer']);
    expect(made.status).toBe(0);
    const { name, role, password } = JSON.parse(made.stdout) as { name: string; role: string; password: string };
    expect([name, role, password.length]).toEqual(['qian', 'viewer', 32]);
    return expect(new Browser(service.baseUrl).signIn('qian', password)).resolves.toHaveProperty('status', 200);
  });
});
