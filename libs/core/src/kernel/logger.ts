/** What the plain classes log through: a message plus structured fields. */
export interface ContextLogger {
  log(message: string, fields?: object): void;
  warn(message: string, fields?: object): void;
  error(message: string, fields?: object): void;
}

/** Hands each component a logger named after it (the `context` field of every line). */
export interface LoggerFactory {
  forContext(context: string): ContextLogger;
}

export const silentLogger: ContextLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };
export const silentLoggerFactory: LoggerFactory = { forContext: () => silentLogger };
