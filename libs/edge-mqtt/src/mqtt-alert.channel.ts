import { alertTopic } from '@dustwatch/telemetry';
import { AlertEventView, NotificationChannel } from '@dustwatch/core';

export interface AlertPublisher {
  publishAlert(topic: string, payload: string): Promise<void>;
}

/** `alerts/{siteId}` at QoS 1 on the embedded broker, for control-room screens and site gateways. */
export class MqttAlertChannel implements NotificationChannel {
  readonly name = 'mqtt';

  constructor(private readonly broker: AlertPublisher) {}

  deliver(deliveryId: string, event: AlertEventView): Promise<void> {
    return this.broker.publishAlert(
      alertTopic(event.alert.siteId),
      JSON.stringify({
        deliveryId,
        event: {
          id: event.id,
          type: event.type,
          at: event.at,
          actor: event.actor,
          value: event.value,
          note: event.note,
        },
        alert: event.alert,
      }),
    );
  }
}
