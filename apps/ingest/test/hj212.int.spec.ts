import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { beijingTimestamp, frame, modbusSwappedCrc } from '@dustwatch/telemetry';
import { freePort } from './free-port';
import { InfluxServer } from './influx-server';
import {
  TEST_DB,
  TestService,
  api,
  eventually,
  metricValue,
  removeDir,
  spoolDrained,
  startTestService,
  testEnv,
} from './harness';
import { Hj212TestClient } from './hj212-client';
import { sim } from './sim-cli';

// Issue 11: HJ 212-2017 over real TCP into the same ingest core as MQTT.
let influx: InfluxServer;
let service: TestService;
let port: number;
const MN_A = 'CZ001HJ0000001';
const MN_B = 'CZ002HJ00002'; // a vendor with the byte-swapped MODBUS CRC and PM10 in mg/m³
const BASE = Math.floor((Date.now() - 2 * 3_600_000) / 60_000) * 60_000; // whole minutes, 2 h ago

const dataTime = (t: number): string => beijingTimestamp(t);
let qnSeq = 0;
const nextQn = (): string => `${beijingTimestamp(Date.now())}${String(qnSeq++ % 1000).padStart(3, '0')}`;
const segment = (o: { qn?: string; cn: string; mn?: string; pw?: string; flag?: number; cp: string }): string =>
  `QN=${o.qn ?? nextQn()};ST=39;CN=${o.cn};PW=${o.pw ?? '123456'};MN=${o.mn ?? MN_A};Flag=${o.flag ?? 5};CP=&&${o.cp}&&`;
const swapped = (data: string): string =>
  `##${String(data.length).padStart(4, '0')}${data}${modbusSwappedCrc(data).toString(16).toUpperCase().padStart(4, '0')}\r\n`;
const metric = async (sample: string): Promise<number> => (await metricValue(service.baseUrl, sample)) ?? 0;
const points = (device: string, measurement = 'raw.readings') =>
  influx.rows(TEST_DB, `SELECT * FROM ${measurement} WHERE device = '${device}' ORDER BY time`);

beforeAll(async () => {
  influx = await InfluxServer.start();
  port = await freePort();
  service = await startTestService(influx, { DUSTWATCH_HJ212_PORT: String(port) });
  const imported = await service.api('POST', '/api/fleet/import', {
    version: 1,
    sites: [
      {
        id: 'HJ-1',
        name: 'HJ site',
        district: 'Luzhou',
        lat: 36.2,
        lon: 113.1,
        devices: [
          { id: 'hj-a', model: 'YZ-212', kind: 'site', hj212: { mn: MN_A, password: '123456' } },
          {
            id: 'hj-b',
            model: 'XY-9',
            kind: 'site',
            hj212: { mn: MN_B, password: '654321', crc: 'modbus-swapped', units: { a34002: 'mg/m3' } },
          },
        ],
      },
    ],
  });
  if (imported.status !== 200) throw new Error(`import: ${imported.status} ${JSON.stringify(imported.body)}`);
  const alerting = await service.api('POST', '/api/fleet/import', {
    version: 1,
    sites: [
      {
        id: 'HJ-ALERT',
        name: 'HJ alert site',
        district: 'Luzhou',
        lat: 36.2,
        lon: 113.1,
        devices: [{ id: 'hj-alert', model: 'YZ-212', kind: 'site', hj212: { mn: 'CZ003HJALERT', password: '246810' } }],
      },
    ],
  });
  if (alerting.status !== 200) throw new Error(`import: ${alerting.status} ${JSON.stringify(alerting.body)}`);
});

afterAll(async () => {
  await service?.stop();
  if (service) removeDir(service.dataDir);
  await influx?.stop();
});

it('takes real-time data fed one byte at a time, in Beijing time, and answers 9014 with the same QN only once it is on disk', async () => {
  const client = await Hj212TestClient.connect(port);
  const qn = nextQn();
  const data = segment({
    qn,
    cn: '2011',
    cp: `DataTime=${dataTime(BASE)};a34002-Rtd=87.5,a34002-Flag=N;a34004-Rtd=41,a34004-Flag=M;a34001-Rtd=160;LA-Rtd=62.1;a01007-Rtd=2.4;a01008-Rtd=135;a01001-Rtd=3.5;a01002-Rtd=41;a01006-Rtd=91.3;`,
  });
  await client.writeBytewise(frame(data));
  const answer = await client.answerTo(qn);
  expect(answer).toMatchObject({ qn, st: '91', cn: '9014', flag: 4, mn: MN_A, cp: '' });
  // Answered means spooled: the point is there (or on its way) without any further frame.
  const rows = await eventually(
    () => points('hj-a'),
    (r) => r.length === 1,
    10_000,
    'the reading',
  );
  expect(rows[0]).toMatchObject({
    time: BASE,
    site: 'HJ-1',
    pm10: 87.5,
    pm25_flagged: 41,
    pm25_flag: 'M',
    tsp: 160,
    noise: 62.1,
    wind_speed: 2.4,
    wind_dir: 135,
    temperature: 3.5,
    humidity: 41,
    pressure: 91.3,
    hj212_kind: 'rtd',
  });
  client.end();
});

it('reassembles many frames in one write with garbage between, answers each, stores minute data and device hour values', async () => {
  const client = await Hj212TestClient.connect(port);
  const qns = [nextQn(), nextQn(), nextQn(), nextQn()];
  const frames = [
    frame(
      segment({
        qn: qns[0],
        cn: '2051',
        cp: `DataTime=${dataTime(BASE + 60_000)};a34002-Avg=90,a34002-Min=80,a34002-Max=99;Leq-Avg=58`,
      }),
    ),
    frame(
      segment({
        qn: qns[1],
        cn: '2051',
        cp: `DataTime=${dataTime(BASE + 120_000)};a34002-Avg=91;a21026-Avg=7;x99-Avg=1`,
      }),
    ),
    frame(
      segment({
        qn: qns[2],
        cn: '2061',
        cp: `DataTime=${dataTime(BASE - 3_600_000)};a34002-Avg=85,a34002-Min=40,a34002-Max=130`,
      }),
    ),
    frame(segment({ qn: qns[3], cn: '9015', cp: '' })),
    frame(segment({ cn: '3020', cp: 'PolId=a34002' })), // a command Dustwatch does not handle
  ];
  const otherBefore = await metric('dustwatch_hj212_commands_total{cn="other"}');
  const skippedBefore = await metric('dustwatch_hj212_skipped_codes_total{code="a21026"}');
  client.write(`\x00\xffgarbage${frames[0]}${frames[1]}noise##x${frames[2]}${frames[3]}${frames[4]}`);
  for (const qn of qns.slice(0, 3)) await client.answerTo(qn);
  const rows = await eventually(
    () => points('hj-a'),
    (r) => r.length === 3,
    10_000,
    'the minute readings',
  );
  expect(rows.slice(1).map((r) => [r.time, r.pm10, r.noise, r.hj212_kind])).toEqual([
    [BASE + 60_000, 90, 58, 'min'],
    [BASE + 120_000, 91, null, 'min'],
  ]);
  const hour = await eventually(
    () => points('hj-a', 'raw.device_aggregates'),
    (r) => r.length === 1,
    10_000,
    'the device hour values',
  );
  expect(hour[0]).toMatchObject({ time: BASE - 3_600_000, period: 'hour', pm10_avg: 85, pm10_min: 40, pm10_max: 130 });
  expect((await metric('dustwatch_hj212_skipped_codes_total{code="a21026"}')) - skippedBefore).toBe(1);
  expect(await metric('dustwatch_hj212_garbage_bytes_total')).toBeGreaterThan(0);
  await eventually(
    async () => (await metric('dustwatch_hj212_commands_total{cn="other"}')) - otherBefore,
    (n) => n === 1,
    5000,
    'the unhandled command to be counted',
  );
  client.end();
});

it('answers 300 frames sent in one write, each by its QN, in order', async () => {
  const client = await Hj212TestClient.connect(port);
  const qns = Array.from({ length: 300 }, () => nextQn());
  client.write(
    qns
      .map((qn, i) =>
        frame(segment({ qn, cn: '2051', cp: `DataTime=${dataTime(BASE - 180 * 60_000 + i * 1000)};a34002-Avg=55` })),
      )
      .join(''),
  );
  await client.answerTo(qns[299], 20_000);
  const answered = client.received.filter((m) => m.cn === '9014').map((m) => m.qn);
  expect(answered).toEqual(qns);
  client.end();
});

it('answers each part of a split message (PNUM/PNO, D bit) by its own QN', async () => {
  const client = await Hj212TestClient.connect(port);
  const parts = [1, 2].map((pno) => ({
    qn: nextQn(),
    text: `QN=;ST=39;CN=2011;PW=123456;MN=${MN_A};Flag=7;PNUM=2;PNO=${pno};CP=&&DataTime=${dataTime(BASE + (10 + pno) * 60_000)};a34002-Rtd=${60 + pno}&&`,
  }));
  for (const p of parts) client.write(frame(p.text.replace('QN=;', `QN=${p.qn};`)));
  for (const p of parts) await client.answerTo(p.qn);
  const rows = await eventually(
    () =>
      influx.rows(
        TEST_DB,
        `SELECT pm10 FROM raw.readings WHERE device = 'hj-a' AND time >= ${BASE + 11 * 60_000}ms AND time <= ${BASE + 12 * 60_000}ms`,
      ),
    (r) => r.length === 2,
    10_000,
    'both parts',
  );
  expect(rows.map((r) => r.pm10)).toEqual([61, 62]);
  client.end();
});

it('raises an alert from HJ 212 data as from MQTT, at the real time of a buffered upload that came after live data', async () => {
  const client = await Hj212TestClient.connect(port);
  const now = Math.floor(Date.now() / 60_000) * 60_000;
  // Live data of the last 10 minutes first (clean), then the monitor's buffered hour before it (补传, 300 µg/m³).
  const live = Array.from({ length: 10 }, (_, i) => ({
    qn: nextQn(),
    t: now - (9 - i) * 60_000,
    pm10: 40,
    cn: '2011',
  }));
  const outage = now - 80 * 60_000;
  const buffered = Array.from({ length: 60 }, (_, i) => ({
    qn: nextQn(),
    t: outage + i * 60_000,
    pm10: 300,
    cn: '2051',
  }));
  for (const f of [...live, ...buffered])
    client.write(
      frame(
        segment({
          qn: f.qn,
          mn: 'CZ003HJALERT',
          pw: '246810',
          cn: f.cn,
          cp: `DataTime=${dataTime(f.t)};a34002-${f.cn === '2011' ? 'Rtd' : 'Avg'}=${f.pm10}`,
        }),
      ),
    );
  await client.answerTo(buffered[59].qn, 10_000);
  const alerts = await eventually(
    async () =>
      (
        await service.api<{ items: { deviceId: string; rule: string; firstExceedanceAt: string; openedAt: string }[] }>(
          'GET',
          '/api/alerts?siteId=HJ-ALERT',
        )
      ).body.items,
    (items) => items.some((a) => a.rule === 'pm10-hourly'),
    20_000,
    'the pm10-hourly alert',
  );
  const alert = alerts.find((a) => a.rule === 'pm10-hourly')!;
  expect(alert.deviceId).toBe('hj-alert');
  // The first valid hour (45 of 60 samples) inside the outage, not the time the upload arrived.
  expect(Date.parse(alert.openedAt)).toBe(outage + 44 * 60_000);
  client.end();
});

it('refuses a bad CRC and the wrong CRC variant with their reasons, and takes the MODBUS vendor in mg/m³', async () => {
  const client = await Hj212TestClient.connect(port);
  const crcBefore = await metric('dustwatch_readings_rejected_total{reason="crc_mismatch"}');
  const variantBefore = await metric('dustwatch_readings_rejected_total{reason="crc_variant"}');
  const bad = frame(segment({ cn: '2011', cp: `DataTime=${dataTime(BASE + 180_000)};a34002-Rtd=70` })).replace(
    /[0-9A-F]{4}\r\n$/,
    '0000\r\n',
  );
  const wrongVariantQn = nextQn();
  const wrongVariant = swapped(
    segment({ qn: wrongVariantQn, cn: '2011', cp: `DataTime=${dataTime(BASE + 240_000)};a34002-Rtd=71` }),
  );
  const vendorQn = nextQn();
  const vendor = swapped(
    segment({
      qn: vendorQn,
      mn: MN_B,
      pw: '654321',
      cn: '2011',
      cp: `DataTime=${dataTime(BASE)};a34002-Rtd=0.087;a34004-Rtd=41`,
    }),
  );
  client.write(bad + wrongVariant + vendor);
  const answer = await client.answerTo(vendorQn);
  expect(answer.mn).toBe(MN_B);
  const rows = await eventually(
    () => points('hj-b'),
    (r) => r.length === 1,
    10_000,
    "the vendor's reading",
  );
  expect([rows[0].pm10, rows[0].pm25]).toEqual([87, 41]); // mg/m³ scaled; PM2.5 left as sent (µg/m³)
  expect(client.received.some((m) => m.qn === wrongVariantQn)).toBe(false);
  expect((await metric('dustwatch_readings_rejected_total{reason="crc_mismatch"}')) - crcBefore).toBe(1);
  expect((await metric('dustwatch_readings_rejected_total{reason="crc_variant"}')) - variantBefore).toBe(1);
  const quarantined = await service.api<{ reasons: { code: string; message: string }[]; raw: string }[]>(
    'GET',
    '/api/quarantine?deviceId=hj-a',
  );
  expect(quarantined.body[0].reasons[0]).toEqual({
    code: 'crc_variant',
    message:
      'the frame carries a byte-swapped MODBUS CRC; this device is set to the HJ 212 CRC (set hj212.crc: modbus-swapped if its firmware sends that)',
  });
  expect(quarantined.body[0].raw).toBe(wrongVariant);
  client.end();
});

it('refuses an impossible DataTime with its reason, still answering the frame (it was received and kept)', async () => {
  const client = await Hj212TestClient.connect(port);
  const qn = nextQn();
  client.write(frame(segment({ qn, cn: '2011', cp: 'DataTime=20260931100000;a34002-Rtd=70' })));
  await client.answerTo(qn);
  const quarantined = await service.api<{ reasons: { code: string; message: string }[] }[]>(
    'GET',
    '/api/quarantine?deviceId=hj-a',
  );
  expect(quarantined.body[0].reasons[0]).toEqual({
    code: 'bad_timestamp',
    field: 'DataTime',
    message: 'DataTime "20260931100000" is not yyyyMMddHHmmss naming a real Beijing time',
  });
  client.end();
});

it('answers a time request and sets a real-time clock that is 15 minutes off', async () => {
  const client = await Hj212TestClient.connect(port);
  client.write(frame(segment({ cn: '1013', cp: '' })));
  const set = await eventually(
    async () => client.received.find((m) => m.cn === '1012'),
    (m) => m !== undefined,
    5000,
    'the 1012 answer',
  );
  const systemTime = /SystemTime=(\d{14})/.exec(set!.cp)![1];
  expect(
    Math.abs(
      Date.parse(
        `${systemTime.slice(0, 4)}-${systemTime.slice(4, 6)}-${systemTime.slice(6, 8)}T${systemTime.slice(8, 10)}:${systemTime.slice(10, 12)}:${systemTime.slice(12, 14)}+08:00`,
      ) - Date.now(),
    ),
  ).toBeLessThan(5000);
  client.end();

  const late = await Hj212TestClient.connect(port);
  const qn = nextQn();
  late.write(frame(segment({ qn, cn: '2011', cp: `DataTime=${dataTime(Date.now() - 15 * 60_000)};a34002-Rtd=60` })));
  await late.answerTo(qn);
  await eventually(
    async () => late.received.filter((m) => m.cn === '1012').length,
    (n) => n === 1,
    5000,
    'the clock to be set',
  );
  late.end();
});

it('provisions an HJ 212 identity through the admin API, shows it without the PW, and refuses a taken MN', async () => {
  const created = await service.api<{ device: { hj212?: object }; secret: string }>('POST', '/api/devices', {
    id: 'hj-api',
    siteId: 'HJ-1',
    model: 'XY-9',
    kind: 'site',
    hj212: { mn: 'CZ004HJAPI01', password: '135790', crc: 'modbus-swapped', units: { a34001: 'mg/m3' } },
  });
  expect(created.status).toBe(201);
  expect(created.body.device.hj212).toEqual({ mn: 'CZ004HJAPI01', crc: 'modbus-swapped', units: { a34001: 'mg/m3' } });
  const listed = await service.api<{ id: string; hj212?: object }[]>('GET', '/api/devices?siteId=HJ-1');
  expect(listed.body.find((d) => d.id === 'hj-api')!.hj212).toEqual({
    mn: 'CZ004HJAPI01',
    crc: 'modbus-swapped',
    units: { a34001: 'mg/m3' },
  });
  expect(JSON.stringify(listed.body)).not.toContain('135790');
  const taken = await service.api('POST', '/api/devices', {
    id: 'hj-api-2',
    siteId: 'HJ-1',
    model: 'XY-9',
    kind: 'site',
    hj212: { mn: 'CZ004HJAPI01', password: '000000' },
  });
  expect(taken.status).toBe(409);
  const invalid = await service.api<{ message: string[] }>('POST', '/api/devices', {
    id: 'hj-api-3',
    siteId: 'HJ-1',
    model: 'XY-9',
    kind: 'site',
    hj212: { mn: 'short', password: '1234', crc: 'crc32', units: { a21026: 'mg/m3' } },
  });
  expect(invalid.status).toBe(400);
  expect(invalid.body.message).toEqual([
    'hj212.mn must be 9–24 letters, digits, _ or -',
    'hj212.password must be 6–32 characters without ; , & = or spaces',
    'hj212.crc must be one of the following values: hj212, modbus-swapped',
    'hj212.units maps a34001/a34002/a34004 to ug/m3 or mg/m3',
  ]);
  // The new device uploads with its settings at once.
  const client = await Hj212TestClient.connect(port);
  const qn = nextQn();
  client.write(
    swapped(`QN=${qn};ST=22;CN=2011;PW=135790;MN=CZ004HJAPI01;Flag=5;CP=&&DataTime=${dataTime(BASE)};a34001-Rtd=0.2&&`),
  );
  await client.answerTo(qn);
  client.end();
});

it('refuses a wrong PW without answering, closes the connection after three, and counts it', async () => {
  const before = await metric('dustwatch_device_logins_refused_total{edge="hj212",reason="bad_credentials"}');
  const client = await Hj212TestClient.connect(port, '127.0.0.5');
  for (let i = 0; i < 3; i++)
    client.write(frame(segment({ pw: '000000', cn: '2011', cp: `DataTime=${dataTime(BASE)};a34002-Rtd=60` })));
  await eventually(
    async () => client.closed,
    (closed) => closed,
    5000,
    'the connection to close',
  );
  expect(client.received).toEqual([]);
  expect((await metric('dustwatch_device_logins_refused_total{edge="hj212",reason="bad_credentials"}')) - before).toBe(
    3,
  );
});

it('closes a connection without authenticated frames, and a frame trickled a byte at a time (slowloris), while a device sending its frames stays (issue 22)', async () => {
  const idlePort = await freePort();
  const idle = await startTestService(influx, {
    DUSTWATCH_HJ212_PORT: String(idlePort),
    DUSTWATCH_HJ212_IDLE_SECONDS: '2',
    DUSTWATCH_HJ212_FRAME_SECONDS: '1',
  });
  const clients: Hj212TestClient[] = [];
  const timers: NodeJS.Timeout[] = [];
  /** Writes what `next` gives every `everyMs` until the test ends. */
  const keepWriting = (client: Hj212TestClient, everyMs: number, next: (i: number) => string): void => {
    let i = 0;
    timers.push(setInterval(() => client.closed || client.write(next(i++)), everyMs));
  };
  const sampleOf = async (sample: string): Promise<number> => (await metricValue(idle.baseUrl, sample)) ?? 0;
  const closedOutcome = (outcome: string): Promise<number> =>
    sampleOf(`dustwatch_hj212_connections_total{outcome="${outcome}"}`);
  try {
    const mn = 'CZ004HJIDLE01';
    const imported = await idle.api('POST', '/api/fleet/import', {
      version: 1,
      sites: [
        {
          id: 'HJ-IDLE',
          name: 'idle site',
          district: 'Luzhou',
          lat: 36.2,
          lon: 113.1,
          devices: [{ id: 'hj-idle', model: 'YZ-212', kind: 'site', hj212: { mn, password: '135790' } }],
        },
      ],
    });
    expect(imported.status).toBe(200);
    const [silent, trickle, refusedOnly, device] = await Promise.all(
      Array.from({ length: 4 }, () => Hj212TestClient.connect(idlePort)),
    );
    clients.push(silent, trickle, refusedOnly, device);
    // One byte every 200 ms of a frame that would be 1,000 characters long: it never completes.
    const long = `##1000QN=${nextQn()};ST=39;CN=2011;`.padEnd(1016, 'x');
    keepWriting(trickle, 200, (i) => long[i % long.length]);
    // A refused frame (its length is not digits) every 300 ms: traffic, but nothing authenticated.
    keepWriting(refusedOnly, 300, () => '##abcd');
    // The device's heartbeat (CN 9015) every 500 ms with its MN and PW.
    keepWriting(device, 500, () => frame(segment({ cn: '9015', mn, pw: '135790', flag: 4, cp: '' })));
    await eventually(
      async () => [silent.closed, trickle.closed, refusedOnly.closed],
      (closed) => closed.every(Boolean),
      8000,
      'the silent, trickling and refused-only connections to close',
    );
    expect(device.closed).toBe(false);
    // Past another idle period (2 s): 5 more heartbeats handled, every 500 ms; the device still stays.
    const heartbeats = (): Promise<number> => sampleOf('dustwatch_hj212_commands_total{cn="9015"}');
    const handled = await heartbeats();
    await eventually(heartbeats, (n) => n >= handled + 5, 8000, '5 more heartbeats handled');
    expect(device.closed).toBe(false);
    expect(await closedOutcome('closed_incomplete_frame')).toBe(1);
    expect(await closedOutcome('closed_idle')).toBe(2);
  } finally {
    timers.forEach(clearInterval);
    clients.forEach((c) => c.end());
    await idle.stop();
    removeDir(idle.dataDir);
  }
});

it("unauthenticated frames share one quarantine budget: 30 addresses keep one cap's worth, and a device's own refusals are still kept (issue 25)", async () => {
  const qPort = await freePort();
  const q = await startTestService(influx, {
    DUSTWATCH_HJ212_PORT: String(qPort),
    DUSTWATCH_QUARANTINE_PER_DEVICE_HOUR: '20',
  });
  const qMetric = async (sample: string): Promise<number> => (await metricValue(q.baseUrl, sample)) ?? 0;
  try {
    const mn = 'CZ006HJQUAR01';
    expect(
      (
        await q.api('POST', '/api/fleet/import', {
          version: 1,
          sites: [
            {
              id: 'HJ-Q',
              name: 'quarantine site',
              district: 'Luzhou',
              lat: 36.2,
              lon: 113.1,
              devices: [{ id: 'hj-q', model: 'YZ-212', kind: 'site', hj212: { mn, password: '975310' } }],
            },
          ],
        })
      ).status,
    ).toBe(200);
    // 30 addresses, 3 frames each with a CRC that matches nothing: refused before any login.
    const garbage = (i: number): string => {
      const data = segment({
        cn: '2011',
        mn: `CZ9NOBODY${String(i).padStart(3, '0')}`,
        cp: `DataTime=${dataTime(BASE)};a34002-Rtd=50`,
      });
      return `##${String(data.length).padStart(4, '0')}${data}0000\r\n`;
    };
    const senders = await Promise.all(
      Array.from({ length: 30 }, (_, a) => Hj212TestClient.connect(qPort, `127.0.5.${a + 1}`)),
    );
    senders.forEach((c, a) => c.write(garbage(a).repeat(3)));
    await eventually(
      () => qMetric('dustwatch_readings_rejected_total{reason="crc_mismatch"}'),
      (n) => n === 90,
      5000,
      '90 refused frames counted',
    );
    expect(await qMetric('dustwatch_quarantine_not_kept_total')).toBe(70); // 20 kept in all, not 3 × 30
    // The device's own refusals (an impossible PM10) are kept under its own cap.
    const device = await Hj212TestClient.connect(qPort, '127.0.6.1');
    const qns = [0, 1, 2, 3, 4].map(() => nextQn());
    for (const [k, qn] of qns.entries())
      device.write(
        frame(
          segment({ qn, cn: '2011', mn, pw: '975310', cp: `DataTime=${dataTime(BASE + k * 60_000)};a34002-Rtd=-5` }),
        ),
      );
    await device.answerTo(qns[4]);
    expect(await qMetric('dustwatch_quarantine_not_kept_total')).toBe(70);
    const rows = (await q.api<{ deviceId: string }[]>('GET', '/api/quarantine?limit=500')).body;
    expect(rows.filter((r) => r.deviceId === 'hj-q')).toHaveLength(5);
    expect(rows.filter((r) => r.deviceId.startsWith('hj212@'))).toHaveLength(20);
    [...senders, device].forEach((c) => c.end());
  } finally {
    await q.stop();
    removeDir(q.dataDir);
  }
});

describe('kill -9 of the service process between frames', () => {
  const MAIN_JS = resolve(__dirname, '../../../dist/apps/ingest/apps/ingest/src/main.js');
  const dataDir = mkdtempSync(join(tmpdir(), 'dustwatch-hj212-kill-'));
  let child: ChildProcess | null = null;

  afterAll(() => {
    child?.kill('SIGKILL');
    removeDir(dataDir);
  });

  async function startChild(httpPort: number, hjPort: number): Promise<ChildProcess> {
    const env = {
      ...process.env,
      ...testEnv(influx, dataDir, { DUSTWATCH_HTTP_PORT: String(httpPort), DUSTWATCH_HJ212_PORT: String(hjPort) }),
    };
    const proc = spawn(process.execPath, [MAIN_JS], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    await eventually(
      async () => (await fetch(`http://127.0.0.1:${httpPort}/health`).catch(() => null))?.status === 200,
      (up) => up,
      30_000,
      'the service to be ready',
    );
    return proc;
  }

  it('has every answered QN in InfluxDB after a restart', async () => {
    const httpPort = await freePort();
    const hjPort = await freePort();
    child = await startChild(httpPort, hjPort);
    const baseUrl = `http://127.0.0.1:${httpPort}`;
    const imported = await api(baseUrl, 'POST', '/api/fleet/import', {
      version: 1,
      sites: [
        {
          id: 'HJK-1',
          name: 'kill site',
          district: 'Luzhou',
          lat: 36.2,
          lon: 113.1,
          devices: [{ id: 'hjk-1', model: 'YZ-212', kind: 'site', hj212: { mn: 'CZ099HJKILL01', password: '777777' } }],
        },
      ],
    });
    expect(imported.status).toBe(200);
    const client = await Hj212TestClient.connect(hjPort);
    const start = BASE - 3_600_000;
    const sentTs = new Map<string, number>();
    const victim = child;
    let outage: Promise<void> | null = null;
    // Frames in a window of 16 awaiting their answer; InfluxDB goes down at 200 answers, the
    // service is killed at 400: what was answered after the outage exists only in the spool.
    for (let i = 0; i < 2000 && !client.closed; i++) {
      const qn = `2026112800000${String(i).padStart(4, '0')}`; // 17 digits, as text: beyond 2^53 as a number
      const ts = start + i * 1000;
      sentTs.set(qn, ts);
      client.write(
        frame(
          segment({
            qn,
            mn: 'CZ099HJKILL01',
            pw: '777777',
            cn: '2011',
            cp: `DataTime=${dataTime(ts)};a34002-Rtd=${50 + (i % 50)}`,
          }),
        ),
      );
      const answers = (): number => client.received.filter((m) => m.cn === '9014').length;
      while (!client.closed && sentTs.size - answers() > 16) await new Promise((r) => setTimeout(r, 1));
      const answered = answers();
      if (answered >= 200 && outage === null) outage = influx.pause();
      if (answered >= 400 && victim.exitCode === null && victim.signalCode === null) victim.kill('SIGKILL');
    }
    await eventually(
      async () => client.closed,
      (closed) => closed,
      10_000,
      'the connection to drop with the process',
    );
    const answeredTs = client.received.filter((m) => m.cn === '9014').map((m) => sentTs.get(m.qn!)!);
    expect(answeredTs.length).toBeGreaterThanOrEqual(400);
    expect(answeredTs.length).toBeLessThan(2000);
    await outage;
    await influx.resume();
    child = await startChild(httpPort, hjPort);
    const stored = await eventually(
      async () =>
        new Set(
          (await influx.rows(TEST_DB, `SELECT pm10 FROM raw.readings WHERE device = 'hjk-1'`).catch(() => [])).map(
            (r) => r.time as number,
          ),
        ),
      (times) => answeredTs.every((t) => times.has(t)),
      30_000,
      'every answered reading',
    );
    expect(answeredTs.filter((t) => !stored.has(t))).toEqual([]);
  });
});

it('the simulator plays a mixed fleet over HJ 212 (vendors with the MODBUS CRC and mg/m³, an outage with its buffered upload after live data, broken frames): every answered reading stored', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dustwatch-hj212-sim-'));
  try {
    const fleetFile = join(dir, 'fleet.yaml');
    expect(
      (await sim(['generate-fleet', '--sites', '10', '--seed', '5', '--hj212-share', '1', '--out', fleetFile])).code,
    ).toBe(0);
    const fleet = parse(readFileSync(fleetFile, 'utf8')) as {
      sites: {
        id: string;
        devices: { id: string; kind: string; model: string; hj212?: { crc?: string; units?: object } }[];
      }[];
    };
    expect((await service.api('POST', '/api/fleet/import', fleet)).status).toBe(200);
    const devices = fleet.sites.flatMap((s) => s.devices);
    const hj = devices.filter((d) => d.hj212);
    expect(hj.length).toBe(devices.filter((d) => d.kind === 'site').length);
    const modbus = hj.find((d) => d.hj212!.crc === 'modbus-swapped')!;
    const mg = hj.find((d) => d.hj212!.units)!;
    const [broken, silent] = hj.filter((d) => d !== modbus && d !== mg).map((d) => d.id);
    expect([modbus, mg, broken, silent].every(Boolean)).toBe(true);
    // Earlier tests left refusals from this address: only what this run adds counts.
    const lastIdBefore = (await service.api<{ id: number }[]>('GET', '/api/quarantine?limit=1')).body[0]?.id ?? 0;
    const scenarioFile = join(dir, 'scenarios.yaml');
    writeFileSync(
      scenarioFile,
      [
        'version: 1',
        'scenarios:',
        `  - { kind: malformed, device: ${broken}, at: +3m, payloads: [out_of_range] }`,
        `  - { kind: silence, device: ${silent}, at: +8m, minutes: 12 }`,
      ].join('\n'),
    );
    const run = await sim([
      'run',
      '--fleet',
      fleetFile,
      '--url',
      `mqtt://127.0.0.1:${service.mqttPort}`,
      '--hj212',
      `127.0.0.1:${port}`,
      '--speed',
      '300',
      '--duration',
      '30m',
      '--scenario',
      scenarioFile,
      '--json',
    ]);
    expect(run.stderr).not.toContain('Error');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as {
      readingsAcked: number;
      drained: boolean;
      devices: number;
      hj212Devices: number;
      hj212ClockSets: number;
      publishRetries: number;
    };
    expect(summary.drained).toBe(true);
    expect(summary.hj212Devices).toBe(hj.length);
    // Accelerated, the readings are stamped in the past: the service offers its time (CN 1012).
    expect(summary.hj212ClockSets).toBeGreaterThanOrEqual(1);
    expect(summary.readingsAcked).toBeGreaterThanOrEqual(30 * devices.length);
    expect(summary.readingsAcked).toBeLessThanOrEqual(31 * devices.length);
    await spoolDrained(service.baseUrl);
    const rows = await influx.rows(
      TEST_DB,
      `SELECT count(pm10) FROM raw.readings WHERE device =~ /^(${devices.map((d) => d.id).join('|')})$/ GROUP BY device`,
    );
    const perDevice = Object.fromEntries(rows.map((r) => [r.device as string, r.count as number]));
    // The broken device's out_of_range frame was answered as kept, and is not a reading.
    expect(Object.values(perDevice).reduce((a, b) => a + b, 0)).toBe(summary.readingsAcked);
    for (const d of [modbus.id, mg.id, silent]) expect(perDevice[d]).toBeGreaterThanOrEqual(30);
    // mg/m³ scaled back: PM10 in the model's µg/m³ range, not 1,000 times smaller.
    const mgPm10 = await influx.rows(TEST_DB, `SELECT mean(pm10) FROM raw.readings WHERE device = '${mg.id}'`);
    expect(mgPm10[0].mean as number).toBeGreaterThan(10);
    // The silent device's buffered minutes came as minute data (补传), after its live data resumed.
    const kinds = await influx.rows(
      TEST_DB,
      `SELECT pm10, hj212_kind FROM raw.readings WHERE device = '${silent}' AND hj212_kind = 'min'`,
    );
    expect(kinds.length).toBeGreaterThanOrEqual(11);
    const quarantine = await service.api<{ id: number; deviceId: string; reasons: { code: string }[] }[]>(
      'GET',
      '/api/quarantine?limit=1000',
    );
    const reasons = quarantine.body.filter(
      (q) => q.id > lastIdBefore && (q.deviceId === broken || q.deviceId.startsWith('hj212@')),
    );
    expect(new Set(reasons.map((q) => q.reasons[0].code))).toEqual(
      new Set(['crc_mismatch', 'length_mismatch', 'out_of_range', 'bad_timestamp']),
    );
  } finally {
    removeDir(dir);
  }
});
