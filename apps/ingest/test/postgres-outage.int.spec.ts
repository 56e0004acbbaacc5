import { ThrowawayPostgres } from '@dustwatch/store-postgres';
import { InfluxServer } from './influx-server';
import {
  HealthBody,
  TEST_DB,
  TestService,
  connectDevice,
  eventually,
  healthDetails,
  metricValue,
  provision,
  publishBatch as publish,
  removeDir,
  startTestService,
} from './harness';

const MIN = 60_000;

describe('the service on PostgreSQL while PostgreSQL is down', () => {
  let cluster: ThrowawayPostgres;
  let influx: InfluxServer;
  let service: TestService;

  beforeAll(async () => {
    [cluster, influx] = await Promise.all([ThrowawayPostgres.start(), InfluxServer.start()]);
    service = await startTestService(influx, {
      DUSTWATCH_DATABASE_URL: await cluster.database(),
      DUSTWATCH_RULE_TICK_MS: '200',
      DUSTWATCH_WRITE_MAX_DELAY_MS: '20',
    });
  });
  afterAll(async () => {
    await service?.stop();
    removeDir(service?.dataDir);
    await Promise.all([cluster?.stop(), influx?.stop()]);
  });

  it('acknowledges and stores readings, reports the database down, and commits the alert that opened meanwhile once it is back', async () => {
    const secrets = await provision(service, 'PG1', ['PG1-M1']);
    const device = await connectDevice(service.mqttPort, 'PG1-M1', secrets['PG1-M1']);
    const start = Date.now() - 60 * MIN;
    const hour = Array.from({ length: 60 }, (_, i) => ({ ts: start + i * MIN, pm10: 300 }));
    await publish(device, 'PG1-M1', hour.slice(0, 30)); // half an hour: no valid hourly mean yet
    const failuresBefore = (await metricValue(service.baseUrl, 'dustwatch_rule_failures_total')) ?? 0;

    await cluster.pause();
    const down = await eventually(
      () => healthDetails<HealthBody>(service.baseUrl),
      (h) => !h.body.database.reachable,
      10_000,
      'the health report to see the database down',
    );
    expect(down.body.status).toBe('degraded');
    expect(down.body.database).toMatchObject({ engine: 'postgres', reachable: false });
    expect(down.body.database.error).toMatch(/ECONNREFUSED|terminat|connect/i);

    // The rest of the hour: acknowledged (the spool is local), stored in InfluxDB; the alert it
    // opens cannot be committed and is kept.
    await publish(device, 'PG1-M1', hour.slice(30));
    await eventually(
      async () =>
        (await influx.rows(TEST_DB, "SELECT count(pm10) FROM raw.readings WHERE device = 'PG1-M1'"))[0]?.count,
      (n) => n === 60,
      20_000,
      '60 readings in InfluxDB',
    );
    await eventually(
      async () => (await metricValue(service.baseUrl, 'dustwatch_rule_failures_total')) ?? 0,
      (n) => n > failuresBefore,
      10_000,
      'a failed alert commit',
    );

    await cluster.resume();
    const alerts = await eventually(
      async () =>
        (await service.api<{ items: { rule: string; deviceId: string; state: string }[] }>('GET', '/api/alerts')).body
          .items,
      (items) => items.length > 0,
      20_000,
      'the kept alert committed',
    );
    expect(alerts.map((a) => [a.rule, a.deviceId, a.state])).toEqual([['pm10-hourly', 'PG1-M1', 'open']]);
    const up = await eventually(
      () => healthDetails<HealthBody>(service.baseUrl),
      (h) => h.body.database.reachable,
      10_000,
      'the database reachable again',
    );
    expect(up.body.database.error).toBeNull();
    device.end(true);
  });
});
