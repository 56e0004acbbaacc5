/**
 * A bare MQTT 3.1.1 device for storms of thousands: one socket, CONNECT, one QoS 1 PUBLISH.
 * mqtt.js keeps ~100 KB and timers per client; at 10,000 clients in one process the load
 * generator, not the service, would be what is measured. Packets come from mqtt-packet (the
 * library mqtt.js and aedes use), only the two answers (CONNACK, PUBACK) are read by hand.
 */
import { Socket, createConnection } from 'node:net';
import { generate } from 'mqtt-packet';

export interface RawDeviceOptions {
  readonly port: number;
  readonly id: string;
  readonly secret: string;
  readonly localAddress?: string;
  readonly timeoutMs?: number;
}

/** Resolves with the CONNACK return code (0 = accepted) and the open socket. */
export function rawConnect(o: RawDeviceOptions): Promise<{ code: number; socket: Socket; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port: o.port, localAddress: o.localAddress });
    const timer = setTimeout(() => finish(-1), o.timeoutMs ?? 10_000);
    let answer = Buffer.alloc(0);
    const finish = (code: number): void => {
      clearTimeout(timer);
      socket.removeAllListeners('data');
      if (code !== 0) socket.destroy();
      resolve({ code, socket, ms: performance.now() - started });
    };
    socket.on('error', () => finish(-2));
    socket.on('close', () => finish(-3));
    socket.on('data', (chunk) => {
      answer = Buffer.concat([answer, chunk]);
      if (answer.length >= 4 && answer[0] === 0x20) finish(answer[3]);
    });
    socket.write(
      generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        keepalive: 0,
        clientId: o.id,
        username: o.id,
        password: Buffer.from(o.secret),
      }),
    );
  });
}

/** Publishes one QoS 1 message on a connected socket; resolves at its PUBACK. */
export function rawPublish(socket: Socket, topic: string, payload: string, messageId = 1): Promise<boolean> {
  return new Promise((resolve) => {
    let answer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      answer = Buffer.concat([answer, chunk]);
      if (answer.length >= 4 && answer[0] === 0x40) done(true);
    };
    const done = (ok: boolean): void => {
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(ok);
    };
    const onClose = (): void => done(false);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(generate({ cmd: 'publish', topic, payload, qos: 1, messageId, retain: false, dup: false }));
  });
}
