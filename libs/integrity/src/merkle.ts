import { createHash } from 'node:crypto';

/**
 * Merkle tree hashing and inclusion proofs exactly as RFC 9162 §2.1 (Certificate Transparency
 * v2): leaf = SHA-256(0x00 ‖ data), node = SHA-256(0x01 ‖ left ‖ right), split at the largest
 * power of two below n. Hand-written (about 60 lines) rather than a package because the offline
 * verifier must be short enough to audit and must match the standard bit for bit; the packages
 * we found hash leaves without the 0x00/0x01 prefixes, which allows second-preimage tricks.
 */
export function leafHash(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(Buffer.of(0)).update(data).digest();
}

function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(Buffer.of(1)).update(left).update(right).digest();
}

/** Largest power of two strictly below n (n ≥ 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[n]) over leaf hashes; the empty tree is SHA-256 of nothing. */
export function treeHash(leaves: readonly Uint8Array[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return Buffer.from(leaves[0]);
  const k = split(leaves.length);
  return nodeHash(treeHash(leaves.slice(0, k)), treeHash(leaves.slice(k)));
}

/** PATH(m, D[n]): the sibling hashes from leaf m up to the root (RFC 9162 §2.1.3.1). */
export function inclusionPath(leaves: readonly Uint8Array[], m: number): Buffer[] {
  if (leaves.length <= 1) return [];
  const k = split(leaves.length);
  return m < k
    ? [...inclusionPath(leaves.slice(0, k), m), treeHash(leaves.slice(k))]
    : [...inclusionPath(leaves.slice(k), m - k), treeHash(leaves.slice(0, k))];
}

/** Verifies an inclusion path (RFC 9162 §2.1.3.2): true when leaf `index` of a `size`-leaf tree hashes to `root`. */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  path: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        do {
          fn >>= 1;
          sn >>= 1;
        } while (fn % 2 === 0 && fn !== 0);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && r.equals(Buffer.from(root));
}
