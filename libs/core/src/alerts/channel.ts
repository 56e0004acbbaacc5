import { unitOf } from '@dustwatch/rules';
import type { ReportSummary } from '@dustwatch/reports';
import type { MetricKey } from '@dustwatch/telemetry';
import { AlertEventView } from './alert.model';

/** A way out for alert events. `deliver` resolves once the receiver took the event, or throws. */
export interface NotificationChannel {
  readonly name: string;
  deliver(deliveryId: string, event: AlertEventView): Promise<void>;
}

const SHANGHAI = new Intl.DateTimeFormat('sv-SE', {
  timeZone: 'Asia/Shanghai',
  dateStyle: 'short',
  timeStyle: 'short',
});

const SEVERITY_ZH = { warning: '预警', critical: '严重' } as const;
const EVENT_ZH: Record<AlertEventView['type'], string> = {
  opened: '告警产生',
  escalated: '升级',
  acknowledged: '已确认',
  resolved: '已恢复',
  closed: '已办结',
  reminder: '提醒（仍未确认）',
  overdue: '超时未确认',
};

/** The console's own address of one alert (a reload or a link in a chat message opens it). */
export const alertUrl = (publicUrl: string, alertId: number): string =>
  `${publicUrl.replace(/\/+$/, '')}/#/alert/${alertId}`;

/**
 * One line per event for chat robots (WeCom/DingTalk text messages) and logs, in Chinese like the
 * console: inspectors read it on a phone. Times in Asia/Shanghai, the bureau's zone; ids beside
 * names, so a message can be searched for; with the service's public address, the alert's link.
 */
export function alertText(e: AlertEventView, publicUrl?: string): string {
  const a = e.alert;
  const unit = a.metric === 'offline' ? '分钟' : unitOf(a.metric as MetricKey);
  const value = e.value === null ? '' : `，${Math.round(e.value * 10) / 10} ${unit}（阈值 ${a.threshold} ${unit}）`;
  const who = e.actor ? `，处理人 ${e.actorName ? `${e.actorName}（${e.actor}）` : e.actor}` : '';
  const note = e.note ? `：${e.note}` : '';
  return `【Dustwatch】${SEVERITY_ZH[a.severity]} ${a.ruleName} ${EVENT_ZH[e.type]} — 工地 ${a.siteName ?? a.siteId}（${a.siteId}，${a.district}），设备 ${a.deviceId}${value}，${SHANGHAI.format(new Date(e.at))}（北京时间），告警 #${a.id}${who}${note}${publicUrl ? ` ${alertUrl(publicUrl, a.id)}` : ''}`;
}

/** A channel that also carries the scheduled reports' summaries (webhook: JSON, WeCom/DingTalk markdown). */
export interface ReportSummaryChannel {
  readonly name: string;
  deliverReport(deliveryId: string, summary: ReportSummary): Promise<void>;
}

export const carriesReports = <T extends object>(channel: T): channel is T & ReportSummaryChannel =>
  typeof (channel as Partial<ReportSummaryChannel>).deliverReport === 'function';
