import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ExcelJS from 'exceljs';
import { MqttClient } from 'mqtt';
import { ReportSchedule } from '@dustwatch/core';
import { CQ_LOOKBACK_MS, InfluxHttpClient, rollUpHours } from '@dustwatch/influx';
import { ReportPeriod, lastClosedPeriod, parsePeriod, previousPeriod } from '@dustwatch/reports';
import { InfluxServer } from './influx-server';
import { TEST_DB, TestService, connectDevice, eventually, metricValue, removeDir, startTestService } from './harness';
import { OracleAlert, OracleMonitor, RawReading, oracleReport } from './report-oracle';
import { WebhookReceiver } from './webhook-receiver';

const ADMIN_CLI = resolve(__dirname, '../../..', 'dist/apps/ingest/apps/ingest/src/cli.js');
const MIN = 60_000;
const HOUR = 3_600_000;
const SECRET = 'webhook-signing-secret-0123';

/**
 * A simulated weekend with known episodes, an outage, flagged values, a half-filled hour and
 * alert handling, sent over MQTT with the service's clock set to the weekend; the reports are
 * compared, number for number, with report-oracle.ts's computation from the same readings.
 */
const WEEK = previousPeriod(lastClosedPeriod('weekly', Date.now()));
const SUNDAY = parsePeriod('daily', new Date(WEEK.to - 12 * HOUR + 8 * HOUR).toISOString().slice(0, 10));
const SATURDAY = previousPeriod(SUNDAY);

const MONITORS: OracleMonitor[] = [
  { deviceId: 'S1-A', siteId: 'S1', siteName: '潞州一号工地', district: '潞州区', kind: 'site' },
  { deviceId: 'S1-B', siteId: 'S1', siteName: '潞州一号工地', district: '潞州区', kind: 'site' },
  { deviceId: 'S2-A', siteId: 'S2', siteName: '潞州二号工地', district: '潞州区', kind: 'site' },
  { deviceId: 'BG1-A', siteId: 'BG1', siteName: '潞州背景站', district: '潞州区', kind: 'background' },
  { deviceId: 'S3-A', siteId: 'S3', siteName: '上党三号工地', district: '上党区', kind: 'site' },
];

/** Reading at minute `i` after Saturday 00:00 local, or null for an outage. */
function reading(deviceId: string, i: number): RawReading | null {
  const ts = SATURDAY.from + i * MIN;
  const sunday = ts >= SUNDAY.from;
  const hour = Math.floor((ts - (sunday ? SUNDAY.from : SATURDAY.from)) / HOUR);
  const minute = i % 60;
  const j = ((i * 37) % 9) - 4; // deterministic jitter −4…4 so means are not trivially equal
  const day = hour >= 6 && hour < 22;
  switch (deviceId) {
    case 'S1-A':
      return {
        deviceId,
        ts,
        pm10: (sunday && hour === 11 ? 300 : sunday && hour >= 10 && hour < 13 ? 200 : 60) + j,
        pm25: 30 + j,
        tsp: 120 + j,
        noise: day ? 60 + (j % 3) : 50,
      };
    case 'S1-B':
      if (sunday && hour >= 2 && hour < 6) return null; // outage
      if (!sunday && hour === 23 && minute >= 40) return null; // a 40-reading hour: not valid
      return {
        deviceId,
        ts,
        pm10: sunday && hour === 14 && minute < 30 ? 500 : 70 + j,
        pm25: 35 + j,
        tsp: 130 + j,
        noise: day ? 58 : 49,
        ...(sunday && hour === 14 && minute < 30 ? { flags: { pm10: 'M' } } : {}), // maintenance: stored, not valid
      };
    case 'S2-A':
      return {
        deviceId,
        ts,
        pm10: (sunday && hour >= 20 && hour < 23 ? 190 : 100) + j,
        pm25: 50 + j,
        tsp: !sunday && hour === 8 ? 900 + j : 200 + j,
        noise: day ? 65 : 53,
      };
    case 'BG1-A':
      return { deviceId, ts, pm10: 40 + j, pm25: 20 + j, tsp: 80, noise: 45 };
    default: // S3-A: half a Saturday missing; loud days on Sunday, a loud Saturday night
      if (!sunday && hour < 12) return null;
      return {
        deviceId,
        ts,
        pm10: 80 + j,
        pm25: 40 + j,
        tsp: 150 + j,
        noise: day ? (sunday ? 72 + (j % 2) : 62) : !sunday ? 56 : 50,
      };
  }
}

const READINGS: RawReading[] = MONITORS.flatMap((m) =>
  Array.from({ length: 2 * 1440 }, (_, i) => reading(m.deviceId, i)).filter((r): r is RawReading => r !== null),
);

function publish(client: MqttClient, deviceId: string, batch: RawReading[]): Promise<void> {
  const body = batch.map(({ deviceId: _d, ...r }) => r);
  return new Promise((resolve, reject) =>
    client.publish(`devices/${deviceId}/readings`, JSON.stringify(body), { qos: 1 }, (e) =>
      e ? reject(e) : resolve(),
    ),
  );
}

interface LedgerAlert {
  id: number;
  siteId: string;
  rule: string;
  state: string;
  openedAt: string;
  raisedAt: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  closedAt: string | null;
}
const ms = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));

interface ReportBody {
  meta: { version: number; dataAsOf: number; computedBy: string };
  revisedDataAvailable: boolean;
  versions: number;
  report: {
    kind: string;
    period: string;
    days: string[];
    computedAt: number;
    sites: { siteId: string; district: string }[];
    ranking: { siteId: string; rank: number }[];
    city: unknown;
    districts: { district: string }[];
  };
}

describe('compliance reports from the real InfluxDB roll-up and the alert ledger', () => {
  let influx: InfluxServer;
  let webhook: WebhookReceiver;
  let service: TestService;
  const clock = { at: SUNDAY.from + 21 * HOUR, since: Date.now(), now: () => clock.at + (Date.now() - clock.since) };
  const setClock = (t: number): void => {
    clock.at = t;
    clock.since = Date.now();
  };
  const clients = new Map<string, MqttClient>();

  /**
   * Sends every monitor's readings of [from, to), an hour at a time across the fleet (as devices
   * would). InfluxDB's continuous query runs on the real clock, days after this weekend, so it
   * never passes these hours: once InfluxDB has the readings, the test runs the CQ's own
   * statement over the 2 hours a CQ run at the service's "now" covers. (The writer rolls up
   * older hours itself; the report's settle step the period's last hours.)
   */
  async function send(from: number, to: number): Promise<void> {
    for (let t = from; t < to; t += HOUR)
      for (const m of MONITORS) {
        const batch = READINGS.filter((r) => r.deviceId === m.deviceId && r.ts >= t && r.ts < t + HOUR);
        if (batch.length) await publish(clients.get(m.deviceId) as MqttClient, m.deviceId, batch);
      }
    await spoolDrained();
    const influxClient = new InfluxHttpClient({ url: influx.url, database: TEST_DB });
    await rollUpHours(influxClient, Math.floor((clock.now() - CQ_LOOKBACK_MS) / HOUR) * HOUR, clock.now());
  }
  const spoolDrained = (): Promise<number> =>
    eventually(
      async () => (await service.api<{ spool: { depth: number } }>('GET', '/api/health')).body.spool.depth,
      (d) => d === 0,
      30_000,
      'the spool drained',
    );

  const ledger = async (): Promise<LedgerAlert[]> =>
    (
      await service.api<{ items: LedgerAlert[] }>(
        'GET',
        '/api/alerts?state=open,acknowledged,resolved,closed&limit=500',
      )
    ).body.items;
  const oracleAlerts = (alerts: LedgerAlert[]): OracleAlert[] =>
    alerts.map((a) => ({
      siteId: a.siteId,
      openedAt: ms(a.openedAt) as number,
      raisedAt: ms(a.raisedAt) as number,
      acknowledgedAt: ms(a.acknowledgedAt),
      resolvedAt: ms(a.resolvedAt),
      closedAt: ms(a.closedAt),
    }));

  /**
   * Compares a report in full with the oracle's computation from the same readings and ledger
   * (the previous period's ranks from the oracle too); returns the oracle's figures.
   */
  async function matchesOracle(period: ReportPeriod, report: ReportBody['report']) {
    const alerts = oracleAlerts(await ledger());
    const previous = oracleReport(previousPeriod(period), MONITORS, READINGS, alerts, report.computedAt, new Map());
    const expected = oracleReport(
      period,
      MONITORS,
      READINGS,
      alerts,
      report.computedAt,
      new Map(previous.ranking.map((r) => [r.siteId, r.rank])),
    );
    expect(report.days).toEqual(expected.days);
    expect(report.sites).toEqual(expected.sites);
    expect(report.ranking).toEqual(expected.ranking);
    expect(report.city).toEqual(expected.city);
    expect(report.districts).toEqual(expected.districts);
    return expected;
  }

  beforeAll(async () => {
    influx = await InfluxServer.start();
    webhook = await WebhookReceiver.start(SECRET);
    service = await startTestService(
      influx,
      {
        DUSTWATCH_WEBHOOK_URL: webhook.url,
        DUSTWATCH_WEBHOOK_SECRET: SECRET,
        DUSTWATCH_WEBHOOK_FORMAT: 'wecom',
        DUSTWATCH_RULE_TICK_MS: '200',
        DUSTWATCH_WRITE_MAX_DELAY_MS: '20',
        DUSTWATCH_PUBLIC_URL: 'https://dust.example.cn',
      },
      undefined,
      clock,
    );
    const secrets: Record<string, string> = {};
    for (const site of [...new Set(MONITORS.map((m) => m.siteId))]) {
      const m = MONITORS.find((x) => x.siteId === site) as OracleMonitor;
      const res = await service.api('POST', '/api/sites', {
        id: site,
        name: m.siteName,
        district: m.district,
        lat: 36.2,
        lon: 113.1,
      });
      expect(res.status).toBe(201);
    }
    for (const m of MONITORS) {
      const res = await service.api<{ secret: string }>('POST', '/api/devices', {
        id: m.deviceId,
        siteId: m.siteId,
        model: 'TEST-1',
        kind: m.kind,
      });
      expect(res.status).toBe(201);
      secrets[m.deviceId] = res.body.secret;
    }
    for (const m of MONITORS)
      clients.set(m.deviceId, await connectDevice(service.mqttPort, m.deviceId, secrets[m.deviceId]));

    // Sunday 21:00: the weekend so far arrives; S2's 20:00 episode opens alerts, which an
    // inspector acknowledges at once (within the hour's deadline).
    await send(SATURDAY.from, SUNDAY.from + 21 * HOUR);
    const early = await eventually(
      ledger,
      (as) => as.some((a) => a.siteId === 'S2' && a.rule === 'pm10-hourly'),
      20_000,
      'the S2 pm10-hourly alert',
    );
    const episode = early.find((a) => a.siteId === 'S2' && a.rule === 'pm10-hourly') as LedgerAlert;
    expect(
      (await service.api('POST', `/api/alerts/${episode.id}/acknowledge`, { note: '已通知现场喷淋' })).status,
    ).toBe(200);

    // Monday 00:30: the rest arrives; the other S2 alert is acknowledged late, the resolved one closed.
    setClock(WEEK.to + 30 * MIN);
    await send(SUNDAY.from + 21 * HOUR, WEEK.to);
    const settled = await eventually(
      ledger,
      // The episode's alert resolved (the background one stays open: S2 stays 60 over the
      // background, its clear level): the ledger then holds still while the reports are compared.
      (as) => as.some((a) => a.siteId === 'S2' && a.rule === 'pm10-hourly' && a.state === 'resolved'),
      30_000,
      'the S2 episode resolved',
    );
    const background = settled.find((a) => a.siteId === 'S2' && a.rule === 'pm10-over-background') as LedgerAlert;
    expect(background.state).toBe('open');
    expect((await service.api('POST', `/api/alerts/${background.id}/acknowledge`, {})).status).toBe(200);
    expect((await service.api('POST', `/api/alerts/${episode.id}/close`, { note: '喷淋后恢复正常' })).status).toBe(200);
  }, 120_000);

  afterAll(async () => {
    for (const c of clients.values()) c.end(true);
    await service?.stop();
    removeDir(service?.dataDir);
    await webhook?.down();
    await influx?.stop();
  });

  it('refuses a period that is not over and an impossible one, with the reason', async () => {
    const open = await service.api<{ message: string }>('GET', `/api/reports/monthly/${'2099-01'}`);
    expect(open.status).toBe(409);
    expect(open.body.message).toContain('not over yet');
    const bad = await service.api<{ message: string }>('GET', '/api/reports/daily/2026-09-31');
    expect([bad.status, bad.body.message]).toEqual([400, '2026-09-31 is not a calendar date']);
    expect((await service.api('GET', '/api/reports/yearly/2026')).status).toBe(400);
    // Reading is for viewers; recomputing (a new version of a bulletin) for admins only.
    const viewer = (await service.api<{ key: string }>('POST', '/api/keys', { name: 'leader-li', role: 'viewer' })).body
      .key;
    const inspector = (
      await service.api<{ key: string }>('POST', '/api/keys', { name: 'inspector-wang', role: 'inspector' })
    ).body.key;
    expect((await service.api('GET', '/api/reports', undefined, viewer)).status).toBe(200);
    expect(
      (await service.api('POST', `/api/reports/daily/${SATURDAY.id}/recompute`, undefined, inspector)).status,
    ).toBe(403);
    expect((await service.api('GET', '/api/reports', undefined, null)).status).toBe(401);
    expect((await service.api('GET', `/api/reports/daily/${SUNDAY.id}?format=doc`)).status).toBe(400);
  });

  it('the daily report of Sunday matches the independent computation, figure for figure', async () => {
    const res = await service.api<ReportBody>('GET', `/api/reports/daily/${SUNDAY.id}`);
    expect(res.status).toBe(200);
    const { report } = res.body;
    expect([res.body.meta.version, res.body.versions, res.body.revisedDataAvailable]).toEqual([1, 1, false]);
    const expected = await matchesOracle(SUNDAY, report);
    // The scenario did what it says: these are the figures the oracle and the service agree on.
    const s1 = expected.sites.find((s) => s.siteId === 'S1');
    const s2 = expected.sites.find((s) => s.siteId === 'S2');
    expect(s1?.monitors.map((m) => [m.deviceId, m.received, m.valid, m.validHours])).toEqual([
      ['S1-A', 1440, 1440, 24],
      ['S1-B', 1200, 1170, 19],
    ]);
    expect(s1?.exceedances.map((e) => e.hours)).toEqual([3, 1, 0]);
    expect(s2?.background).toEqual({ available: true, exceedanceHours: 3, perDay: [3], nonCompliantDays: 1 });
    expect(s2?.handling.opened).toBeGreaterThanOrEqual(2);
    expect(s2?.handling.acknowledgedInTime).toBeGreaterThanOrEqual(1);
    expect(s2?.handling.overdue).toBeGreaterThanOrEqual(1);
    expect(expected.sites.find((s) => s.siteId === 'S3')?.noise.daysOver).toBe(1);
  });

  it('the weekly report matches too, including days without data; the previous week had no data, so no previous ranks', async () => {
    const res = await service.api<ReportBody>('GET', `/api/reports/weekly/${WEEK.id}`);
    expect(res.status).toBe(200);
    const { report } = res.body;
    expect(report.days).toHaveLength(7);
    const expected = await matchesOracle(WEEK, report);
    expect(expected.sites.find((s) => s.siteId === 'S2')?.levels.tsp.dailyMeans.filter((v) => v !== null)).toHaveLength(
      2,
    );
  });

  it('CSV with a BOM, XLSX with a sheet per table, the printable page: the same figures as the JSON', async () => {
    const json = (await service.api<ReportBody>('GET', `/api/reports/daily/${SUNDAY.id}`)).body.report as unknown as {
      sites: {
        siteId: string;
        capture: { capturePct: number };
        levels: { pm10: { periodMean: number | null } };
        score: number | null;
      }[];
    };
    const csvRes = await fetch(`${service.baseUrl}/api/reports/daily/${SUNDAY.id}?format=csv`, {
      headers: { 'x-api-key': 'test-admin-key-0123456789' },
    });
    expect(csvRes.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csvRes.headers.get('content-disposition')).toBe(
      `attachment; filename="dustwatch-daily-${SUNDAY.id}-v1.csv"`,
    );
    const csvBytes = Buffer.from(await csvRes.arrayBuffer());
    expect([...csvBytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = csvBytes.toString('utf8').slice(1).trim().split('\r\n');
    expect(lines[0].split(',').slice(0, 4)).toEqual(['区县', '站点编号', '站点名称', '类型']);
    expect(lines).toHaveLength(1 + json.sites.length);
    const s1 = lines.find((l) => l.split(',')[1] === 'S1')?.split(',') as string[];
    expect([s1[2], Number(s1[8])]).toEqual([
      '潞州一号工地',
      json.sites.find((s) => s.siteId === 'S1')?.capture.capturePct,
    ]);

    const xlsxRes = await fetch(`${service.baseUrl}/api/reports/daily/${SUNDAY.id}?format=xlsx`, {
      headers: { 'x-api-key': 'test-admin-key-0123456789' },
    });
    expect(xlsxRes.status).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await xlsxRes.arrayBuffer()) as unknown as ArrayBuffer);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['说明', '区县对比', '站点', '排名', 'PM10日均值']);
    const sheet = wb.getWorksheet('站点') as ExcelJS.Worksheet;
    const header = (sheet.getRow(1).values as unknown[]).slice(1);
    const col = (name: string): number => header.indexOf(name) + 1;
    for (const site of json.sites) {
      const row = sheet.getRows(2, sheet.rowCount - 1)?.find((r) => r.getCell(col('站点编号')).value === site.siteId);
      expect([
        row?.getCell(col('捕获率(%)')).value,
        row?.getCell(col('PM10均值(µg/m³)')).value ?? null,
        row?.getCell(col('扣分')).value ?? null,
      ]).toEqual([site.capture.capturePct, site.levels.pm10.periodMean, site.score]);
    }

    const page = await fetch(
      `${service.baseUrl}/api/reports/daily/${SUNDAY.id}?format=html&district=${encodeURIComponent('潞州区')}`,
      {
        headers: { 'x-api-key': 'test-admin-key-0123456789' },
      },
    );
    const html = await page.text();
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toContain('@page { size: A4;');
    expect(html).toContain('潞州一号工地');
    expect(html).not.toContain('上党三号工地'); // narrowed to 潞州区
    expect(html).toContain('<svg');
    // PDF: the same page printed by Debian's Chromium (scripts/test.sh installs it).
    const pdf = await fetch(`${service.baseUrl}/api/reports/daily/${SUNDAY.id}?format=pdf`, {
      headers: { 'x-api-key': 'test-admin-key-0123456789' },
    });
    const pdfBytes = Buffer.from(await pdf.arrayBuffer());
    expect([pdf.status, pdf.headers.get('content-type'), pdfBytes.subarray(0, 5).toString('latin1')]).toEqual([
      200,
      'application/pdf',
      '%PDF-',
    ]);
    expect(pdfBytes.length).toBeGreaterThan(10_000);
    const narrowed = await service.api<ReportBody>(
      'GET',
      `/api/reports/daily/${SUNDAY.id}?district=${encodeURIComponent('上党区')}`,
    );
    expect(narrowed.body.report.sites.map((s) => s.siteId)).toEqual(['S3']);
    expect((await service.api('GET', `/api/reports/daily/${SUNDAY.id}?district=nowhere`)).status).toBe(400);
  });

  it('prints at most one PDF at a time with three waiting; the rest are refused 503 with Retry-After (issue 22)', async () => {
    const pdfs = await Promise.all(
      Array.from({ length: 8 }, () =>
        fetch(`${service.baseUrl}/api/reports/daily/${SUNDAY.id}?format=pdf`, {
          headers: { 'x-api-key': 'test-admin-key-0123456789' },
        }),
      ),
    );
    const refused = pdfs.filter((r) => r.status === 503);
    // One printing and three waiting are served; the other four arrive while they are (a print takes > 0.5 s).
    expect(pdfs.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 503, 503, 503, 503]);
    expect(refused.map((r) => r.headers.get('retry-after'))).toEqual(['5', '5', '5', '5']);
    expect(((await refused[0].json()) as { message: string }).message).toMatch(
      /^4 PDFs are being printed or waiting already/,
    );
    await Promise.all(pdfs.map((r) => r.arrayBuffer().catch(() => undefined)));
  });

  it('computes a report on request only for a period since the first reading: 1970 is refused and nothing is stored (issue 22)', async () => {
    const before = (await service.api<unknown[]>('GET', '/api/reports')).body.length;
    const old = await service.api<{ message: string }>('GET', '/api/reports/daily/1970-01-02');
    expect(old.status).toBe(404);
    expect(old.body.message).toMatch(
      /^no daily report for 1970-01-02: this installation's first reading is from 20\d\d-/,
    );
    expect((await service.api('GET', '/api/reports/monthly/2000-01')).status).toBe(404);
    expect((await service.api<unknown[]>('GET', '/api/reports')).body.length).toBe(before);
  });

  it('late data after a report is flagged; a recomputation is a new version and the old one is kept', async () => {
    const path = `/api/reports/daily/${SATURDAY.id}`;
    const first = await service.api<ReportBody>('GET', path);
    expect([first.body.meta.version, first.body.revisedDataAvailable]).toEqual([1, false]);
    // A buffered upload (补传) for Saturday 03:00 from S3-A, which had no data then.
    const late = Array.from({ length: 60 }, (_, i) => ({
      deviceId: 'S3-A',
      ts: SATURDAY.from + 3 * HOUR + i * MIN,
      pm10: 500,
    }));
    await publish(clients.get('S3-A') as MqttClient, 'S3-A', late);
    const flagged = await eventually(
      () => service.api<ReportBody>('GET', path),
      (r) => r.body.revisedDataAvailable,
      10_000,
      'revised data flagged',
    );
    expect(flagged.body.meta.version).toBe(1);
    const list = await service.api<{ kind: string; period: string; version: number; revisedDataAvailable: boolean }[]>(
      'GET',
      '/api/reports?kind=daily',
    );
    expect(list.body.find((m) => m.period === SATURDAY.id)).toMatchObject({ version: 1, revisedDataAvailable: true });

    const again = await service.api<ReportBody>('POST', `${path}/recompute`);
    expect(again.status).toBe(200);
    expect([
      again.body.meta.version,
      again.body.versions,
      again.body.revisedDataAvailable,
      again.body.meta.computedBy,
    ]).toEqual([2, 2, false, 'recomputed by admin']);
    const s3 = (r: ReportBody) =>
      (r.report.sites as unknown as { siteId: string; monitors: { received: number }[] }[]).find(
        (s) => s.siteId === 'S3',
      )?.monitors[0].received;
    expect([s3(first.body), s3(again.body)]).toEqual([720, 780]);
    const v1 = await service.api<ReportBody>('GET', `${path}?version=1`);
    expect(s3(v1.body)).toBe(720);
    READINGS.push(...late);
  });

  it('the schedule makes the due reports once and sends each summary through the webhook as WeCom markdown with a link', async () => {
    // Monday 08:05 after the weekend: the daily report of Sunday (stored already: not recomputed)
    // and the weekly one are due; the monthly one covers the month before.
    setClock(WEEK.to + 8 * HOUR + 5 * MIN);
    const schedule = service.app.get(ReportSchedule);
    const sentBefore = await metricValue(service.baseUrl, 'dustwatch_report_summaries_sent_total{kind="monthly"}');
    await schedule.tick();
    expect(await metricValue(service.baseUrl, 'dustwatch_report_summaries_sent_total{kind="monthly"}')).toBe(
      (sentBefore ?? 0) + 1,
    );
    const reports = webhook.deliveries.filter((d) => d.headers['x-dustwatch-event'] === 'report');
    const contents = reports.map((d) => d.body as unknown as { msgtype: string; markdown: { content: string } });
    expect(contents.map((c) => c.msgtype)).toEqual(['markdown', 'markdown', 'markdown']);
    expect(contents[0].markdown.content).toContain(
      `https://dust.example.cn/api/reports/daily/${SUNDAY.id}?format=html`,
    );
    expect(contents[0].markdown.content).toContain('数据捕获率');
    expect(contents[1].markdown.content).toContain(`/api/reports/weekly/${WEEK.id}?format=html`);
    expect(reports.every((d) => d.signatureValid)).toBe(true);
    const daily = await service.api<ReportBody>('GET', `/api/reports/daily/${SUNDAY.id}`);
    expect([daily.body.meta.version, daily.body.meta.computedBy]).toEqual([1, 'first request']);
    // A second pass sends nothing again.
    await schedule.tick();
    expect(webhook.deliveries.filter((d) => d.headers['x-dustwatch-event'] === 'report')).toHaveLength(3);
    // Last month's bulletin, as an inspector downloads it: XLSX and the printable page.
    const month = schedule.duePeriod('monthly');
    expect(contents[2].markdown.content).toContain(`/api/reports/monthly/${month.id}?format=html`);
    const xlsx = await fetch(`${service.baseUrl}/api/reports/monthly/${month.id}?format=xlsx`, {
      headers: { 'x-api-key': 'test-admin-key-0123456789' },
    });
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await xlsx.arrayBuffer()) as unknown as ArrayBuffer);
    expect(wb.getWorksheet('PM10日均值')?.getRow(1).cellCount).toBe(2 + (month.to - month.from) / (24 * HOUR));
    const page = await fetch(`${service.baseUrl}/api/reports/monthly/${month.id}?format=html`, {
      headers: { 'x-api-key': 'test-admin-key-0123456789' },
    });
    expect(await page.text()).toContain('建筑工地扬尘在线监测月报');
  });

  it("the monthly bulletin of the weekend's month matches the independent computation too", async () => {
    const month = parsePeriod('monthly', SUNDAY.id.slice(0, 7));
    setClock(month.to + 8 * HOUR + 5 * MIN); // the 1st of the next month, after the report hour
    const res = await service.api<ReportBody>('GET', `/api/reports/monthly/${month.id}`);
    expect(res.status).toBe(200);
    const { report } = res.body;
    const expected = await matchesOracle(month, report);
    // The weekend is in it: S2's non-compliant Sunday, S1's critical hour.
    expect(expected.sites.find((s) => s.siteId === 'S2')?.background?.nonCompliantDays).toBe(1);
    expect(expected.sites.find((s) => s.siteId === 'S1')?.exceedances[1].hours).toBe(1);
  });

  it('dustwatch-admin report writes the XLSX of a period with progress, beside the running service', async () => {
    const before = previousPeriod(WEEK);
    const out = join(mkdtempSync(join(tmpdir(), 'dustwatch-report-')), 'week.xlsx');
    const result = await new Promise<{ code: number | null; stderr: string }>((done) => {
      const child = spawn(
        process.execPath,
        [ADMIN_CLI, 'report', 'weekly', before.id, '--format', 'xlsx', '--out', out],
        {
          env: {
            ...process.env,
            ...service.storeEnv,
            DUSTWATCH_DATA_DIR: service.dataDir,
            DUSTWATCH_INFLUX_URL: influx.url,
            DUSTWATCH_INFLUX_DB: TEST_DB,
          },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => done({ code, stderr }));
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('hourly roll-ups 7/7');
    expect(result.stderr).toContain(`weekly report ${before.id}, version 1 of 1; 4 sites;`);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(readFileSync(out) as unknown as ArrayBuffer);
    expect(wb.getWorksheet('站点')?.rowCount).toBe(1 + 4);
    // Stored by the CLI: the service serves the same version.
    const served = await service.api<ReportBody>('GET', `/api/reports/weekly/${before.id}`);
    expect([served.body.meta.version, served.body.meta.computedBy]).toEqual([1, 'first request']);
  });
});
