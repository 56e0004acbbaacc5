import { RendererBusyError } from '@dustwatch/core';

/**
 * At most `concurrency` renders at once and `maxWaiting` waiting; a request beyond that is refused
 * at once (RendererBusyError → 503 with Retry-After) rather than queued without end: 24 parallel
 * PDFs started ≥ 11 Chromium processes (−1.9 GB) and slowed every other request (issue 22).
 * Hand-written: p-limit has no bounded queue and is ESM-only (jest runs CommonJS here).
 */
export class RenderSlots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly concurrency: number,
    readonly maxWaiting: number,
    private readonly retryAfterSeconds: number,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running < this.concurrency) this.running += 1;
    else if (this.waiting.length >= this.maxWaiting)
      throw new RendererBusyError(
        `${this.running + this.waiting.length} PDFs are being printed or waiting already: try again in ${this.retryAfterSeconds} s`,
        this.retryAfterSeconds,
      );
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next)
        next(); // the slot passes on
      else this.running -= 1;
    }
  }
}
