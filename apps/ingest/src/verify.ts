#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Problem, VerifyReport, verifyBundle } from '@dustwatch/integrity';
import { SHANGHAI_OFFSET_MS } from '@dustwatch/telemetry';

const USAGE = `Usage: dustwatch-verify <bundle.zip> [--key FINGERPRINT] [--tsa-ca CA.pem] [--json]

Checks an evidence bundle (GET /api/evidence/sites/<site>/<day>) offline: every payload against its
device's hash chain, the chain against the hourly roots, each root's Ed25519 signature and its
place in the chain of roots, the manifest's signature and every file's hash. --key pins the
installation's key (its fingerprint: GET /api/evidence/key, or the service's start-up log).
Roots timestamped by an RFC 3161 authority carry its token; each is checked to be about its
root, and with --tsa-ca its signature is checked by OpenSSL against that CA (openssl must be
installed: apt install openssl).
Exit 0: verified. Exit 1: it names the first reading added, changed or removed, then the rest.
Exit 2: usage or an unreadable file.`;

const shanghai = (ms: number): string =>
  new Date(ms + SHANGHAI_OFFSET_MS).toISOString().replace('T', ' ').slice(0, 19) + ' +08:00';

function where(p: Problem): string {
  const at = [p.file, p.line !== undefined ? `第 ${p.line} 行 line ${p.line}` : null].filter(Boolean).join(' ');
  const entry = p.deviceId && p.seq !== undefined ? ` · ${p.deviceId} #${p.seq}` : '';
  const time = p.receivedAt !== undefined ? ` · 接收 received ${shanghai(p.receivedAt)}` : '';
  return `${at}${entry}${time}`;
}

function main(args: string[]): number {
  const valueOf = (flag: string): string | undefined =>
    args.includes(flag) ? (args[args.indexOf(flag) + 1] ?? '') : undefined;
  const file = args.find((a, i) => !a.startsWith('--') && !['--key', '--tsa-ca'].includes(args[i - 1]));
  const key = valueOf('--key');
  const tsaCa = valueOf('--tsa-ca');
  if (!file || args.includes('--help') || key === '' || tsaCa === '') {
    process.stderr.write(USAGE + '\n');
    return 2;
  }
  let zip: Buffer;
  try {
    zip = readFileSync(file);
  } catch (error) {
    process.stderr.write(`${file}: ${(error as Error).message}\n`);
    return 2;
  }
  const verified = verifyBundle(zip, { keyFingerprint: key });
  const tsaProblems = tsaCa ? checkTokens(verified.timestamps, tsaCa) : [];
  const report =
    tsaProblems.length > 0 ? { ...verified, ok: false, problems: [...verified.problems, ...tsaProblems] } : verified;
  if (args.includes('--json')) {
    const timestamps = report.timestamps.map(({ token: _token, ...t }) => t);
    process.stdout.write(JSON.stringify({ ...report, timestamps }, null, 2) + '\n');
    return report.ok ? 0 : 1;
  }
  const out: string[] = [];
  out.push(`证据包 bundle: ${file}`);
  out.push(
    `工地 site ${report.siteId ?? '?'} · 日期 day ${report.day ?? '?'} · 密钥 key ${report.keyFingerprint ?? '?'}`,
  );
  out.push(`签名根 signed roots: ${report.roots}`);
  for (const d of report.devices)
    out.push(
      `  ${d.deviceId}: ${d.entries} 条记录 entries (${d.inDay} 当日 in the day), 已证明至 proven through #${d.provenThrough ?? 0}`,
    );
  const times = report.timestamps.flatMap((t) => (t.time === null ? [] : [t.time]));
  out.push(
    report.timestamps.length === 0
      ? '可信时间戳 RFC 3161 timestamps: none'
      : `可信时间戳 RFC 3161 timestamps: ${report.timestamps.length} of ${report.roots} roots, ${times.length ? `${shanghai(Math.min(...times))} … ${shanghai(Math.max(...times))}` : 'no time read'}${tsaCa ? `, signatures checked against ${tsaCa}` : ' (signatures not checked: --tsa-ca)'}`,
  );
  for (const n of report.notes) out.push(`注意 note: ${n}`);
  if (report.ok) out.push('✓ 校验通过 VERIFIED: no reading was added, changed or removed');
  else {
    out.push(`✗ 校验失败 FAILED: ${report.problems.length} problem(s); the first:`);
    report.problems.forEach((p, i) => out.push(`${i === 0 ? '→' : ' '} ${where(p)}: ${p.message}`));
  }
  process.stdout.write(out.join('\n') + '\n');
  return report.ok ? 0 : 1;
}

/** Each token's CMS signature and imprint, by `openssl ts -verify` against the CA. */
function checkTokens(timestamps: VerifyReport['timestamps'], ca: string): Problem[] {
  const dir = mkdtempSync(join(tmpdir(), 'dustwatch-verify-'));
  try {
    return timestamps.flatMap((t) => {
      const file = join(dir, `root-${t.root}.tst`);
      writeFileSync(file, t.token);
      const run = spawnSync(
        'openssl',
        ['ts', '-verify', '-token_in', '-in', file, '-digest', t.digest, '-CAfile', ca],
        {
          encoding: 'utf8',
        },
      );
      if (run.error)
        return [{ file: 'roots.jsonl', message: `openssl could not run (${run.error.message}): apt install openssl` }];
      return run.status === 0 && /Verification: OK/.test(run.stdout)
        ? []
        : [
            {
              file: 'roots.jsonl',
              message: `root ${t.root}: the TSA token does not verify: ${(run.stderr || run.stdout).trim().split('\n')[0]}`,
            },
          ];
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = main(process.argv.slice(2));
