import { Reading, parseReadingsPayload } from './parse-readings';
import { REJECTION_CODES, ReadingWarning, Rejection, WARNING_CODES } from './rejection';

export interface DecodeContext {
  readonly deviceId: string;
  /** Server receive time, epoch ms: the clock is injected, never read here. */
  readonly receivedAt: number;
  /** Oldest acceptable reading age in ms (the raw retention, minus a margin). */
  readonly maxAgeMs: number;
}

/** What a decoder makes of one payload: readings in catalogue units, and every refusal with its reasons. */
export interface DecodedPayload {
  readonly readings: readonly Reading[];
  readonly rejections: readonly Rejection[];
  readonly warnings: readonly ReadingWarning[];
}

/**
 * One per wire protocol. Pure: bytes in, readings and refusals out. The edge picks the decoder,
 * the ingest core never sees the wire format; its rejection codes are the protocol's own.
 */
export interface ReadingsDecoder {
  readonly protocol: string;
  readonly rejectionCodes: readonly string[];
  readonly warningCodes: readonly string[];
  decode(payload: Uint8Array, ctx: DecodeContext): DecodedPayload;
}

/** Contract v1: JSON over MQTT (docs/reading-contract-v1.md). */
export const contractV1Decoder: ReadingsDecoder = {
  protocol: 'contract-v1',
  rejectionCodes: REJECTION_CODES,
  warningCodes: WARNING_CODES,
  decode: parseReadingsPayload,
};
