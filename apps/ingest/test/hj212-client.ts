import { Socket, createConnection } from 'node:net';
import { Hj212Framer, Hj212Message, parseMessage } from '@dustwatch/telemetry';
import { eventually } from './harness';

/** A monitor's DTU for tests: a raw TCP socket, writes what it is told, parses what it gets back. */
export class Hj212TestClient {
  readonly received: Hj212Message[] = [];
  closed = false;
  private readonly framer = new Hj212Framer();

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk) => {
      for (const e of this.framer.push(chunk)) if (e.kind === 'frame') this.received.push(parseMessage(e.data)!);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => (this.closed = true));
  }

  static connect(port: number, localAddress?: string): Promise<Hj212TestClient> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ host: '127.0.0.1', port, localAddress }, () =>
        resolve(new Hj212TestClient(socket)),
      );
      socket.once('error', reject);
    });
  }

  write(text: string | Buffer): void {
    this.socket.write(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
  }

  /** Writes one byte at a time, each its own TCP segment. */
  async writeBytewise(text: string): Promise<void> {
    for (const byte of Buffer.from(text, 'latin1')) {
      this.socket.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
  }

  answerTo(qn: string, timeoutMs = 5000): Promise<Hj212Message> {
    return eventually(
      async () => this.received.find((m) => m.qn === qn && m.cn === '9014'),
      (m) => m !== undefined,
      timeoutMs,
      `the 9014 answer to QN ${qn}`,
    ) as Promise<Hj212Message>;
  }

  end(): void {
    this.socket.destroy();
  }
}
