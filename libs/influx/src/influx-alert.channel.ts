import { pointToLine } from '@dustwatch/telemetry';
import { AlertEventView, NotificationChannel, alertText } from '@dustwatch/core';
import { InfluxHttpClient } from './influx-http.client';
import { LONG_RP } from './influx-schema';

/** `alert_events` in InfluxDB (retention policy `long`), for Grafana annotations next to the readings. */
export class InfluxAlertChannel implements NotificationChannel {
  readonly name = 'influx';

  constructor(private readonly influx: InfluxHttpClient) {}

  deliver(_deliveryId: string, event: AlertEventView): Promise<void> {
    const a = event.alert;
    const fields: Record<string, number | string | { int: number }> = {
      alert_id: { int: a.id },
      event_id: { int: event.id },
      type: event.type,
      text: alertText(event),
    };
    if (event.value !== null) fields['value'] = event.value;
    // How long problems take, for the compliance dashboard: InfluxQL cannot pair events itself.
    if (event.type === 'resolved' && a.resolvedAt)
      fields['seconds_open'] = (Date.parse(a.resolvedAt) - Date.parse(a.openedAt)) / 1000;
    if (event.type === 'closed' && a.closedAt)
      fields['seconds_to_close'] = (Date.parse(a.closedAt) - Date.parse(a.openedAt)) / 1000;
    const line = pointToLine(
      'alert_events',
      { site: a.siteId, device: a.deviceId, rule: a.rule, severity: event.severity, state: event.state },
      fields,
      Date.parse(event.at),
    );
    return this.influx.write([line], LONG_RP);
  }
}
