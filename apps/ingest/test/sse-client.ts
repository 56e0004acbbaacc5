export interface SseEvent {
  readonly id: number;
  readonly event: string;
  readonly data: { id: number; type: string; alertId: number; alert: { id: number; rule: string; state: string } };
}

/** A real Server-Sent Events client over fetch: parses frames as they stream in. */
export class SseClient {
  readonly events: SseEvent[] = [];
  private readonly controller = new AbortController();
  status = 0;
  /** Settles when the stream ends: the service closed it, or close() was called. */
  closed: Promise<void> = Promise.resolve();

  private constructor() {}

  static async open(url: string, headers: Record<string, string>): Promise<SseClient> {
    const client = new SseClient();
    const res = await fetch(url, {
      headers: { accept: 'text/event-stream', ...headers },
      signal: client.controller.signal,
    });
    client.status = res.status;
    if (res.status === 200 && res.body) client.closed = client.read(res.body);
    return client;
  }

  close(): void {
    this.controller.abort();
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = Object.fromEntries(
            frame
              .split('\n')
              .filter((l) => !l.startsWith(':') && l.includes(': '))
              .map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]),
          );
          if (fields['data'])
            this.events.push({ id: Number(fields['id']), event: fields['event'], data: JSON.parse(fields['data']) });
        }
      }
    } catch {
      // aborted by close()
    }
  }
}
