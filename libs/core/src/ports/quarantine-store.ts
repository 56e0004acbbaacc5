import { Rejection, RejectionReason } from '@dustwatch/telemetry';

export interface QuarantineEntry {
  id: number;
  deviceId: string;
  /** ISO 8601 (UTC). */
  receivedAt: string;
  batchIndex: number | null;
  reasons: RejectionReason[];
  raw: string;
}

/** Refused readings, kept with their raw text (capped), device, receive time and every reason. */
export interface QuarantineStore {
  /** Bytes of raw text and reasons held, and the quota past which the oldest are deleted. */
  readonly bytes: number;
  readonly quota: number;
  /** Resolves once the rows are committed: the acknowledgement that follows may rely on it. */
  add(deviceId: string, receivedAt: number, rejections: readonly Rejection[]): Promise<void>;
  list(filter: { deviceId?: string; limit: number; beforeId?: number }): Promise<QuarantineEntry[]>;
}
