/**
 * The tamper-evident record of what each device sent (docs/evidence.md): every accepted payload or
 * frame, as received, hash-chained per device in the instance's own `evidence.db`, and an hourly
 * Merkle root over the heads that moved, signed with the installation's Ed25519 key.
 */
export interface EvidenceLog {
  /** Appends a payload to its device's chain; resolves when it is on disk (group commit, before the spool's). */
  append(deviceId: string, edge: string, receivedAt: number, payload: Uint8Array): Promise<void>;
  /** Seals a root over every head that moved since the last root; null when none moved. */
  seal(now: number): Promise<{ readonly number: number; readonly leaves: number } | null>;
  /** Roots without a timestamp token yet, oldest first, with the digest to timestamp (SHA-256 of the signed statement). */
  unstamped(limit: number): Promise<{ readonly number: number; readonly digest: Uint8Array }[]>;
  /** Keeps a TSA's token with its root; it travels in every bundle that includes the root. */
  attachTimestamp(number: number, token: Uint8Array): Promise<void>;
  /** When the last root was sealed (ms), null before the first. */
  lastSealedAt(): Promise<number | null>;
  /** The ZIP of these devices' receipts for [from, to): see `buildBundle` in @dustwatch/integrity. */
  bundle(request: EvidenceBundleRequest): Promise<Uint8Array>;
  /** SHA-256 of the installation's public key (SPKI DER), as operators publish it. */
  readonly keyFingerprint: string;
  /** The public key, PEM. */
  readonly publicKeyPem: string;
}

export interface EvidenceBundleRequest {
  readonly siteId: string;
  readonly day: string;
  readonly deviceIds: readonly string[];
  readonly from: number;
  readonly to: number;
  readonly createdAt: number;
}

/** An RFC 3161 time-stamping authority: the TimeStampToken (DER) for a SHA-256 digest. */
export interface TimestampAuthority {
  readonly url: string;
  stamp(digest: Uint8Array): Promise<Uint8Array>;
}
