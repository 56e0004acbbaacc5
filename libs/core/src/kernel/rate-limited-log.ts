import { Clock } from './clock';
import { ContextLogger } from './logger';

export interface RateLimitedLogOptions {
  /** One line per key (device or address, and reason) per this interval; the rest are counted. */
  readonly perKeyMs: number;
  /** At most this many lines per window for the whole logger, however many keys a flood uses. */
  readonly linesPerWindow: number;
  readonly windowMs: number;
  readonly maxKeys: number;
}

export const DEFAULT_RATE_LIMITED_LOG: RateLimitedLogOptions = {
  perKeyMs: 60_000,
  linesPerWindow: 30,
  windowMs: 60_000,
  maxKeys: 10_000,
};

/**
 * Warnings that an outsider can trigger at will (refused CONNECTs, refused publishes): the first
 * per key is logged, repeats within `perKeyMs` are counted and reported as `suppressed` on the
 * key's next line; a logger-wide budget per window caps floods that rotate keys, and a summary
 * line at the next window says how many were held back in all. Hand-written: pino has no per-key sampling.
 */
export class RateLimitedLog {
  private readonly keys = new Map<string, { until: number; suppressed: number }>();
  private windowStart = 0;
  private windowLines = 0;
  private windowSuppressed = 0;

  constructor(
    private readonly logger: ContextLogger,
    private readonly clock: Clock,
    private readonly onSuppressed: () => void = () => undefined,
    private readonly options: RateLimitedLogOptions = DEFAULT_RATE_LIMITED_LOG,
  ) {}

  warn(key: string, message: string, fields: Record<string, unknown> = {}): void {
    const now = this.clock.now();
    if (now - this.windowStart >= this.options.windowMs) {
      if (this.windowSuppressed > 0)
        this.logger.warn('repeated warnings suppressed', {
          suppressed: this.windowSuppressed,
          windowSeconds: this.options.windowMs / 1000,
        });
      this.windowStart = now;
      this.windowLines = 0;
      this.windowSuppressed = 0;
    }
    const entry = this.keys.get(key);
    if ((entry !== undefined && now < entry.until) || this.windowLines >= this.options.linesPerWindow) {
      if (entry !== undefined) entry.suppressed += 1;
      this.windowSuppressed += 1;
      this.onSuppressed();
      return;
    }
    this.windowLines += 1;
    const suppressed = entry?.suppressed ?? 0;
    this.keys.delete(key);
    this.keys.set(key, { until: now + this.options.perKeyMs, suppressed: 0 });
    while (this.keys.size > this.options.maxKeys) this.keys.delete(this.keys.keys().next().value as string);
    this.logger.warn(message, suppressed > 0 ? { ...fields, suppressed } : fields);
  }
}
