import { createHash } from 'node:crypto';

/**
 * The per-device receipt chain: every accepted payload or frame, as received, linked to the one
 * before it. SHA-256 is computed here with node:crypto — a pure function of its input, no I/O —
 * so the service that writes the chain and the offline verifier share one definition.
 */
export const GENESIS = new Uint8Array(32);

/** One received payload: what the chain commits to. */
export interface ChainRecord {
  readonly deviceId: string;
  /** 1, 2, 3 … per device (and per installation): a gap is a removed payload. */
  readonly seq: number;
  /** Receipt time (ms since the epoch, the service's clock). */
  readonly receivedAt: number;
  /** `mqtt`, `mqtt-broker`, `hj212`: the edge it came through. */
  readonly edge: string;
  /** The payload's bytes as received (HJ 212: with the password masked, see `maskHj212Password`). */
  readonly payload: Uint8Array;
}

export interface ChainEntry extends ChainRecord {
  /** SHA-256(previous entry's hash ‖ this record). */
  readonly hash: Uint8Array;
}

/** hash_n = SHA-256(hash_{n-1} ‖ "dustwatch-chain/1\n" device "\n" seq "\n" receivedAt "\n" edge "\n" ‖ payload). */
export function chainHash(previous: Uint8Array, record: ChainRecord): Buffer {
  return createHash('sha256')
    .update(previous)
    .update(`dustwatch-chain/1\n${record.deviceId}\n${record.seq}\n${record.receivedAt}\n${record.edge}\n`)
    .update(record.payload)
    .digest();
}

/**
 * An HJ 212 frame carries the device's password in clear (`PW=…`, HJ 212-2017 §6.3.2). The chain
 * keeps the frame byte for byte except that value, so a bundle handed to a court or a contractor
 * does not hand over the device's credential. The frame's CRC then no longer matches; the chain's
 * hash, not the CRC, is what proves the record.
 */
export function maskHj212Password(frame: string): string {
  return frame.replace(/(^|[;&])PW=[^;&]*/, (_m, sep: string) => `${sep}PW=******`);
}

export function sha256(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest();
}

export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
