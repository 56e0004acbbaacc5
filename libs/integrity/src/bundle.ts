import { KeyObject, createPrivateKey, sign, verify } from 'node:crypto';
import { unzipSync, zipSync } from 'fflate';
import { ChainEntry, GENESIS, chainHash, sha256, toHex } from './chain';
import { verifyInclusion } from './merkle';
import { inspectTimestampToken } from './rfc3161';
import {
  DeviceHead,
  DeviceProof,
  PositionedLeaf,
  SealedRoot,
  keyFingerprint,
  leafOf,
  proveDevice,
  publicKeyFromDer,
  rootHash,
  verifyRootSignature,
} from './root';

/**
 * The evidence bundle of one site and day: a ZIP that a court, the bureau or the contractor can
 * check offline. Files (all listed with their SHA-256 in the signed manifest):
 *   manifest.json  site, day, window, devices, the installation's public key, file hashes
 *   manifest.sig   Ed25519 signature of manifest.json (base64)
 *   entries.jsonl  every received payload of the site's devices from each device's anchor to its
 *                  last sealed head: device, seq, receivedAt, edge, payload, hash
 *   roots.jsonl    the signed hourly roots in order, each with every device's proof: its leaf
 *                  (inclusion path) or its two neighbours (absence)
 *   README.txt     how to verify (zh-CN, en)
 * The ZIP is written canonically (stored, fixed times, fixed order), so the verifier can rebuild
 * it byte for byte from its files: a change outside every file is caught as well.
 */
export const BUNDLE_FORMAT = 'dustwatch-evidence-bundle/1';

export interface BundleInput {
  readonly siteId: string;
  /** YYYY-MM-DD in Asia/Shanghai. */
  readonly day: string;
  readonly from: number;
  readonly to: number;
  readonly createdAt: number;
  readonly devices: readonly { readonly deviceId: string; readonly entries: readonly ChainEntry[] }[];
  /** Consecutive roots, each with all its leaves (sorted), from the earliest anchor to the first root sealed at or after `to`. */
  readonly roots: readonly {
    readonly root: SealedRoot;
    readonly leaves: readonly DeviceHead[];
    readonly timestamp?: Uint8Array;
  }[];
  /** The installation's Ed25519 key (PKCS#8 DER). */
  readonly privateKeyDer: Uint8Array;
  readonly publicKeyDer: Uint8Array;
}

const README = `Dustwatch 证据包 / evidence bundle

校验（离线）: dustwatch-verify <本文件.zip> [--key <公钥指纹>]
Verify offline: dustwatch-verify <this.zip> [--key <public key fingerprint>]

entries.jsonl 中每条记录是监测设备上传的原始报文（HJ 212 报文的 PW 已遮蔽），按设备逐条哈希成链；
roots.jsonl 是每小时用本平台 Ed25519 密钥签名的 Merkle 根。任何增加、修改或删除都会被校验程序发现并指出位置。
Each entry is a payload as received (HJ 212 passwords masked), hash-chained per device; each root
is an hourly signed Merkle root. Any reading added, changed or removed is found and located.
`;

// A DOS time of 2000-01-01 00:00 in the zone the ZIP is written and read in alike: fflate encodes
// local time, and the verifier must rebuild the same bytes on any machine.
const zipTime = (): Date => new Date(2000, 0, 1);

function canonicalZip(files: readonly [string, Uint8Array][]): Uint8Array {
  const mtime = zipTime();
  return zipSync(Object.fromEntries(files.map(([name, data]) => [name, [data, { level: 0, mtime }]])));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

function payloadField(payload: Uint8Array): { payload: string } | { payloadBase64: string } {
  try {
    return { payload: utf8.decode(payload) };
  } catch {
    return { payloadBase64: Buffer.from(payload).toString('base64') };
  }
}

const leafJson = (l: PositionedLeaf) => ({
  index: l.index,
  deviceId: l.deviceId,
  seq: l.seq,
  head: toHex(l.head),
  path: l.path.map(toHex),
});

function proofJson(p: DeviceProof): object {
  return p.kind === 'leaf'
    ? { kind: 'leaf', ...leafJson(p.leaf) }
    : { kind: 'absent', left: p.left && leafJson(p.left), right: p.right && leafJson(p.right) };
}

/** Builds the bundle (deterministic for the same input). */
export function buildBundle(input: BundleInput): Uint8Array {
  const privateKey = createPrivateKey({ key: Buffer.from(input.privateKeyDer), format: 'der', type: 'pkcs8' });
  const entries = input.devices
    .flatMap((d) => d.entries)
    .map((e) =>
      JSON.stringify({
        device: e.deviceId,
        seq: e.seq,
        receivedAt: e.receivedAt,
        edge: e.edge,
        ...payloadField(e.payload),
        hash: toHex(e.hash),
      }),
    );
  // Each device gets proofs from the root that anchors its entries onwards.
  const firstRootOf = new Map<string, number>();
  for (const d of input.devices) {
    const anchorSeq = d.entries.length > 0 ? d.entries[0].seq - 1 : null;
    const anchor = input.roots.find((r) =>
      r.leaves.some((l) => l.deviceId === d.deviceId && (anchorSeq === null || l.seq === anchorSeq)),
    );
    firstRootOf.set(d.deviceId, anchorSeq === 0 || !anchor ? input.roots[0]?.root.number : anchor.root.number);
  }
  const roots = input.roots.map(({ root, leaves, timestamp }) => {
    const proofs: Record<string, object> = {};
    for (const d of input.devices)
      if (root.number >= (firstRootOf.get(d.deviceId) ?? Infinity))
        proofs[d.deviceId] = proofJson(proveDevice(leaves, d.deviceId));
    return JSON.stringify({
      number: root.number,
      sealedAt: new Date(root.sealedAt).toISOString(),
      previous: toHex(root.previous),
      leaves: root.leafCount,
      tree: toHex(root.tree),
      signature: Buffer.from(root.signature).toString('base64'),
      ...(timestamp ? { timestamp: Buffer.from(timestamp).toString('base64') } : {}),
      proofs,
    });
  });
  const files: [string, Uint8Array][] = [
    ['entries.jsonl', encode(entries.map((l) => l + '\n').join(''))],
    ['roots.jsonl', encode(roots.map((l) => l + '\n').join(''))],
    ['README.txt', encode(README)],
  ];
  const manifest = encode(
    JSON.stringify(
      {
        format: BUNDLE_FORMAT,
        siteId: input.siteId,
        day: input.day,
        from: new Date(input.from).toISOString(),
        to: new Date(input.to).toISOString(),
        createdAt: new Date(input.createdAt).toISOString(),
        devices: input.devices.map((d) => d.deviceId),
        publicKey: Buffer.from(input.publicKeyDer).toString('base64'),
        keyFingerprint: keyFingerprint(input.publicKeyDer),
        files: Object.fromEntries(files.map(([name, data]) => [name, toHex(sha256(data))])),
      },
      null,
      2,
    ) + '\n',
  );
  const signature = encode(sign(null, manifest, privateKey).toString('base64') + '\n');
  return canonicalZip([['manifest.json', manifest], ['manifest.sig', signature], ...files]);
}

// ------------------------------------------------------------------------------------------ verify

/** Where a problem is: a file, a line in it, and for a chain entry the device, its number and receipt time. */
export interface Problem {
  readonly file: string;
  readonly line?: number;
  readonly deviceId?: string;
  readonly seq?: number;
  readonly receivedAt?: number;
  readonly message: string;
}

export interface DeviceSummary {
  readonly deviceId: string;
  /** Entries in the bundle, and of them received within the day. */
  readonly entries: number;
  readonly inDay: number;
  /** The last head a signed root proves (seq), null when none. */
  readonly provenThrough: number | null;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly siteId?: string;
  readonly day?: string;
  readonly keyFingerprint?: string;
  readonly roots: number;
  readonly devices: readonly DeviceSummary[];
  /** In order of importance: the first located chain entry first, then the rest. */
  readonly problems: readonly Problem[];
  /** What holds but limits the proof: a day not yet sealed to its end. */
  readonly notes: readonly string[];
  /**
   * RFC 3161 tokens of the roots that have one: about the root's digest (checked here) with the
   * TSA's time; their CMS signatures are OpenSSL's to check (`dustwatch-verify --tsa-ca`).
   */
  readonly timestamps: readonly {
    readonly root: number;
    readonly digest: string;
    readonly time: number | null;
    readonly token: Uint8Array;
  }[];
}

interface ParsedEntry extends ChainEntry {
  readonly line: number;
}

interface ParsedRoot extends SealedRoot {
  readonly line: number;
  readonly proofs: ReadonlyMap<string, DeviceProof>;
}

const HEX32 = /^[0-9a-f]{64}$/;

class Fields {
  constructor(
    private readonly obj: Record<string, unknown>,
    private readonly where: string,
  ) {}
  int(key: string): number {
    const v = this.obj[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new Error(`${this.where}: "${key}" is not an integer`);
    return v;
  }
  str(key: string): string {
    const v = this.obj[key];
    if (typeof v !== 'string') throw new Error(`${this.where}: "${key}" is not a string`);
    return v;
  }
  hex(key: string): Buffer {
    const v = this.str(key);
    if (!HEX32.test(v)) throw new Error(`${this.where}: "${key}" is not 64 lower-case hex digits`);
    return Buffer.from(v, 'hex');
  }
  base64(key: string): Buffer {
    const v = this.str(key);
    const bytes = Buffer.from(v, 'base64');
    if (bytes.toString('base64') !== v) throw new Error(`${this.where}: "${key}" is not canonical base64`);
    return bytes;
  }
  iso(key: string): number {
    const v = this.str(key);
    const ms = Date.parse(v);
    if (!Number.isFinite(ms) || new Date(ms).toISOString() !== v)
      throw new Error(`${this.where}: "${key}" is not an ISO time`);
    return ms;
  }
}

/** Parses JSON lines, each of which must be exactly its canonical serialisation (so every byte matters). */
function jsonLines(
  text: string,
  file: string,
  problems: Problem[],
): { line: number; fields: Fields; obj: Record<string, unknown> }[] {
  const lines = text.split('\n');
  if (lines.pop() !== '')
    problems.push({ file, line: lines.length + 1, message: 'the file does not end with a newline' });
  const out = [];
  for (const [i, raw] of lines.entries()) {
    const line = i + 1;
    try {
      const obj = JSON.parse(raw) as Record<string, unknown>;
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new Error('not an object');
      if (JSON.stringify(obj) !== raw) throw new Error('not in canonical form (changed by hand?)');
      out.push({ line, obj, fields: new Fields(obj, `line ${line}`) });
    } catch (error) {
      problems.push({ file, line, message: `line ${line} is unreadable: ${(error as Error).message}` });
    }
  }
  return out;
}

function parseLeaf(value: unknown, where: string): PositionedLeaf {
  if (typeof value !== 'object' || value === null) throw new Error(`${where}: not a leaf`);
  const f = new Fields(value as Record<string, unknown>, where);
  const path = (value as { path?: unknown }).path;
  if (!Array.isArray(path) || !path.every((p) => typeof p === 'string' && HEX32.test(p)))
    throw new Error(`${where}: "path" is not a list of hashes`);
  return {
    index: f.int('index'),
    deviceId: f.str('deviceId'),
    seq: f.int('seq'),
    head: f.hex('head'),
    path: path.map((p: string) => Buffer.from(p, 'hex')),
  };
}

function parseProof(value: unknown, where: string): DeviceProof {
  const kind = (value as { kind?: unknown } | null)?.kind;
  if (kind === 'leaf') return { kind, leaf: parseLeaf(value, where) };
  if (kind === 'absent') {
    const v = value as { left: unknown; right: unknown };
    return {
      kind,
      left: v.left === null ? null : parseLeaf(v.left, `${where} left`),
      right: v.right === null ? null : parseLeaf(v.right, `${where} right`),
    };
  }
  throw new Error(`${where}: unknown proof kind`);
}

const leafProves = (l: PositionedLeaf, r: SealedRoot): boolean =>
  verifyInclusion(leafOf(l), l.index, r.leafCount, l.path, r.tree);

/** Checks a device's proof in a root; returns the problem, or null. */
function checkProof(p: DeviceProof, deviceId: string, r: SealedRoot): string | null {
  if (p.kind === 'leaf')
    return p.leaf.deviceId === deviceId && leafProves(p.leaf, r) ? null : 'its leaf is not in the signed tree';
  const { left, right } = p;
  if (left && !(left.deviceId < deviceId && leafProves(left, r)))
    return 'the left neighbour does not prove its absence';
  if (right && !(right.deviceId > deviceId && leafProves(right, r)))
    return 'the right neighbour does not prove its absence';
  if (left && right && right.index !== left.index + 1) return 'the neighbours are not adjacent';
  if (!left && (right ? right.index !== 0 : r.leafCount !== 0))
    return 'no left neighbour, yet it is not the first leaf';
  if (!right && (left ? left.index !== r.leafCount - 1 : r.leafCount !== 0))
    return 'no right neighbour, yet it is not the last leaf';
  return null;
}

/**
 * Verifies a bundle offline: container, manifest signature, every file's hash, every line, the
 * root chain and signatures, and each device's receipt chain against the signed heads. Names the
 * first entry that does not hold, or the file and line, or the byte of the container.
 */
export function verifyBundle(zip: Uint8Array, options: { readonly keyFingerprint?: string } = {}): VerifyReport {
  const problems: Problem[] = [];
  const notes: string[] = [];
  const timestamps: { root: number; digest: string; time: number | null; token: Uint8Array }[] = [];
  const failed = (): VerifyReport => ({ ok: false, roots: 0, devices: [], problems, notes, timestamps });
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip);
  } catch (error) {
    problems.push({ file: 'bundle.zip', message: `not a readable ZIP: ${(error as Error).message}` });
    return failed();
  }
  const canonical = canonicalZip(Object.entries(files));
  if (Buffer.compare(Buffer.from(canonical), Buffer.from(zip)) !== 0) {
    const at = [...canonical].findIndex((b, i) => zip[i] !== b);
    problems.push({
      file: 'bundle.zip',
      message: `the ZIP container differs from its canonical form at byte ${at < 0 ? canonical.length : at}`,
    });
  }
  const manifestBytes = files['manifest.json'];
  const signatureBytes = files['manifest.sig'];
  if (!manifestBytes || !signatureBytes) {
    problems.push({ file: 'bundle.zip', message: 'manifest.json or manifest.sig is missing' });
    return failed();
  }
  let manifest: Record<string, unknown>;
  let publicKey: KeyObject;
  let publicKeyDer: Buffer;
  try {
    manifest = JSON.parse(utf8.decode(manifestBytes)) as Record<string, unknown>;
    const f = new Fields(manifest, 'manifest.json');
    if (f.str('format') !== BUNDLE_FORMAT) throw new Error(`manifest.json: format is not ${BUNDLE_FORMAT}`);
    publicKeyDer = f.base64('publicKey');
    publicKey = publicKeyFromDer(publicKeyDer);
  } catch (error) {
    problems.push({ file: 'manifest.json', message: `unreadable: ${(error as Error).message}` });
    return failed();
  }
  const fingerprint = keyFingerprint(publicKeyDer);
  if (manifest.keyFingerprint !== fingerprint)
    problems.push({ file: 'manifest.json', message: 'keyFingerprint is not the fingerprint of publicKey' });
  if (options.keyFingerprint && options.keyFingerprint.toLowerCase() !== fingerprint)
    problems.push({
      file: 'manifest.json',
      message: `signed with key ${fingerprint}, not the expected ${options.keyFingerprint}`,
    });
  let signature: Buffer | null = null;
  try {
    const text = utf8.decode(signatureBytes);
    signature = Buffer.from(text.trimEnd(), 'base64');
    if (text !== signature.toString('base64') + '\n') signature = null;
  } catch {
    signature = null;
  }
  if (!signature || signature.length !== 64)
    problems.push({ file: 'manifest.sig', message: 'is not one base64 Ed25519 signature and a newline (changed)' });
  else if (!verify(null, manifestBytes, publicKey, signature))
    problems.push({ file: 'manifest.json', message: 'does not match manifest.sig (one of the two changed)' });

  const f = new Fields(manifest, 'manifest.json');
  let siteId: string | undefined;
  let day: string | undefined;
  let from = NaN;
  let to = NaN;
  let deviceIds: string[] = [];
  try {
    siteId = f.str('siteId');
    day = f.str('day');
    from = f.iso('from');
    to = f.iso('to');
    const devices = manifest.devices;
    if (!Array.isArray(devices) || !devices.every((d) => typeof d === 'string'))
      throw new Error('manifest.json: devices is not a list of ids');
    deviceIds = devices as string[];
  } catch (error) {
    problems.push({ file: 'manifest.json', message: (error as Error).message });
  }
  const listed = (manifest.files ?? {}) as Record<string, unknown>;
  for (const name of Object.keys(files)) {
    if (name === 'manifest.json' || name === 'manifest.sig') continue;
    if (typeof listed[name] !== 'string') problems.push({ file: name, message: 'not listed in the manifest (added)' });
    else if (listed[name] !== toHex(sha256(files[name])))
      problems.push({ file: name, message: 'does not match the SHA-256 the signed manifest gives for it (changed)' });
  }
  for (const name of Object.keys(listed))
    if (!files[name]) problems.push({ file: name, message: 'listed in the manifest but missing (removed)' });

  const text = (name: string): string => {
    try {
      return utf8.decode(files[name] ?? new Uint8Array());
    } catch {
      problems.push({ file: name, message: 'is not UTF-8 text' });
      return new TextDecoder().decode(files[name]);
    }
  };

  // Roots: consecutive, each pointing at the one before, each signed.
  const roots: ParsedRoot[] = [];
  for (const { line, fields, obj } of jsonLines(text('roots.jsonl'), 'roots.jsonl', problems)) {
    try {
      const proofs = new Map<string, DeviceProof>();
      const raw = obj.proofs;
      if (typeof raw !== 'object' || raw === null) throw new Error(`line ${line}: "proofs" is missing`);
      for (const [id, p] of Object.entries(raw)) proofs.set(id, parseProof(p, `line ${line} proof of ${id}`));
      const token = obj.timestamp !== undefined ? fields.base64('timestamp') : null;
      const root: ParsedRoot = {
        line,
        number: fields.int('number'),
        sealedAt: fields.iso('sealedAt'),
        previous: fields.hex('previous'),
        leafCount: fields.int('leaves'),
        tree: fields.hex('tree'),
        signature: fields.base64('signature'),
        proofs,
      };
      const before = roots[roots.length - 1];
      if (token) {
        const digest = rootHash(root);
        const { matches, time } = inspectTimestampToken(token, digest);
        if (!matches)
          problems.push({
            file: 'roots.jsonl',
            line,
            message: `root ${root.number}: its timestamp token is for another digest (changed)`,
          });
        else timestamps.push({ root: root.number, digest: toHex(digest), time, token });
      }
      if (!verifyRootSignature(root, publicKey))
        problems.push({
          file: 'roots.jsonl',
          line,
          message: `root ${root.number} does not match its signature (changed)`,
        });
      if (before && root.number !== before.number + 1)
        problems.push({
          file: 'roots.jsonl',
          line,
          message: `root ${before.number + 1} is missing before root ${root.number} (removed)`,
        });
      else if (before && !Buffer.from(root.previous).equals(rootHash(before)))
        problems.push({
          file: 'roots.jsonl',
          line,
          message: `root ${root.number} does not follow root ${before.number}`,
        });
      else if (!before && root.number === 1 && !Buffer.from(root.previous).equals(GENESIS))
        problems.push({ file: 'roots.jsonl', line, message: 'root 1 does not start the chain' });
      roots.push(root);
    } catch (error) {
      problems.push({ file: 'roots.jsonl', line, message: (error as Error).message });
    }
  }

  // Entries, per device in order. A line that cannot be read is the most precise location there is.
  const unreadable: Problem[] = [];
  const byDevice = new Map<string, ParsedEntry[]>(deviceIds.map((id) => [id, []]));
  for (const { line, fields, obj } of jsonLines(text('entries.jsonl'), 'entries.jsonl', unreadable)) {
    try {
      const deviceId = fields.str('device');
      const list = byDevice.get(deviceId);
      if (!list) throw new Error(`line ${line}: device ${deviceId} is not one of the manifest's devices`);
      const payload = obj.payloadBase64 !== undefined ? fields.base64('payloadBase64') : encode(fields.str('payload'));
      list.push({
        line,
        deviceId,
        seq: fields.int('seq'),
        receivedAt: fields.int('receivedAt'),
        edge: fields.str('edge'),
        payload,
        hash: fields.hex('hash'),
      });
    } catch (error) {
      unreadable.push({ file: 'entries.jsonl', line, message: (error as Error).message });
    }
  }

  const located: Problem[] = [];
  const summaries: DeviceSummary[] = [];
  for (const [deviceId, entries] of byDevice) {
    const at = (e: ParsedEntry, message: string): Problem => ({
      file: 'entries.jsonl',
      line: e.line,
      deviceId,
      seq: e.seq,
      receivedAt: e.receivedAt,
      message,
    });
    const proofs = roots
      .filter((r) => r.proofs.has(deviceId))
      .map((r) => ({ root: r, proof: r.proofs.get(deviceId)! }));
    for (const { root, proof } of proofs) {
      const problem = checkProof(proof, deviceId, root);
      if (problem)
        problems.push({
          file: 'roots.jsonl',
          line: root.line,
          deviceId,
          message: `root ${root.number}, ${deviceId}: ${problem}`,
        });
    }
    const firstProofAt = roots.findIndex((r) => r.proofs.has(deviceId));
    if (firstProofAt >= 0 && roots.slice(firstProofAt).some((r) => !r.proofs.has(deviceId)))
      problems.push({
        file: 'roots.jsonl',
        deviceId,
        message: `${deviceId}: a root after its anchor has no proof for it`,
      });
    const leaves = proofs.flatMap(({ root, proof }) => (proof.kind === 'leaf' ? [{ root, leaf: proof.leaf }] : []));
    // The anchor: genesis when the entries start at 1, else the device's first leaf, which must be sealed before the day.
    const anchor = entries[0]?.seq === 1 ? null : leaves[0];
    if (anchor && anchor.root.sealedAt > from)
      problems.push({
        file: 'roots.jsonl',
        line: anchor.root.line,
        deviceId,
        message: `${deviceId}: the anchor root ${anchor.root.number} was sealed after the day began, so earlier readings of the day are not proved`,
      });
    if (!anchor && entries[0]?.seq !== 1 && entries.length > 0)
      located.push(at(entries[0], `${deviceId}: no signed head before #${entries[0].seq}`));
    let previous: Uint8Array = anchor ? anchor.leaf.head : GENESIS;
    let expected = anchor ? anchor.leaf.seq + 1 : 1;
    const headAt = new Map<number, Buffer>();
    let broken = false;
    for (const e of entries) {
      if (e.seq !== expected) {
        located.push(
          at(
            e,
            e.seq > expected
              ? `${deviceId}: #${expected}…#${e.seq - 1} are missing before this entry (removed)`
              : `${deviceId}: #${e.seq} is out of order or repeated (added)`,
          ),
        );
        broken = true;
        break;
      }
      const hash = chainHash(previous, e);
      if (!hash.equals(Buffer.from(e.hash))) {
        located.push(at(e, `${deviceId} #${e.seq}: the entry does not match its hash (changed)`));
        broken = true;
        break;
      }
      headAt.set(e.seq, hash);
      previous = hash;
      expected += 1;
    }
    let provenThrough: number | null = anchor ? anchor.leaf.seq : null;
    if (!broken)
      for (const { root, leaf } of leaves) {
        if (leaf === anchor?.leaf) continue;
        const head = headAt.get(leaf.seq);
        if (!head || !head.equals(Buffer.from(leaf.head))) {
          const first = entries.find((e) => e.seq > (provenThrough ?? 0));
          located.push(
            first
              ? at(
                  first,
                  `${deviceId}: the entries #${first.seq}…#${leaf.seq} do not match the head signed in root ${root.number} (added, changed or removed among them)`,
                )
              : {
                  file: 'entries.jsonl',
                  deviceId,
                  message: `${deviceId}: the entries up to #${leaf.seq} signed in root ${root.number} are missing (removed)`,
                },
          );
          broken = true;
          break;
        }
        provenThrough = leaf.seq;
      }
    const last = entries[entries.length - 1];
    if (!broken && last && last.seq !== provenThrough)
      located.push(at(last, `${deviceId}: #${(provenThrough ?? 0) + 1}…#${last.seq} are in no signed root (added?)`));
    summaries.push({
      deviceId,
      entries: entries.length,
      inDay: entries.filter((e) => e.receivedAt >= from && e.receivedAt < to).length,
      provenThrough,
    });
  }
  const lastRoot = roots[roots.length - 1];
  if (!lastRoot || lastRoot.sealedAt < to)
    notes.push(
      `the day is not sealed to its end: the last root was sealed ${lastRoot ? new Date(lastRoot.sealedAt).toISOString() : 'never'}, the day ends ${Number.isFinite(to) ? new Date(to).toISOString() : '?'}; readings after that are not in this bundle`,
    );
  located.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
  const all = [...unreadable, ...located, ...problems];
  return {
    ok: all.length === 0,
    siteId,
    day,
    keyFingerprint: fingerprint,
    roots: roots.length,
    devices: summaries,
    problems: all,
    notes,
    timestamps,
  };
}
