import { InfluxServer } from './influx-server';
import { TEST_DB, connectDevice, eventually, healthDetails, provision, removeDir, startTestService } from './harness';

// InfluxDB with HTTP auth on: wrong credentials are surfaced (health, log) while readings wait
// in the spool; the same data folder restarted with the right ones delivers them.
const ADMIN = { username: 'dustwatch', password: 'correct-horse-battery' };

let influx: InfluxServer;

beforeAll(async () => {
  influx = await InfluxServer.start({ auth: true });
  // With no user yet, InfluxDB 1.x allows creating the first admin without credentials.
  await influx.rows('_internal', `CREATE USER ${ADMIN.username} WITH PASSWORD '${ADMIN.password}' WITH ALL PRIVILEGES`);
});

afterAll(async () => {
  await influx?.stop();
});

it('surfaces refused InfluxDB credentials and delivers the spooled readings once they are right', async () => {
  const wrong = await startTestService(influx, {
    DUSTWATCH_INFLUX_USERNAME: ADMIN.username,
    DUSTWATCH_INFLUX_PASSWORD: 'wrong-password',
  });
  const dataDir = wrong.dataDir;
  let right: Awaited<ReturnType<typeof startTestService>> | null = null;
  let wrongStopped = false;
  try {
    const secrets = await provision(wrong, 'AUTH-1', ['auth-1']);
    const client = await connectDevice(wrong.mqttPort, 'auth-1', secrets['auth-1']);
    const ts = Date.now() - 120_000;
    await client.publishAsync(
      'devices/auth-1/readings',
      JSON.stringify([
        { ts, pm10: 61 },
        { ts: ts + 60_000, pm10: 62 },
      ]),
      { qos: 1 },
    );
    client.end(true);
    const health = await eventually(
      () => healthDetails(wrong.baseUrl),
      (h) => h.body.influx.lastError !== null,
      10_000,
      'the InfluxDB error in /health',
    );
    expect(health.status).toBe(503);
    expect(health.body.influx.lastError).toContain('401');
    expect(health.body.spool.depth).toBe(2);
    expect(wrong.logs.some((l) => l.includes('401'))).toBe(true);
    await wrong.stop();
    wrongStopped = true;

    right = await startTestService(
      influx,
      { DUSTWATCH_INFLUX_USERNAME: ADMIN.username, DUSTWATCH_INFLUX_PASSWORD: ADMIN.password },
      dataDir,
    );
    const rows = await eventually(
      () => influx.rows(TEST_DB, "SELECT pm10 FROM raw.readings WHERE device = 'auth-1'", ADMIN).catch(() => []),
      (r) => r.length === 2,
      20_000,
      'the spooled readings',
    );
    expect(rows).toEqual([
      { time: ts, pm10: 61 },
      { time: ts + 60_000, pm10: 62 },
    ]);
  } finally {
    if (!wrongStopped) await wrong.stop();
    await right?.stop();
    removeDir(dataDir);
  }
});
