import { KeyObject, createPublicKey, sign, verify } from 'node:crypto';
import { GENESIS, sha256, toHex } from './chain';
import { inclusionPath, leafHash, treeHash } from './merkle';

/** A device's chain head when a root was sealed: the leaf the root commits to. */
export interface DeviceHead {
  readonly deviceId: string;
  readonly seq: number;
  readonly head: Uint8Array;
}

/** One hourly root: a Merkle tree over the heads of every device whose chain moved since the root before. */
export interface SealedRoot {
  /** 1, 2, 3 …: a gap is a removed root. */
  readonly number: number;
  readonly sealedAt: number;
  /** The previous root's hash (`rootHash`), GENESIS for root 1. */
  readonly previous: Uint8Array;
  readonly leafCount: number;
  /** RFC 9162 tree hash of the leaves, sorted by device id. */
  readonly tree: Uint8Array;
  /** Ed25519 signature of `rootStatement` with the installation's key. */
  readonly signature: Uint8Array;
}

export const leafOf = (h: DeviceHead): Buffer =>
  leafHash(`dustwatch-leaf/1\n${h.deviceId}\n${h.seq}\n${toHex(h.head)}`);

/** The text that is signed (and, with a TSA, timestamped as SHA-256): one line per field. */
export function rootStatement(r: Omit<SealedRoot, 'signature'>): Buffer {
  return Buffer.from(
    `dustwatch-evidence-root/1\nnumber ${r.number}\nsealed-at ${new Date(r.sealedAt).toISOString()}\n` +
      `previous ${toHex(r.previous)}\nleaves ${r.leafCount}\ntree ${toHex(r.tree)}\n`,
  );
}

export const rootHash = (r: Omit<SealedRoot, 'signature'>): Buffer => sha256(rootStatement(r));

/** Leaves in tree order: by device id (so a device's absence is provable by its two neighbours). */
export function sortHeads(heads: readonly DeviceHead[]): DeviceHead[] {
  return [...heads].sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
}

/** Builds and signs the next root over `heads`. */
export function sealRoot(
  heads: readonly DeviceHead[],
  number: number,
  sealedAt: number,
  previous: Uint8Array | null,
  privateKey: KeyObject,
): { root: SealedRoot; leaves: DeviceHead[] } {
  const leaves = sortHeads(heads);
  const unsigned = {
    number,
    sealedAt,
    previous: previous ?? GENESIS,
    leafCount: leaves.length,
    tree: treeHash(leaves.map(leafOf)),
  };
  return { root: { ...unsigned, signature: sign(null, rootStatement(unsigned), privateKey) }, leaves };
}

export function verifyRootSignature(r: SealedRoot, publicKey: KeyObject): boolean {
  try {
    return verify(null, rootStatement(r), publicKey, r.signature);
  } catch {
    return false;
  }
}

/** A device's place in one root: its leaf, or the neighbours that prove it has none there. */
export type DeviceProof =
  | { readonly kind: 'leaf'; readonly leaf: PositionedLeaf }
  | { readonly kind: 'absent'; readonly left: PositionedLeaf | null; readonly right: PositionedLeaf | null };

export interface PositionedLeaf extends DeviceHead {
  readonly index: number;
  readonly path: readonly Uint8Array[];
}

/** The proof of `deviceId` in a root with these (sorted) leaves. */
export function proveDevice(leaves: readonly DeviceHead[], deviceId: string): DeviceProof {
  const hashes = leaves.map(leafOf);
  const at = (index: number): PositionedLeaf => ({ ...leaves[index], index, path: inclusionPath(hashes, index) });
  const index = leaves.findIndex((l) => l.deviceId >= deviceId);
  if (index >= 0 && leaves[index].deviceId === deviceId) return { kind: 'leaf', leaf: at(index) };
  const right = index < 0 ? null : at(index);
  const leftIndex = index < 0 ? leaves.length - 1 : index - 1;
  return { kind: 'absent', left: leftIndex >= 0 ? at(leftIndex) : null, right };
}

export function publicKeyFromDer(der: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
}

/** What an operator publishes and a verifier pins: SHA-256 of the key's SPKI DER. */
export const keyFingerprint = (der: Uint8Array): string => toHex(sha256(der));
