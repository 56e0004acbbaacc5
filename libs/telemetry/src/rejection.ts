/** Reasons about the values of a reading: the same for every protocol (HJ 212 reuses them). */
export const VALUE_REJECTION_CODES = [
  'wrong_type',
  'not_finite',
  'out_of_range',
  'no_metrics',
  'bad_timestamp',
  'ts_in_future',
  'ts_too_old',
  'bad_flag',
] as const;

/**
 * Why a payload or a reading was refused. Codes are machine-readable and scoped by protocol:
 * each decoder declares its own list (contract v1's here; HJ 212's in hj212/decode.ts). A code
 * labels the `dustwatch_readings_rejected_total{reason}` metric, the quarantine row and the
 * message back to the device. Keep this list in step with docs/reading-contract-v1.md.
 */
export const REJECTION_CODES = [
  'invalid_utf8',
  'malformed_json',
  'empty_batch',
  'batch_too_large',
  'not_an_object',
  'unknown_field',
  ...VALUE_REJECTION_CODES,
] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];

export interface RejectionReason<Code extends string = string> {
  readonly code: Code;
  /** The offending field, when the reason is about one. */
  readonly field?: string;
  readonly message: string;
}

export interface Rejection<Code extends string = string> {
  /** Position in the batch, or null when the whole payload was refused. */
  readonly index: number | null;
  readonly reasons: readonly RejectionReason<Code>[];
  /** The refused element (or whole payload) as text, for the quarantine. */
  readonly raw: string;
}

/**
 * Accepted readings with something the device should fix, counted in
 * `dustwatch_readings_warnings_total{reason}` and reported on `devices/{id}/errors`.
 */
export const WARNING_CODES = ['flag_without_value'] as const;
export type WarningCode = (typeof WARNING_CODES)[number];

export interface ReadingWarning<Code extends string = string> {
  /** Position in the batch, or null for a single reading. */
  readonly index: number | null;
  readonly code: Code;
  readonly field: string;
  readonly message: string;
}
