import { MqttClient } from 'mqtt';

export interface PublishRun {
  /** Reading times (ms) whose PUBACK arrived. */
  readonly acked: number[];
  /** Publishes that failed (connection lost before PUBACK). */
  failed: number;
}

/**
 * Publishes `count` single readings (QoS 1, ts = startTs + i·stepMs) with at most `window`
 * awaiting PUBACK: mqtt.js message ids are 16-bit, so an unbounded publisher never finishes.
 * Stops early when the connection drops.
 */
export async function publishReadings(
  client: MqttClient,
  deviceId: string,
  count: number,
  startTs: number,
  options: { window?: number; stepMs?: number; onAck?: (ackedCount: number) => void } = {},
): Promise<PublishRun> {
  const window = options.window ?? 100;
  const stepMs = options.stepMs ?? 1000;
  const run: PublishRun = { acked: [], failed: 0 };
  const topic = `devices/${deviceId}/readings`;
  let next = 0;
  let inFlight = 0;
  let closed = false;
  client.once('close', () => {
    closed = true;
  });
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (inFlight < window && next < count && !closed && client.connected) {
        const ts = startTs + next * stepMs;
        next += 1;
        inFlight += 1;
        client.publish(
          topic,
          JSON.stringify({ ts, pm10: (next % 500) + 10, pm25: (next % 200) + 5 }),
          { qos: 1 },
          (error) => {
            inFlight -= 1;
            if (error) {
              run.failed += 1;
              closed = true;
            } else {
              run.acked.push(ts);
              options.onAck?.(run.acked.length);
            }
            setImmediate(pump);
          },
        );
      }
      if (inFlight === 0 && (next >= count || closed || !client.connected)) resolve();
    };
    client.once('close', () => setTimeout(() => resolve(), 200));
    pump();
  });
  return run;
}

/** Publishes one QoS 1 message: 'acked' on PUBACK, 'closed' if the broker closed the connection instead. */
export function publishOrClosed(client: MqttClient, topic: string, payload: string): Promise<'acked' | 'closed'> {
  if (!client.connected) return Promise.resolve('closed');
  return new Promise((resolve) => {
    const onClose = (): void => resolve('closed');
    client.once('close', onClose);
    client.publish(topic, payload, { qos: 1 }, (error) => {
      client.removeListener('close', onClose);
      resolve(error ? 'closed' : 'acked');
    });
  });
}
