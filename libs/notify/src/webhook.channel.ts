import { createHmac } from 'node:crypto';
import { AlertEventView, NotificationChannel, ReportSummaryChannel, alertText } from '@dustwatch/core';
import type { ReportSummary } from '@dustwatch/reports';

export type WebhookFormat = 'json' | 'wecom' | 'dingtalk';

const STALE_CONNECTION = ['UND_ERR_SOCKET', 'ECONNRESET'];
const causeCode = (error: unknown): string | undefined => (error as { cause?: { code?: string } }).cause?.code;

/**
 * POSTs each event. JSON bodies carry the delivery id (also in `X-Dustwatch-Delivery`) so a
 * receiver can drop a redelivery; `X-Dustwatch-Signature: sha256=<hex>` is the HMAC-SHA256 of the
 * exact body with the shared secret. `wecom`/`dingtalk` send the text message body their group
 * robots accept (DingTalk's own URL signing is not done: use its keyword or IP allow-list).
 */
export class WebhookChannel implements NotificationChannel, ReportSummaryChannel {
  readonly name = 'webhook';

  constructor(
    private readonly url: string,
    private readonly secret: string,
    private readonly format: WebhookFormat,
    /** `DUSTWATCH_PUBLIC_URL`: when set, each message links the alert in the console. */
    private readonly publicUrl?: string,
    private readonly timeoutMs = 5000,
  ) {}

  deliver(deliveryId: string, event: AlertEventView): Promise<void> {
    const body =
      this.format === 'json'
        ? {
            deliveryId,
            event: {
              id: event.id,
              type: event.type,
              at: event.at,
              actor: event.actor,
              severity: event.severity,
              state: event.state,
              value: event.value,
              note: event.note,
            },
            alert: event.alert,
            text: alertText(event, this.publicUrl),
          }
        : { msgtype: 'text', text: { content: alertText(event, this.publicUrl) } };
    return this.post(deliveryId, event.type, body);
  }

  /** A scheduled report's summary: JSON with the figures and link, or the robots' markdown message. */
  deliverReport(deliveryId: string, summary: ReportSummary): Promise<void> {
    const body =
      this.format === 'json'
        ? { deliveryId, report: summary }
        : this.format === 'wecom'
          ? { msgtype: 'markdown', markdown: { content: summary.markdown } }
          : { msgtype: 'markdown', markdown: { title: summary.title, text: summary.markdown } };
    return this.post(deliveryId, 'report', body);
  }

  private async post(deliveryId: string, eventType: string, payload: unknown): Promise<void> {
    const body = JSON.stringify(payload);
    const signature = createHmac('sha256', this.secret).update(body).digest('hex');
    const headers = {
      'Content-Type': 'application/json',
      'X-Dustwatch-Delivery': deliveryId,
      'X-Dustwatch-Event': eventType,
      'X-Dustwatch-Signature': `sha256=${signature}`,
    };
    const post = (): Promise<Response> =>
      fetch(this.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
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
