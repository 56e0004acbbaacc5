/**
 * Domain errors: plain Error subclasses with a machine-readable reason. Each edge maps them to
 * its transport (HTTP status in http-exception.filter.ts, CONNACK/disconnect in the broker).
 */
export abstract class DomainError extends Error {
  abstract readonly reason: string;
}
export class NotFoundError extends DomainError {
  readonly reason = 'not_found';
}
export class ConflictError extends DomainError {
  readonly reason = 'conflict';
}
export class InvalidInputError extends DomainError {
  readonly reason = 'invalid_input';
  constructor(
    message: string,
    readonly problems: string[] = [],
  ) {
    super(message);
  }
}
/** The spool is at its disk quota: the service must stop acknowledging readings. */
export class SpoolFullError extends DomainError {
  readonly reason = 'spool_full';
}
