import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { ADMIN_KEY, eventually, provision, removeDir, startTestService, TestService } from './harness';
import { InfluxServer } from './influx-server';

// EMQX 5 cannot run on this machine: its HTTP authentication/authorisation contract is tested at
// the HTTP level against the real service (docs/cluster.md), and its REST API by a recording stub.
const HOOK_SECRET = 'emqx-hook-secret-0123456789';
const INSTANCE = { username: 'dustwatch', password: 'instance-secret-0123456789' };

let influx: InfluxServer;
let service: TestService;
let emqxApi: Server;
const kicks: { url: string; authorization: string | undefined }[] = [];

beforeAll(async () => {
  influx = await InfluxServer.start();
  emqxApi = createServer((req: IncomingMessage, res) => {
    kicks.push({ url: `${req.method} ${req.url}`, authorization: req.headers.authorization });
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => emqxApi.listen(0, '127.0.0.1', resolve));
  service = await startTestService(influx, {
    DUSTWATCH_MQTT_BROKER_HOOK_SECRET: HOOK_SECRET,
    DUSTWATCH_MQTT_BROKER_USERNAME: INSTANCE.username,
    DUSTWATCH_MQTT_BROKER_PASSWORD: INSTANCE.password,
    DUSTWATCH_EMQX_API_URL: `http://127.0.0.1:${(emqxApi.address() as AddressInfo).port}`,
    DUSTWATCH_EMQX_API_KEY: 'emqx-key',
    DUSTWATCH_EMQX_API_SECRET: 'emqx-secret',
  });
});

afterAll(async () => {
  await service?.stop();
  removeDir(service?.dataDir);
  await new Promise((resolve) => emqxApi?.close(resolve));
  await influx?.stop();
});

async function hook(
  path: 'authn' | 'authz',
  body: Record<string, string>,
  secret: string | null = HOOK_SECRET,
): Promise<{ status: number; body: { result?: string; is_superuser?: boolean; message?: string } }> {
  const res = await fetch(`${service.baseUrl}/api/broker/emqx/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(secret ? { authorization: `Bearer ${secret}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}
const authn = async (clientid: string, username: string, password: string, peerhost = '10.1.0.1'): Promise<string> =>
  (await hook('authn', { clientid, username, password, peerhost })).body.result ?? 'none';
const authz = async (clientid: string, username: string, action: string, topic: string): Promise<string> =>
  (await hook('authz', { clientid, username, action, topic })).body.result ?? 'none';

it('answers only the broker: no or a wrong hook secret is 401, an API key is not the hook secret', async () => {
  expect((await hook('authn', { clientid: 'x', username: 'x', password: 'x' }, null)).status).toBe(401);
  expect((await hook('authn', { clientid: 'x', username: 'x', password: 'x' }, 'wrong-secret-0123456789')).status).toBe(
    401,
  );
  expect((await hook('authn', { clientid: 'x', username: 'x', password: 'x' }, ADMIN_KEY)).status).toBe(401);
  const ok = await hook('authn', {
    clientid: 'nobody',
    username: 'nobody',
    password: 'not-a-secret',
    peerhost: '10.9.9.9',
  });
  expect(ok).toEqual({ status: 200, body: { result: 'deny', is_superuser: false } });
});

it('authenticates devices, instances and alert subscribers as the embedded broker does', async () => {
  const secrets = await provision(service, 'E1', ['E1-M1', 'E1-M2']);
  const viewer = (await service.api<{ key: string }>('POST', '/api/keys', { name: 'screen-e1', role: 'viewer' })).body
    .key;
  expect(await authn('E1-M1', 'E1-M1', secrets['E1-M1'])).toBe('allow');
  expect(await authn('E1-M1', 'E1-M1', secrets['E1-M2'])).toBe('deny');
  expect(await authn('other-id', 'E1-M1', secrets['E1-M1'])).toBe('deny');
  expect(await authn('dustwatch-a-1', INSTANCE.username, INSTANCE.password)).toBe('allow');
  expect(await authn('dustwatch-a-1', INSTANCE.username, 'not-the-password')).toBe('deny');
  expect(await authn('E1-M1', INSTANCE.username, INSTANCE.password)).toBe('deny');
  expect(await authn('control-room-1', '@api', viewer)).toBe('allow');
  expect(await authn('E1-M2', '@api', viewer)).toBe('deny'); // a subscriber may not take a device's session
  expect(await authn('control-room-1', '@api', 'revoked-or-unknown-key')).toBe('deny');

  // Disabled: refused at the next CONNECT, and the live session is kicked through EMQX's REST API.
  expect((await service.api('POST', '/api/devices/E1-M2/disable')).status).toBe(200);
  expect(await authn('E1-M2', 'E1-M2', secrets['E1-M2'])).toBe('deny');
  await eventually(
    async () => kicks.filter((k) => k.url === 'DELETE /api/v5/clients/E1-M2').length,
    (n) => n === 1,
    5000,
    'the kick of E1-M2 at EMQX',
  );
  expect(kicks.find((k) => k.url === 'DELETE /api/v5/clients/E1-M2')?.authorization).toBe(
    `Basic ${Buffer.from('emqx-key:emqx-secret').toString('base64')}`,
  );
  // Rotated: the old secret is refused, the new one taken, the old session kicked.
  const rotated = await service.api<{ secret: string }>('POST', '/api/devices/E1-M1/rotate-secret');
  expect(await authn('E1-M1', 'E1-M1', secrets['E1-M1'])).toBe('deny');
  expect(await authn('E1-M1', 'E1-M1', rotated.body.secret)).toBe('allow');
  await eventually(
    async () => kicks.filter((k) => k.url === 'DELETE /api/v5/clients/E1-M1').length,
    (n) => n === 1,
    5000,
    'the kick of E1-M1 at EMQX',
  );
});

it('throttles guesses by the address EMQX reports, and lets the device in from the address it knows', async () => {
  const secrets = await provision(service, 'E2', ['E2-M1']);
  expect(await authn('E2-M1', 'E2-M1', secrets['E2-M1'], '10.2.0.1')).toBe('allow'); // its known address
  for (let i = 0; i < 8; i++) expect(await authn('E2-M1', 'E2-M1', `guess-${i}-0123456`, '10.2.0.66')).toBe('deny');
  // The device id is blocked for other addresses now, even with the right secret…
  expect(await authn('E2-M1', 'E2-M1', secrets['E2-M1'], '10.2.0.99')).toBe('deny');
  // …but not for the address it last logged in from.
  expect(await authn('E2-M1', 'E2-M1', secrets['E2-M1'], '10.2.0.1')).toBe('allow');
});

it('authorises topics as the embedded broker does', async () => {
  expect(await authz('E1-M1', 'E1-M1', 'publish', 'devices/E1-M1/readings')).toBe('allow');
  expect(await authz('E1-M1', 'E1-M1', 'publish', 'devices/E1-M1/status')).toBe('allow');
  expect(await authz('E1-M1', 'E1-M1', 'publish', 'devices/E1-M2/readings')).toBe('deny');
  expect(await authz('E1-M1', 'E1-M1', 'publish', 'alerts/E1')).toBe('deny');
  expect(await authz('E1-M1', 'E1-M1', 'subscribe', 'devices/E1-M1/errors')).toBe('allow');
  expect(await authz('E1-M1', 'E1-M1', 'subscribe', 'devices/#')).toBe('deny');
  expect(await authz('dustwatch-a-1', INSTANCE.username, 'subscribe', '$share/dustwatch/devices/+/readings')).toBe(
    'allow',
  );
  expect(await authz('dustwatch-a-1', INSTANCE.username, 'subscribe', '$share/dustwatch/devices/+/status')).toBe(
    'allow',
  );
  expect(
    await authz('dustwatch-a-1', INSTANCE.username, 'subscribe', '$share/dustwatch/$SYS/brokers/+/clients/+/connected'),
  ).toBe('allow');
  expect(await authz('dustwatch-a-1', INSTANCE.username, 'subscribe', 'devices/#')).toBe('deny');
  expect(await authz('dustwatch-a-1', INSTANCE.username, 'publish', 'alerts/E1')).toBe('allow');
  expect(await authz('dustwatch-a-1', INSTANCE.username, 'publish', 'devices/E1-M1/errors')).toBe('allow');
  expect(await authz('dustwatch-a-1', INSTANCE.username, 'publish', 'devices/E1-M1/readings')).toBe('deny');
  expect(await authz('control-room-1', '@api', 'subscribe', 'alerts/#')).toBe('allow');
  expect(await authz('control-room-1', '@api', 'subscribe', 'devices/#')).toBe('deny');
  expect(await authz('control-room-1', '@api', 'publish', 'alerts/E1')).toBe('deny');
});
