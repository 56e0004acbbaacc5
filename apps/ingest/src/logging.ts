import pino, { DestinationStream, Logger } from 'pino';
import pretty from 'pino-pretty';
import { IngestConfig, LoggerFactory } from '@dustwatch/core';

const PINO_LEVEL: Record<IngestConfig['logLevel'], pino.Level> = {
  debug: 'debug',
  verbose: 'debug',
  log: 'info',
  warn: 'warn',
  error: 'error',
};

/** Nest's start-up chatter (one line per module and per route): debug, not info, so a terminal shows the service's own lines. */
const NEST_STARTUP_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory']);

/**
 * The service's one pino logger: JSON lines (`time`, `level`, `context`, `msg`, fields) for a
 * collector, or readable coloured lines for a person at a terminal (`text`; `auto` picks it when
 * stdout is a TTY). Nest's own messages reach it through nestjs-pino.
 */
export function createRootLogger(
  config: Pick<IngestConfig, 'logFormat' | 'logLevel'>,
  sink?: (line: string) => void,
): Logger {
  const options: pino.LoggerOptions = {
    level: PINO_LEVEL[config.logLevel],
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    hooks: {
      logMethod(args, method, level) {
        const first = args[0] as unknown;
        const context =
          typeof first === 'object' && first !== null ? (first as { context?: unknown }).context : undefined;
        if (level === 30 && typeof context === 'string' && NEST_STARTUP_CONTEXTS.has(context)) {
          if (this.isLevelEnabled('debug')) this.debug(...(args as [object, string]));
          return;
        }
        method.apply(this, args);
      },
    },
  };
  if (sink) return pino(options, { write: (line: string) => sink(line.trimEnd()) } as DestinationStream);
  const text = config.logFormat === 'text' || (config.logFormat === 'auto' && process.stdout.isTTY === true);
  if (!text) return pino(options);
  return pino(
    options,
    pretty({
      colorize: process.stdout.isTTY === true,
      translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
      ignore: 'context',
      messageFormat: '[{context}] {msg}',
      singleLine: true,
      // our `error` fields are messages, not Error objects: keep them on the line
      errorLikeObjectKeys: [],
      sync: true,
    }),
  );
}

/** The plain classes' LoggerFactory over pino: one child logger per component. */
export function loggerFactory(root: Logger): LoggerFactory {
  return {
    forContext(context) {
      const child = root.child({ context });
      return {
        log: (message, fields) => child.info(fields ?? {}, message),
        warn: (message, fields) => child.warn(fields ?? {}, message),
        error: (message, fields) => child.error(fields ?? {}, message),
      };
    },
  };
}
