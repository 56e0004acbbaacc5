import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { AlertEventView, alertText } from '@dustwatch/core';
import type { ReportSummary } from '@dustwatch/reports';
import { WebhookChannel } from './webhook.channel';

const event: AlertEventView = {
  id: 7,
  alertId: 3,
  type: 'opened',
  at: '2026-11-28T02:15:00.000Z',
  actor: null,
  actorName: null,
  severity: 'critical',
  state: 'open',
  value: 263.44,
  note: null,
  alert: {
    id: 3,
    rule: 'pm10-hourly',
    ruleName: 'PM10小时均值超标',
    metric: 'pm10',
    subject: 'CZ-001-M1',
    siteId: 'CZ-001',
    siteName: '潞州区第一中学扩建工程',
    district: '潞州区',
    deviceId: 'CZ-001-M1',
    state: 'open',
    severity: 'critical',
    threshold: 250,
    openedAt: '2026-11-28T02:15:00.000Z',
    raisedAt: '2026-11-28T02:15:00.000Z',
    firstExceedanceAt: '2026-11-28T02:15:00.000Z',
    lastExceedanceAt: '2026-11-28T02:15:00.000Z',
    peakValue: 263.44,
    peakAt: '2026-11-28T02:15:00.000Z',
    lastValue: 263.44,
    evidence: { from: '2026-11-28T01:15:00.000Z', to: '2026-11-28T02:15:00.000Z' },
    acknowledgedBy: null,
    acknowledgedAt: null,
    resolvedAt: null,
    resolvedReason: null,
    closedBy: null,
    closedAt: null,
    closeNote: null,
  },
};

/** A real HTTP receiver that records each request and answers the n-th with `status(n)`. */
async function receiver(status: (n: number) => number) {
  const received: { headers: Record<string, unknown>; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(status(received.length)).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { received, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/robot` };
}

describe('alert notifications', () => {
  it("writes one line a person can act on, in the bureau's time zone", () => {
    expect(alertText(event)).toBe(
      '【Dustwatch】严重 PM10小时均值超标 告警产生 — 工地 潞州区第一中学扩建工程（CZ-001，潞州区），设备 CZ-001-M1，263.4 µg/m³（阈值 250 µg/m³），2026-11-28 10:15（北京时间），告警 #3',
    );
    expect(
      alertText({ ...event, type: 'closed', actor: 'zhang', actorName: '张三', value: null, note: '已洒水降尘' }),
    ).toBe(
      '【Dustwatch】严重 PM10小时均值超标 已办结 — 工地 潞州区第一中学扩建工程（CZ-001，潞州区），设备 CZ-001-M1，2026-11-28 10:15（北京时间），告警 #3，处理人 张三（zhang）：已洒水降尘',
    );
  });

  it('sends a WeCom/DingTalk robot text body, still signed, to a real HTTP receiver', async () => {
    const { received, server, url } = await receiver((n) => (n === 1 ? 200 : 500));
    try {
      const channel = new WebhookChannel(url, 'robot-secret-0123456789', 'wecom', 'https://dust.example.cn/');
      await channel.deliver('dw-7-webhook', event);
      // The message links the alert's own page in the console.
      expect(JSON.parse(received[0].body)).toEqual({
        msgtype: 'text',
        text: { content: `${alertText(event)} https://dust.example.cn/#/alert/3` },
      });
      expect(received[0].headers['x-dustwatch-delivery']).toBe('dw-7-webhook');
      await expect(channel.deliver('dw-7-webhook', event)).rejects.toThrow('webhook answered HTTP 500');
    } finally {
      server.close();
    }
  });

  it('sends a report summary as DingTalk markdown (title + text) and as JSON with the figures', async () => {
    const { received, server, url } = await receiver(() => 200);
    const summary: ReportSummary = {
      kind: 'daily',
      period: '2026-11-27',
      title: '扬尘在线监测日报 2026年11月27日',
      url: 'https://dust.example.cn/api/reports/daily/2026-11-27?format=html',
      text: 'text',
      markdown: '### 扬尘在线监测日报',
      capturePct: 97.5,
      overdue: 2,
      worstSites: [{ siteId: 'CZ-007', siteName: '七号工地', score: 31 }],
    };
    try {
      await new WebhookChannel(url, 'robot-secret-0123456789', 'dingtalk').deliverReport(
        'report-daily-2026-11-27-v1',
        summary,
      );
      await new WebhookChannel(url, 'robot-secret-0123456789', 'json').deliverReport(
        'report-daily-2026-11-27-v1',
        summary,
      );
      expect(JSON.parse(received[0].body)).toEqual({
        msgtype: 'markdown',
        markdown: { title: summary.title, text: summary.markdown },
      });
      expect(JSON.parse(received[1].body)).toEqual({ deliveryId: 'report-daily-2026-11-27-v1', report: summary });
      expect(received.map((r) => r.headers['x-dustwatch-event'])).toEqual(['report', 'report']);
    } finally {
      server.close();
    }
  });
});
