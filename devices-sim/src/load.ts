import mqtt, { MqttClient } from 'mqtt';

export interface LoadResult {
  readonly messages: number;
  readonly acked: number;
  readonly errors: number;
  readonly seconds: number;
  readonly latenciesMs: Float64Array;
}

export interface LoadDevice {
  readonly id: string;
  readonly secret?: string;
}

/** Connects every device (in parallel batches) and resolves once all are connected. */
export async function connectAll(
  port: number,
  devices: readonly LoadDevice[],
  host = '127.0.0.1',
): Promise<MqttClient[]> {
  const clients: MqttClient[] = [];
  for (let i = 0; i < devices.length; i += 20) {
    clients.push(
      ...(await Promise.all(
        devices.slice(i, i + 20).map(
          (d) =>
            new Promise<MqttClient>((resolve, reject) => {
              const c = mqtt.connect({
                host,
                port,
                clientId: d.id,
                username: d.secret ? d.id : undefined,
                password: d.secret,
                reconnectPeriod: 0,
                protocolVersion: 4,
              });
              c.once('connect', () => resolve(c));
              c.once('error', reject);
            }),
        ),
      )),
    );
  }
  return clients;
}

/**
 * Every client publishes `perClient` QoS 1 readings with at most `window` awaiting PUBACK
 * (mqtt.js message ids are 16-bit). Each reading has a unique ts so InfluxDB keeps every point.
 */
export function runLoad(
  clients: readonly MqttClient[],
  ids: readonly string[],
  perClient: number,
  window: number,
  startTs: number,
): Promise<LoadResult> {
  const total = clients.length * perClient;
  const latencies = new Float64Array(total);
  let acked = 0;
  let errors = 0;
  let finishedClients = 0;
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    clients.forEach((client, c) => {
      const topic = `devices/${ids[c]}/readings`;
      let next = 0;
      let inFlight = 0;
      const pump = (): void => {
        while (inFlight < window && next < perClient) {
          const i = next++;
          inFlight++;
          const t0 = process.hrtime.bigint();
          const payload = `{"ts":${startTs + i * 1000},"pm25":${35 + (i % 40)},"pm10":${80 + (i % 90)},"tsp":${150 + (i % 200)},"noise":${55 + (i % 20)},"windSpeed":2.4,"windDir":${i % 360},"temperature":12.5,"humidity":41,"pressure":91.3}`;
          client.publish(topic, payload, { qos: 1 }, (error) => {
            inFlight--;
            if (error) errors++;
            else latencies[acked++] = Number(process.hrtime.bigint() - t0) / 1e6;
            if (next < perClient) setImmediate(pump);
            else if (inFlight === 0) {
              finishedClients++;
              if (finishedClients === clients.length) {
                resolve({
                  messages: total,
                  acked,
                  errors,
                  seconds: Number(process.hrtime.bigint() - started) / 1e9,
                  latenciesMs: latencies.subarray(0, acked),
                });
              }
            }
          });
        }
      };
      pump();
    });
  });
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
