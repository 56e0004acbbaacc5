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

/** One human line per event, for chat robots and logs. Times in Asia/Shanghai, the bureau's zone. */
export function alertText(e: AlertEventView): string {
  const a = e.alert;
  const unit = a.metric === 'offline' ? 'min' : unitOf(a.metric as MetricKey);
  const value =
    e.value === null ? '' : ` — ${Math.round(e.value * 10) / 10} ${unit} (threshold ${a.threshold} ${unit})`;
  const who = e.actor ? ` by ${e.actor}` : '';
  const note = e.note ? `: ${e.note}` : '';
  return `[Dustwatch] ${a.severity.toUpperCase()} ${a.rule} ${e.type}${who} — site ${a.siteName ?? a.siteId} (${a.siteId}, ${a.district}), device ${a.deviceId}${value}, ${SHANGHAI.format(new Date(e.at))} (UTC+8), alert #${a.id}${note}`;
}

/** A channel that also carries the scheduled reports' summaries (webhook: JSON, WeCom/DingTalk markdown). */
export interface ReportSummaryChannel {
  readonly name: string;
  deliverReport(deliveryId: string, summary: ReportSummary): Promise<void>;
}

export const carriesReports = <T extends object>(channel: T): channel is T & ReportSummaryChannel =>
  typeof (channel as Partial<ReportSummaryChannel>).deliverReport === 'function';
