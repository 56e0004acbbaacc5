import { KeyObject, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EvidenceBundleRequest, EvidenceLog } from '@dustwatch/core';
import {
  ChainEntry,
  DeviceHead,
  GENESIS,
  SealedRoot,
  buildBundle,
  chainHash,
  keyFingerprint,
  rootHash,
  sealRoot,
} from '@dustwatch/integrity';
import { Db, Migration } from './sqlite';

export const EVIDENCE_KEY_FILE = 'evidence-ed25519.pem';

export const EVIDENCE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'per-device receipt chains, their heads, signed hourly roots and their leaves',
    sql: `
      CREATE TABLE evidence_chain (
        device_id TEXT NOT NULL, seq INTEGER NOT NULL, received_at INTEGER NOT NULL,
        edge TEXT NOT NULL, payload BLOB NOT NULL, hash BLOB NOT NULL,
        PRIMARY KEY (device_id, seq)
      ) WITHOUT ROWID;
      CREATE INDEX evidence_chain_received ON evidence_chain(device_id, received_at);
      CREATE TABLE evidence_heads (
        device_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, hash BLOB NOT NULL, sealed_seq INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE evidence_roots (
        number INTEGER PRIMARY KEY, sealed_at INTEGER NOT NULL, previous BLOB NOT NULL,
        leaf_count INTEGER NOT NULL, tree BLOB NOT NULL, signature BLOB NOT NULL, timestamp BLOB
      );
      CREATE TABLE evidence_leaves (
        root_number INTEGER NOT NULL REFERENCES evidence_roots(number), idx INTEGER NOT NULL,
        device_id TEXT NOT NULL, seq INTEGER NOT NULL, head BLOB NOT NULL,
        PRIMARY KEY (root_number, idx)
      );
      CREATE INDEX evidence_leaves_device ON evidence_leaves(device_id, seq);
    `,
  },
];

/**
 * The installation's Ed25519 key: `<data dir>/evidence-ed25519.pem` (PKCS#8, mode 0600), made on
 * first start. Like the pepper it lives beside the data, not in it; its public half (fingerprint
 * in the start-up log and at /api/evidence/key) is what a verifier pins.
 */
export function loadOrCreateEvidenceKey(dataDir: string): KeyObject {
  const file = join(dataDir, EVIDENCE_KEY_FILE);
  mkdirSync(dataDir, { recursive: true });
  try {
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const key = createPrivateKey(readFileSync(file));
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${file} is not an Ed25519 private key`);
  return key;
}

interface PendingAppend {
  readonly deviceId: string;
  readonly edge: string;
  readonly receivedAt: number;
  readonly payload: Uint8Array;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

interface EntryRow {
  device_id: string;
  seq: number;
  received_at: number;
  edge: string;
  payload: Buffer;
  hash: Buffer;
}

interface RootRow {
  number: number;
  sealed_at: number;
  previous: Buffer;
  leaf_count: number;
  tree: Buffer;
  signature: Buffer;
  timestamp: Buffer | null;
}

/**
 * `EvidenceLog` on the instance's own `evidence.db` (WAL, synchronous FULL): its own file so the
 * spool's quota measures the spool only, while the record grows with its retention. Appends of one
 * event-loop turn share one transaction (group commit), scheduled before the spool's commit of the
 * same payloads, so a payload whose readings are on disk has its receipt on disk too. A
 * redelivered payload is chained again: the chain records receipts, and the verifier shows both.
 * Heads live in memory (one row per device) and in `evidence_heads`, written with the entries.
 */
export class SqliteEvidenceLog implements EvidenceLog {
  private pending: PendingAppend[] = [];
  private flushScheduled = false;
  private readonly heads = new Map<string, { seq: number; hash: Buffer }>();
  private readonly publicKeyDer: Buffer;
  readonly keyFingerprint: string;
  readonly publicKeyPem: string;
  private readonly insertEntry;
  private readonly upsertHead;

  constructor(
    private readonly db: Db,
    private readonly privateKey: KeyObject,
  ) {
    const publicKey = createPublicKey(privateKey);
    this.publicKeyDer = publicKey.export({ format: 'der', type: 'spki' });
    this.publicKeyPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    this.keyFingerprint = keyFingerprint(this.publicKeyDer);
    for (const row of db.prepare('SELECT device_id, seq, hash FROM evidence_heads').all() as EntryRow[])
      this.heads.set(row.device_id, { seq: row.seq, hash: row.hash });
    this.insertEntry = db.prepare(
      'INSERT INTO evidence_chain (device_id, seq, received_at, edge, payload, hash) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.upsertHead = db.prepare(
      'INSERT INTO evidence_heads (device_id, seq, hash) VALUES (?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash',
    );
  }

  append(deviceId: string, edge: string, receivedAt: number, payload: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ deviceId, edge, receivedAt, payload, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits every pending append in one transaction; the heads move only once it committed. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const moved = new Map<string, { seq: number; hash: Buffer }>();
    try {
      this.db.transaction(() => {
        for (const a of batch) {
          const head = moved.get(a.deviceId) ?? this.heads.get(a.deviceId) ?? { seq: 0, hash: Buffer.from(GENESIS) };
          const record = {
            deviceId: a.deviceId,
            seq: head.seq + 1,
            receivedAt: a.receivedAt,
            edge: a.edge,
            payload: a.payload,
          };
          const hash = chainHash(head.hash, record);
          this.insertEntry.run(a.deviceId, record.seq, a.receivedAt, a.edge, Buffer.from(a.payload), hash);
          moved.set(a.deviceId, { seq: record.seq, hash });
        }
        for (const [deviceId, head] of moved) this.upsertHead.run(deviceId, head.seq, head.hash);
      })();
    } catch (error) {
      for (const a of batch) a.reject(error as Error);
      return;
    }
    for (const [deviceId, head] of moved) this.heads.set(deviceId, head);
    for (const a of batch) a.resolve();
  }

  async drain(): Promise<void> {
    this.flush();
  }

  async seal(now: number): Promise<{ number: number; leaves: number } | null> {
    this.flush();
    const moved = this.db
      .prepare('SELECT device_id AS deviceId, seq, hash AS head FROM evidence_heads WHERE seq > sealed_seq')
      .all() as DeviceHead[];
    if (moved.length === 0) return null;
    const last = this.db.prepare('SELECT * FROM evidence_roots ORDER BY number DESC LIMIT 1').get() as
      RootRow | undefined;
    const number = (last?.number ?? 0) + 1;
    const { root, leaves } = sealRoot(moved, number, now, last ? rootHash(rootOf(last)) : null, this.privateKey);
    const insertLeaf = this.db.prepare(
      'INSERT INTO evidence_leaves (root_number, idx, device_id, seq, head) VALUES (?, ?, ?, ?, ?)',
    );
    const markSealed = this.db.prepare('UPDATE evidence_heads SET sealed_seq = ? WHERE device_id = ?');
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT INTO evidence_roots (number, sealed_at, previous, leaf_count, tree, signature) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(
          number,
          root.sealedAt,
          Buffer.from(root.previous),
          root.leafCount,
          Buffer.from(root.tree),
          Buffer.from(root.signature),
        );
      leaves.forEach((l, i) => {
        insertLeaf.run(number, i, l.deviceId, l.seq, Buffer.from(l.head));
        markSealed.run(l.seq, l.deviceId);
      });
    })();
    return { number, leaves: leaves.length };
  }

  async unstamped(limit: number): Promise<{ number: number; digest: Uint8Array }[]> {
    const rows = this.db
      .prepare('SELECT * FROM evidence_roots WHERE timestamp IS NULL ORDER BY number LIMIT ?')
      .all(limit) as RootRow[];
    return rows.map((r) => ({ number: r.number, digest: rootHash(rootOf(r)) }));
  }

  async attachTimestamp(number: number, token: Uint8Array): Promise<void> {
    this.db.prepare('UPDATE evidence_roots SET timestamp = ? WHERE number = ?').run(Buffer.from(token), number);
  }

  async lastSealedAt(): Promise<number | null> {
    return (this.db.prepare('SELECT max(sealed_at) FROM evidence_roots').pluck().get() as number | null) ?? null;
  }

  /**
   * Selects what proves the devices' receipts in [from, to): per device, its entries from its
   * anchor (its last head sealed by a root at or before `from`; the chain's start without one) to
   * its last head sealed by the end root (the first root sealed at or after `to`, else the latest),
   * and every root from the earliest anchor to the end root with all its leaves.
   */
  async bundle(request: EvidenceBundleRequest): Promise<Uint8Array> {
    this.flush();
    const endRoot =
      (this.db.prepare('SELECT min(number) FROM evidence_roots WHERE sealed_at >= ?').pluck().get(request.to) as
        number | null) ??
      (this.db.prepare('SELECT max(number) FROM evidence_roots').pluck().get() as number | null) ??
      0;
    const anchorOf = this.db.prepare(
      `SELECT l.seq, l.root_number AS root FROM evidence_leaves l JOIN evidence_roots r ON r.number = l.root_number
       WHERE l.device_id = ? AND r.sealed_at <= ? ORDER BY l.seq DESC LIMIT 1`,
    );
    const endOf = this.db
      .prepare('SELECT max(seq) FROM evidence_leaves WHERE device_id = ? AND root_number <= ?')
      .pluck();
    const entriesOf = this.db.prepare(
      'SELECT * FROM evidence_chain WHERE device_id = ? AND seq > ? AND seq <= ? ORDER BY seq',
    );
    let firstRoot: number | null = null;
    const devices = request.deviceIds.map((deviceId) => {
      const anchor = anchorOf.get(deviceId, request.from) as { seq: number; root: number } | undefined;
      if (anchor) firstRoot = Math.min(firstRoot ?? anchor.root, anchor.root);
      const end = (endOf.get(deviceId, endRoot) as number | null) ?? 0;
      const rows = entriesOf.all(deviceId, anchor?.seq ?? 0, end) as EntryRow[];
      return { deviceId, entries: rows.map(entryOf) };
    });
    // No device sealed before the day (all new): the roots from the day's first.
    firstRoot ??=
      (this.db.prepare('SELECT min(number) FROM evidence_roots WHERE sealed_at > ?').pluck().get(request.from) as
        number | null) ?? endRoot;
    const rootRows = this.db
      .prepare('SELECT * FROM evidence_roots WHERE number >= ? AND number <= ? ORDER BY number')
      .all(firstRoot, endRoot) as RootRow[];
    const leavesOf = this.db.prepare(
      'SELECT device_id AS deviceId, seq, head FROM evidence_leaves WHERE root_number = ? ORDER BY idx',
    );
    return buildBundle({
      ...request,
      devices,
      roots: rootRows.map((r) => ({
        root: rootOf(r),
        leaves: leavesOf.all(r.number) as DeviceHead[],
        ...(r.timestamp ? { timestamp: r.timestamp } : {}),
      })),
      privateKeyDer: this.privateKey.export({ format: 'der', type: 'pkcs8' }),
      publicKeyDer: this.publicKeyDer,
    });
  }
}

const rootOf = (r: RootRow): SealedRoot => ({
  number: r.number,
  sealedAt: r.sealed_at,
  previous: r.previous,
  leafCount: r.leaf_count,
  tree: r.tree,
  signature: r.signature,
});

const entryOf = (r: EntryRow): ChainEntry => ({
  deviceId: r.device_id,
  seq: r.seq,
  receivedAt: r.received_at,
  edge: r.edge,
  payload: r.payload,
  hash: r.hash,
});
