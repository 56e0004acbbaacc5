import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Inject } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import {
  ConflictError,
  ContextLogger,
  DomainError,
  IngestMetrics,
  InvalidInputError,
  LOGGER,
  LoggerFactory,
  NotFoundError,
  SpoolFullError,
} from '@dustwatch/core';

const STATUS: ReadonlyArray<[new (...args: never[]) => DomainError, number]> = [
  [NotFoundError, HttpStatus.NOT_FOUND],
  [ConflictError, HttpStatus.CONFLICT],
  [InvalidInputError, HttpStatus.BAD_REQUEST],
  [SpoolFullError, HttpStatus.SERVICE_UNAVAILABLE],
];

/** The metric's reason label for Nest's own HTTP exceptions. */
const HTTP_REASONS: Readonly<Record<number, string>> = {
  401: 'unauthorized',
  403: 'forbidden',
  404: 'no_route',
  413: 'payload_too_large',
  429: 'throttled',
};

/**
 * Maps domain errors to HTTP at the edge. An unexpected error becomes a 500 with an error id
 * that is logged with the stack and returned, so a user's report can be matched to the log.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger: ContextLogger;

  constructor(
    @Inject(LOGGER) logger: LoggerFactory,
    @Inject(IngestMetrics) private readonly metrics: IngestMetrics,
  ) {
    this.logger = logger.forContext('Http');
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      this.metrics.httpErrors.inc({
        status: String(status),
        reason: HTTP_REASONS[status] ?? 'invalid_request',
      });
      // `new HttpException('text', status)` answers with the bare string: give it the same
      // { statusCode, message } shape as every other error, so clients read `message` alike.
      const body = exception.getResponse();
      res.status(status).json(typeof body === 'string' ? { statusCode: status, message: body } : body);
      return;
    }
    if (exception instanceof DomainError) {
      const status = STATUS.find(([type]) => exception instanceof type)?.[1] ?? HttpStatus.BAD_REQUEST;
      const problems =
        exception instanceof InvalidInputError && exception.problems.length > 0 ? { problems: exception.problems } : {};
      this.metrics.httpErrors.inc({ status: String(status), reason: exception.reason });
      res.status(status).json({ statusCode: status, error: exception.reason, message: exception.message, ...problems });
      return;
    }
    this.metrics.httpErrors.inc({ status: '500', reason: 'internal_error' });
    const errorId = randomUUID();
    this.logger.error('unhandled error in HTTP request', {
      errorId,
      error: (exception as Error)?.message,
      stack: (exception as Error)?.stack,
    });
    res.status(500).json({ statusCode: 500, error: 'internal_error', message: 'unexpected error', errorId });
  }
}
