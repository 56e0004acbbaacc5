import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import { ConflictError, DomainError, InvalidInputError, NotFoundError, SpoolFullError } from './errors';
import { ContextLogger } from '../observability/json-logger';

const STATUS: ReadonlyArray<[new (...args: never[]) => DomainError, number]> = [
  [NotFoundError, HttpStatus.NOT_FOUND],
  [ConflictError, HttpStatus.CONFLICT],
  [InvalidInputError, HttpStatus.BAD_REQUEST],
  [SpoolFullError, HttpStatus.SERVICE_UNAVAILABLE],
];

/**
 * Maps domain errors to HTTP at the edge. An unexpected error becomes a 500 with an error id
 * that is logged with the stack and returned, so a user's report can be matched to the log.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: ContextLogger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (exception instanceof HttpException) {
      res.status(exception.getStatus()).json(exception.getResponse());
      return;
    }
    if (exception instanceof DomainError) {
      const status = STATUS.find(([type]) => exception instanceof type)?.[1] ?? HttpStatus.BAD_REQUEST;
      const problems = exception instanceof InvalidInputError && exception.problems.length > 0 ? { problems: exception.problems } : {};
      res.status(status).json({ statusCode: status, error: exception.reason, message: exception.message, ...problems });
      return;
    }
    const errorId = randomUUID();
    this.logger.error('unhandled error in HTTP request', { errorId, error: (exception as Error)?.message, stack: (exception as Error)?.stack });
    res.status(500).json({ statusCode: 500, error: 'internal_error', message: 'unexpected error', errorId });
  }
}
