import { createHmac, timingSafeEqual } from 'node:crypto';
import { IncomingHttpHeaders, Server, createServer } from 'node:http';

export interface Delivery {
  readonly headers: IncomingHttpHeaders;
  readonly raw: string;
  readonly body: {
    deliveryId: string;
    event: { id: number; type: string; actor: string | null; note: string | null };
    alert: { id: number; rule: string; state: string; severity: string; siteId: string; deviceId: string };
    text: string;
  };
  /** The X-Dustwatch-Signature header checked against the shared secret. */
  readonly signatureValid: boolean;
}

/** A real HTTP receiver for webhook deliveries that can go down and come back on the same port. */
export class WebhookReceiver {
  readonly deliveries: Delivery[] = [];
  private server: Server | null = null;
  private port = 0;

  private constructor(private readonly secret: string) {}

  static async start(secret: string): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(secret);
    await receiver.up();
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/dustwatch`;
  }

  async up(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const expected = Buffer.from(`sha256=${createHmac('sha256', this.secret).update(raw).digest('hex')}`);
        const given = Buffer.from(String(req.headers['x-dustwatch-signature'] ?? ''));
        this.deliveries.push({
          headers: req.headers,
          raw,
          body: JSON.parse(raw),
          signatureValid: given.length === expected.length && timingSafeEqual(given, expected),
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', () => resolve()));
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : this.port;
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server)
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
  }

  of(type: string): Delivery[] {
    return this.deliveries.filter((d) => d.body.event?.type === type);
  }
}
