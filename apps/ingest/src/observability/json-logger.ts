import { LoggerService } from '@nestjs/common';

const LEVELS = ['debug', 'verbose', 'log', 'warn', 'error', 'fatal'] as const;
type Level = (typeof LEVELS)[number];

/** What the service's plain classes log through: a message plus structured fields. */
export interface ContextLogger {
  log(message: string, fields?: unknown): void;
  warn(message: string, fields?: unknown): void;
  error(message: string, fields?: unknown): void;
}

/**
 * Structured logs: one JSON object per line on stdout (`{"time","level","context","msg",...}`),
 * so any collector can index fields such as deviceId; `text` format for a human at a terminal.
 */
export class JsonLogger implements LoggerService {
  private readonly minimum: number;

  constructor(private readonly format: 'json' | 'text', level: Level | 'log' = 'log', private readonly out: (line: string) => void = (l) => process.stdout.write(l + '\n')) {
    this.minimum = LEVELS.indexOf(level);
  }

  forContext(context: string): ContextLogger {
    return {
      log: (message, fields) => this.write('log', context, message, fields),
      warn: (message, fields) => this.write('warn', context, message, fields),
      error: (message, fields) => this.write('error', context, message, fields),
    };
  }

  log(message: unknown, ...params: unknown[]): void { this.nest('log', message, params); }
  warn(message: unknown, ...params: unknown[]): void { this.nest('warn', message, params); }
  error(message: unknown, ...params: unknown[]): void { this.nest('error', message, params); }
  debug(message: unknown, ...params: unknown[]): void { this.nest('debug', message, params); }
  verbose(message: unknown, ...params: unknown[]): void { this.nest('verbose', message, params); }
  fatal(message: unknown, ...params: unknown[]): void { this.nest('fatal', message, params); }

  /** Nest calls `log(message, context)` or `error(message, stack, context)`. */
  private nest(level: Level, message: unknown, params: unknown[]): void {
    const context = typeof params[params.length - 1] === 'string' ? (params.pop() as string) : 'Nest';
    const fields = params.length > 0 ? { detail: params.length === 1 ? params[0] : params } : undefined;
    this.write(level, context, message instanceof Error ? message.message : String(message), fields);
  }

  private write(level: Level, context: string, message: string, fields?: unknown): void {
    if (LEVELS.indexOf(level) < this.minimum) return;
    const time = new Date().toISOString();
    const extra = fields && typeof fields === 'object' && !Array.isArray(fields) ? fields : fields === undefined ? {} : { detail: fields };
    if (this.format === 'json') {
      this.out(JSON.stringify({ time, level, context, msg: message, ...extra }));
    } else {
      const tail = Object.keys(extra).length > 0 ? ' ' + JSON.stringify(extra) : '';
      this.out(`${time} ${level.toUpperCase().padEnd(5)} [${context}] ${message}${tail}`);
    }
  }
}
