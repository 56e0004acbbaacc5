/**
 * bench:integrity — what the tamper-evident record costs, beside what ingest already pays, in one
 * run on the same machine (so the ratios hold on a noisy one):
 *
 *   1. per payload, CPU: the chain's SHA-256 link (chainHash) beside the contract-v1 decode the
 *      MQTT edge does for the same payload;
 *   2. per reading, durable: the spool's group commit alone (the baseline: what bench:ingest
 *      measures at its core) and the spool plus the evidence log's commit of the same payloads
 *      (a second SQLite file, synchronous FULL), `--devices` payloads per event-loop turn;
 *   3. sealing a root over 152 and 20,000 moved heads (sign included);
 *   4. a site's day at one reading a minute per device (2 devices, 24 roots over 152 heads):
 *      bundle build, its size, and the offline verification.
 *
 *   npm run bench:integrity -- [--devices N] [--turns N]
 *
 * The interference detector of issue 21 is not built yet, so it is not measured here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GENESIS, chainHash, verifyBundle } from '@dustwatch/integrity';
import { contractV1Decoder } from '@dustwatch/telemetry';
import {
  EVIDENCE_MIGRATIONS,
  SPOOL_MIGRATIONS,
  SqliteEvidenceLog,
  SqliteReadingsStore,
  loadOrCreateEvidenceKey,
  openDatabase,
} from '@dustwatch/store-sqlite';
import { arg, log, machine } from './common';

const DEVICES = arg('devices', 152);
const TURNS = arg('turns', 300);
const HOUR = 3_600_000;

const payloadOf = (device: number, i: number, t: number): Buffer =>
  Buffer.from(
    JSON.stringify([
      {
        ts: new Date(t).toISOString(),
        pm25: 30 + (i % 7),
        pm10: 60 + (device % 9),
        tsp: 120,
        noise: 61.5,
        windSpeed: 2.4,
        windDir: 135,
        temperature: 3.5,
        humidity: 41,
        pressure: 91.3,
      },
    ]),
  );

function perPayloadCpu(): void {
  const n = 50_000;
  const now = Date.now();
  const payloads = Array.from({ length: 1000 }, (_, i) => payloadOf(i, i, now - i * 1000));
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i += 1)
    contractV1Decoder.decode(payloads[i % 1000], { deviceId: 'CZ-001-M1', receivedAt: now, maxAgeMs: 7 * 86_400_000 });
  const decodeUs = Number(process.hrtime.bigint() - t0) / 1000 / n;
  let prev: Uint8Array = GENESIS;
  t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i += 1)
    prev = chainHash(prev, {
      deviceId: 'CZ-001-M1',
      seq: i + 1,
      receivedAt: now,
      edge: 'mqtt',
      payload: payloads[i % 1000],
    });
  const chainUs = Number(process.hrtime.bigint() - t0) / 1000 / n;
  log(
    `1. per payload (${payloads[0].length} B, ${n}×): contract-v1 decode ${decodeUs.toFixed(2)} µs (baseline) · chain link ${chainUs.toFixed(2)} µs (${(chainUs / decodeUs).toFixed(2)}× the decode)`,
  );
}

async function durable(dir: string): Promise<void> {
  const run = async (withEvidence: boolean): Promise<number> => {
    const sub = join(dir, withEvidence ? 'with' : 'without');
    const spool = new SqliteReadingsStore(
      await openDatabase(join(sub, 'spool.db'), SPOOL_MIGRATIONS),
      1 << 30,
      HOUR,
      () => Date.now(),
    );
    const evidence = withEvidence
      ? new SqliteEvidenceLog(
          await openDatabase(join(sub, 'evidence.db'), EVIDENCE_MIGRATIONS),
          loadOrCreateEvidenceKey(sub),
        )
      : null;
    const base = Date.now() - TURNS * 60_000;
    const t0 = process.hrtime.bigint();
    for (let turn = 0; turn < TURNS; turn += 1) {
      const work: Promise<unknown>[] = [];
      for (let d = 0; d < DEVICES; d += 1) {
        const ts = base + turn * 60_000;
        const payload = payloadOf(d, turn, ts);
        if (evidence) work.push(evidence.append(`CZ-${d}`, 'mqtt', ts, payload));
        work.push(
          spool.commit(
            [
              {
                line: `readings,device=CZ-${d} pm10=${60 + (d % 9)} ${ts}000000`,
                journal: { deviceId: `CZ-${d}`, ts, vals: '{"pm10":60}' },
              },
            ],
            ts,
          ),
        );
      }
      await Promise.all(work);
    }
    return (DEVICES * TURNS) / (Number(process.hrtime.bigint() - t0) / 1e9);
  };
  const without = await run(false);
  const withEvidence = await run(true);
  log(
    `2. durable, ${DEVICES} payloads per turn × ${TURNS} turns: spool alone ${Math.round(without).toLocaleString('en')} readings/s (baseline) · spool + evidence log ${Math.round(withEvidence).toLocaleString('en')} readings/s (${(withEvidence / without).toFixed(2)}×; +${(1e6 / withEvidence - 1e6 / without).toFixed(1)} µs per reading)`,
  );
}

async function sealAndBundle(dir: string): Promise<void> {
  for (const heads of [152, 20_000]) {
    const sub = join(dir, `seal-${heads}`);
    const log_ = new SqliteEvidenceLog(
      await openDatabase(join(sub, 'evidence.db'), EVIDENCE_MIGRATIONS),
      loadOrCreateEvidenceKey(sub),
    );
    const t = Date.now();
    await Promise.all(
      Array.from({ length: heads }, (_, d) =>
        log_.append(`CZ-${String(d).padStart(5, '0')}`, 'mqtt', t, payloadOf(d, 0, t)),
      ),
    );
    const t0 = process.hrtime.bigint();
    await log_.seal(t);
    log(
      `3. seal over ${heads.toLocaleString('en')} moved heads: ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1)} ms`,
    );
  }
  // A site's day: 152 devices at one payload a minute, a root each hour, the bundle of one 2-device site.
  const sub = join(dir, 'day');
  const ev = new SqliteEvidenceLog(
    await openDatabase(join(sub, 'evidence.db'), EVIDENCE_MIGRATIONS, 'normal'),
    loadOrCreateEvidenceKey(sub),
  );
  const from = Date.UTC(2026, 11, 7, 16);
  for (let m = -60; m <= 24 * 60; m += 1) {
    const t = from + m * 60_000;
    await Promise.all(
      Array.from({ length: 152 }, (_, d) =>
        ev.append(`CZ-${String(d).padStart(3, '0')}`, 'mqtt', t + 500, payloadOf(d, m, t)),
      ),
    );
    if (m % 60 === 0) await ev.seal(t + 5000);
  }
  let t0 = process.hrtime.bigint();
  const zip = await ev.bundle({
    siteId: 'S',
    day: '2026-12-08',
    deviceIds: ['CZ-000', 'CZ-001'],
    from,
    to: from + 24 * HOUR,
    createdAt: Date.now(),
  });
  const buildMs = Number(process.hrtime.bigint() - t0) / 1e6;
  t0 = process.hrtime.bigint();
  const report = verifyBundle(zip);
  const verifyMs = Number(process.hrtime.bigint() - t0) / 1e6;
  log(
    `4. a site's day (2 devices × 1,441 payloads, ${report.roots} roots over 152 heads): bundle ${(zip.length / 1024).toFixed(0)} KiB built in ${buildMs.toFixed(0)} ms, verified ${report.ok ? 'OK' : 'FAILED'} in ${verifyMs.toFixed(0)} ms`,
  );
}

async function main(): Promise<void> {
  log(`machine: ${JSON.stringify(machine())}`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-integrity-'));
  try {
    perPayloadCpu();
    await durable(dir);
    await sealAndBundle(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
