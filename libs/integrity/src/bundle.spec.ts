import { generateKeyPairSync } from 'node:crypto';
import { unzipSync, zipSync } from 'fflate';
import { ChainEntry, GENESIS, chainHash } from './chain';
import { BundleInput, buildBundle, verifyBundle } from './bundle';
import { DeviceHead, SealedRoot, rootHash, sealRoot } from './root';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const privateKeyDer = privateKey.export({ format: 'der', type: 'pkcs8' });
const publicKeyDer = publicKey.export({ format: 'der', type: 'spki' });
const MIN = 60_000;
const HOUR = 60 * MIN;
/** 2026-12-08 00:00 Asia/Shanghai. */
const FROM = Date.UTC(2026, 11, 7, 16);
const TO = FROM + 24 * HOUR;

/** An in-memory installation: chains per device, a root sealed at :00:05 every hour over the heads that moved. */
function installation(schedule: { deviceId: string; every: number; silentFrom?: number; silentTo?: number }[]) {
  const entries = new Map<string, ChainEntry[]>();
  const roots: { root: SealedRoot; leaves: DeviceHead[] }[] = [];
  const sealed = new Map<string, number>();
  for (let t = FROM - 3 * HOUR; t < TO + 2 * HOUR; t += MIN) {
    for (const d of schedule) {
      if ((t - FROM) % d.every !== 0) continue;
      if (d.silentFrom !== undefined && t >= d.silentFrom && t < (d.silentTo ?? Infinity)) continue;
      const list = entries.get(d.deviceId) ?? [];
      entries.set(d.deviceId, list);
      const record = {
        deviceId: d.deviceId,
        seq: list.length + 1,
        receivedAt: t + 1234,
        edge: d.deviceId.endsWith('H') ? 'hj212' : 'mqtt',
        payload: Buffer.from(
          JSON.stringify({ ts: new Date(t).toISOString(), pm10: 40 + ((t / MIN) % 30), note: '扬尘' }),
        ),
      };
      list.push({ ...record, hash: chainHash(list.at(-1)?.hash ?? GENESIS, record) });
    }
    if ((t - FROM) % HOUR === 0) {
      const heads = [...entries]
        .filter(([id, list]) => list.length > (sealed.get(id) ?? 0))
        .map(([deviceId, list]) => ({ deviceId, seq: list.length, head: list[list.length - 1].hash }));
      for (const h of heads) sealed.set(h.deviceId, h.seq);
      const previous = roots.at(-1);
      roots.push(sealRoot(heads, roots.length + 1, t + 5000, previous ? rootHash(previous.root) : null, privateKey));
    }
  }
  return { entries, roots };
}

/** The bundle of site S (devices S-M1, S-M2) for the day, selected the way the service does. */
function bundleInput(inst: ReturnType<typeof installation>, devices = ['S-M1', 'S-M2']): BundleInput {
  const endRoot = inst.roots.find((r) => r.root.sealedAt >= TO) ?? inst.roots.at(-1)!;
  const selected = devices.map((deviceId) => {
    const inRoots = inst.roots.filter((r) => r.root.number <= endRoot.root.number);
    const leafSeq = (rs: typeof inRoots) =>
      Math.max(0, ...rs.flatMap((r) => r.leaves.filter((l) => l.deviceId === deviceId).map((l) => l.seq)));
    const anchor = leafSeq(inRoots.filter((r) => r.root.sealedAt <= FROM));
    const end = leafSeq(inRoots);
    return { deviceId, entries: (inst.entries.get(deviceId) ?? []).filter((e) => e.seq > anchor && e.seq <= end) };
  });
  const firstRoot = Math.min(
    ...devices.map((id) => {
      const withLeaf = inst.roots.filter((r) => r.root.sealedAt <= FROM && r.leaves.some((l) => l.deviceId === id));
      return withLeaf.at(-1)?.root.number ?? 1;
    }),
  );
  return {
    siteId: 'S',
    day: '2026-12-08',
    from: FROM,
    to: TO,
    createdAt: TO + 3 * HOUR,
    devices: selected,
    roots: inst.roots.filter((r) => r.root.number >= firstRoot && r.root.number <= endRoot.root.number),
    privateKeyDer,
    publicKeyDer,
  };
}

const fleet = () =>
  installation([
    { deviceId: 'A-M1', every: 5 * MIN },
    { deviceId: 'S-M1', every: 10 * MIN },
    // Silent from 09:00 to 15:00: six roots prove it sent nothing (absence by neighbours).
    { deviceId: 'S-M2', every: 15 * MIN, silentFrom: FROM + 9 * HOUR, silentTo: FROM + 15 * HOUR },
    { deviceId: 'Z-M1', every: 20 * MIN },
  ]);

describe('evidence bundle', () => {
  const inst = fleet();
  const input = bundleInput(inst);
  const zip = buildBundle(input);
  // The byte-by-byte tests run the verifier once per changed byte: a sparser day keeps them fast.
  const small = buildBundle(
    bundleInput(
      installation([
        { deviceId: 'S-M1', every: 60 * MIN },
        { deviceId: 'S-M2', every: 120 * MIN },
      ]),
    ),
  );

  it('verifies, and says what it proves', () => {
    const report = verifyBundle(zip);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.notes).toEqual([]);
    expect(report.roots).toBe(26);
    expect(report.devices).toEqual([
      { deviceId: 'S-M1', entries: 150, inDay: 144, provenThrough: 163 },
      { deviceId: 'S-M2', entries: 76, inDay: 72, provenThrough: 85 },
    ]);
    expect(Buffer.from(buildBundle(input)).equals(Buffer.from(zip))).toBe(true);
    expect(verifyBundle(zip, { keyFingerprint: report.keyFingerprint }).ok).toBe(true);
    expect(verifyBundle(zip, { keyFingerprint: '00'.repeat(32) }).problems[0].message).toMatch(/not the expected/);
  });

  // Each verification checks 27 signatures (~3 ms), so the bytes are chosen: every byte of the ZIP's
  // own structures, and 300 spread over the files' contents (which the signed manifest hashes).
  it('catches a one-byte change at every byte of the ZIP structure and across its contents', () => {
    const zip = small;
    const missed: number[] = [];
    const structure = new Set<number>();
    for (let i = 0; i + 4 <= zip.length; i += 1)
      if (zip[i] === 0x50 && zip[i + 1] === 0x4b && [1, 3, 5].includes(zip[i + 2]))
        for (let j = i; j < Math.min(zip.length, i + 46 + 14); j += 1) structure.add(j);
    expect(structure.size).toBeGreaterThan(400);
    const stride = Math.floor(zip.length / 300);
    for (let i = 0; i < zip.length; i += 1) {
      if (i % stride !== 0 && !structure.has(i)) continue;
      const changed = Uint8Array.from(zip);
      changed[i] ^= 0x01;
      if (verifyBundle(changed).ok) missed.push(i);
    }
    expect(missed).toEqual([]);
  });

  it('locates a one-byte change in any file to its file, and in an entry to its line', () => {
    const files = unzipSync(small);
    const names = Object.keys(files);
    const rezip = (name: string, data: Uint8Array) =>
      zipSync(
        Object.fromEntries(
          names.map((n) => [n, [n === name ? data : files[n], { level: 0, mtime: new Date(2000, 0, 1) }]]),
        ),
      );
    for (const name of names) {
      const firstLine = files[name].indexOf(0x0a);
      const stride = Math.max(1, Math.floor(files[name].length / 60));
      for (let i = 0; i < files[name].length; i += i < firstLine && name === 'entries.jsonl' ? 1 : stride) {
        const data = Uint8Array.from(files[name]);
        data[i] = data[i] === 0x41 ? 0x42 : 0x41;
        const report = verifyBundle(rezip(name, data));
        expect(report.ok).toBe(false);
        if (!report.problems.some((p) => p.file === name || (name === 'manifest.sig' && p.file === 'manifest.json')))
          throw new Error(`${name} byte ${i}: ${JSON.stringify(report.problems)}`);
        if (name === 'entries.jsonl') {
          const line = Buffer.from(files[name]).subarray(0, i).toString().split('\n').length;
          expect(report.problems[0]).toMatchObject({ file: 'entries.jsonl', line });
        }
      }
    }
  });

  it('names a removed, an added and a changed reading', () => {
    const removed = {
      ...input,
      devices: input.devices.map((d, i) => (i === 0 ? { ...d, entries: d.entries.filter((e) => e.seq !== 40) } : d)),
    };
    expect(verifyBundle(buildBundle(removed)).problems[0]).toMatchObject({
      deviceId: 'S-M1',
      seq: 41,
      message: 'S-M1: #40…#40 are missing before this entry (removed)',
    });
    // A forger who rewrites the chain from #60 on (hashes recomputed): caught at the next signed head.
    const m1 = input.devices[0].entries;
    const forged: ChainEntry[] = [];
    for (const e of m1) {
      const record =
        e.seq === 60 ? { ...e, payload: Buffer.from(String(e.payload).replace('"pm10":', '"pm10":1')) } : e;
      forged.push(e.seq < 60 ? e : { ...record, hash: chainHash(forged.at(-1)!.hash, record) });
    }
    const rewritten = verifyBundle(
      buildBundle({ ...input, devices: [{ deviceId: 'S-M1', entries: forged }, input.devices[1]] }),
    );
    expect(rewritten.problems[0].message).toMatch(
      /^S-M1: the entries #56…#61 do not match the head signed in root \d+/,
    );
    const extra = { ...m1[10], seq: m1.at(-1)!.seq + 1 };
    const added = verifyBundle(
      buildBundle({
        ...input,
        devices: [
          { deviceId: 'S-M1', entries: [...m1, { ...extra, hash: chainHash(m1.at(-1)!.hash, extra) }] },
          input.devices[1],
        ],
      }),
    );
    expect(added.problems[0].message).toBe('S-M1: #164…#164 are in no signed root (added?)');
    const dropped = verifyBundle(buildBundle({ ...input, roots: input.roots.filter((r) => r.root.number !== 10) }));
    expect(dropped.problems.map((p) => p.message)).toContain('root 10 is missing before root 11 (removed)');
  });

  it('a day not yet sealed to its end verifies what there is and says so', () => {
    const partial = { ...input, roots: input.roots.filter((r) => r.root.sealedAt < FROM + 12 * HOUR) };
    const ends = Math.max(
      ...partial.roots.flatMap((r) => r.leaves.filter((l) => l.deviceId === 'S-M1').map((l) => l.seq)),
    );
    const report = verifyBundle(
      buildBundle({
        ...partial,
        devices: partial.devices.map((d) => ({
          ...d,
          entries: d.entries.filter((e) => e.seq <= ends || d.deviceId !== 'S-M1'),
        })),
      }),
    );
    expect(report.problems.map((p) => p.message)).toEqual(['S-M2: #49…#85 are in no signed root (added?)']);
    expect(report.notes[0]).toMatch(/^the day is not sealed to its end/);
  });
});
