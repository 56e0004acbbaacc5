import { createHmac } from 'node:crypto';
import { alertTopic, pointToLine } from '@dustwatch/telemetry';
import { unitOf } from '@dustwatch/rules';
import type { MetricKey } from '@dustwatch/telemetry';
import { AlertEventView } from '../alerts/alert.model';
import { InfluxHttpClient } from '../influx/influx-http.client';
import { LONG_RP } from '../influx/influx-schema';

/** A way out for alert events. `deliver` resolves once the receiver took the event, or throws. */
export interface NotificationChannel {
  readonly name: string;
  deliver(deliveryId: string, event: AlertEventView): Promise<void>;
}

const SHANGHAI = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai', dateStyle: 'short', timeStyle: 'short' });

/** One human line per event, for chat robots and logs. Times in Asia/Shanghai, the bureau's zone. */
export function alertText(e: AlertEventView): string {
  const a = e.alert;
  const unit = a.metric === 'offline' ? 'min' : unitOf(a.metric as MetricKey);
  const value = e.value === null ? '' : ` — ${Math.round(e.value * 10) / 10} ${unit} (threshold ${a.threshold} ${unit})`;
  const who = e.actor ? ` by ${e.actor}` : '';
  const note = e.note ? `: ${e.note}` : '';
  return `[Dustwatch] ${a.severity.toUpperCase()} ${a.rule} ${e.type}${who} — site ${a.siteName ?? a.siteId} (${a.siteId}, ${a.district}), device ${a.deviceId}${value}, ${SHANGHAI.format(new Date(e.at))} (UTC+8), alert #${a.id}${note}`;
}

export type WebhookFormat = 'json' | 'wecom' | 'dingtalk';

const STALE_CONNECTION = ['UND_ERR_SOCKET', 'ECONNRESET'];
const causeCode = (error: unknown): string | undefined => (error as { cause?: { code?: string } }).cause?.code;

/**
 * POSTs each event. JSON bodies carry the delivery id (also in `X-Dustwatch-Delivery`) so a
 * receiver can drop a redelivery; `X-Dustwatch-Signature: sha256=<hex>` is the HMAC-SHA256 of the
 * exact body with the shared secret. `wecom`/`dingtalk` send the text message body their group
 * robots accept (DingTalk's own URL signing is not done: use its keyword or IP allow-list).
 */
export class WebhookChannel implements NotificationChannel {
  readonly name = 'webhook';

  constructor(private readonly url: string, private readonly secret: string, private readonly format: WebhookFormat, private readonly timeoutMs = 5000) {}

  async deliver(deliveryId: string, event: AlertEventView): Promise<void> {
    const body = JSON.stringify(this.format === 'json'
      ? { deliveryId, event: { id: event.id, type: event.type, at: event.at, actor: event.actor, severity: event.severity, state: event.state, value: event.value, note: event.note }, alert: event.alert, text: alertText(event) }
      : { msgtype: 'text', text: { content: alertText(event) } });
    const signature = createHmac('sha256', this.secret).update(body).digest('hex');
    const headers = { 'Content-Type': 'application/json', 'X-Dustwatch-Delivery': deliveryId, 'X-Dustwatch-Event': event.type, 'X-Dustwatch-Signature': `sha256=${signature}` };
    const post = (): Promise<Response> => fetch(this.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
    let res: Response;
    try {
      res = await post().catch((error: unknown) => {
        // A kept-alive connection the receiver closed meanwhile fails on reuse before the request
        // was read: try once more on a fresh one rather than wait out a backoff.
        if (STALE_CONNECTION.includes(causeCode(error) ?? '')) return post();
        throw error;
      });
    } catch (error) {
      throw new Error(`webhook unreachable: ${causeCode(error) ?? (error as Error).message}`);
    }
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status >= 300) throw new Error(`webhook answered HTTP ${res.status}`);
  }
}

export interface AlertPublisher {
  publishAlert(topic: string, payload: string): Promise<void>;
}

/** `alerts/{siteId}` at QoS 1 on the embedded broker, for control-room screens and site gateways. */
export class MqttAlertChannel implements NotificationChannel {
  readonly name = 'mqtt';

  constructor(private readonly broker: AlertPublisher) {}

  deliver(deliveryId: string, event: AlertEventView): Promise<void> {
    return this.broker.publishAlert(alertTopic(event.alert.siteId), JSON.stringify({ deliveryId, event: { id: event.id, type: event.type, at: event.at, actor: event.actor, value: event.value, note: event.note }, alert: event.alert }));
  }
}

/** `alert_events` in InfluxDB (retention policy `long`), for Grafana annotations next to the readings. */
export class InfluxAlertChannel implements NotificationChannel {
  readonly name = 'influx';

  constructor(private readonly influx: InfluxHttpClient) {}

  deliver(_deliveryId: string, event: AlertEventView): Promise<void> {
    const a = event.alert;
    const fields: Record<string, number | string | { int: number }> = { alert_id: { int: a.id }, event_id: { int: event.id }, type: event.type, text: alertText(event) };
    if (event.value !== null) fields['value'] = event.value;
    // How long problems take, for the compliance dashboard: InfluxQL cannot pair events itself.
    if (event.type === 'resolved' && a.resolvedAt) fields['seconds_open'] = (Date.parse(a.resolvedAt) - Date.parse(a.openedAt)) / 1000;
    if (event.type === 'closed' && a.closedAt) fields['seconds_to_close'] = (Date.parse(a.closedAt) - Date.parse(a.openedAt)) / 1000;
    const line = pointToLine('alert_events', { site: a.siteId, device: a.deviceId, rule: a.rule, severity: event.severity, state: event.state }, fields, Date.parse(event.at));
    return this.influx.write([line], LONG_RP);
  }
}
