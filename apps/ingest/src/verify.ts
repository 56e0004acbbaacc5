#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Problem, verifyBundle } from '@dustwatch/integrity';

const USAGE = `Usage: dustwatch-verify <bundle.zip> [--key FINGERPRINT] [--json]

Checks an evidence bundle (GET /api/evidence/sites/<site>/<day>) offline: every payload against its
device's hash chain, the chain against the hourly roots, each root's Ed25519 signature and its
place in the chain of roots, the manifest's signature and every file's hash. --key pins the
installation's key (its fingerprint: GET /api/evidence/key, or the service's start-up log).
Exit 0: verified. Exit 1: it names the first reading added, changed or removed, then the rest.
Exit 2: usage or an unreadable file.`;

const shanghai = (ms: number): string =>
  new Date(ms + 8 * 3_600_000).toISOString().replace('T', ' ').slice(0, 19) + ' +08:00';

function where(p: Problem): string {
  const at = [p.file, p.line !== undefined ? `第 ${p.line} 行 line ${p.line}` : null].filter(Boolean).join(' ');
  const entry = p.deviceId && p.seq !== undefined ? ` · ${p.deviceId} #${p.seq}` : '';
  const time = p.receivedAt !== undefined ? ` · 接收 received ${shanghai(p.receivedAt)}` : '';
  return `${at}${entry}${time}`;
}

function main(args: string[]): number {
  const file = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--key');
  const keyAt = args.indexOf('--key');
  const key = keyAt >= 0 ? args[keyAt + 1] : undefined;
  if (!file || args.includes('--help') || (keyAt >= 0 && !key)) {
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
  const report = verifyBundle(zip, { keyFingerprint: key });
  if (args.includes('--json')) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
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
  for (const n of report.notes) out.push(`注意 note: ${n}`);
  if (report.ok) out.push('✓ 校验通过 VERIFIED: no reading was added, changed or removed');
  else {
    out.push(`✗ 校验失败 FAILED: ${report.problems.length} problem(s); the first:`);
    report.problems.forEach((p, i) => out.push(`${i === 0 ? '→' : ' '} ${where(p)}: ${p.message}`));
  }
  process.stdout.write(out.join('\n') + '\n');
  return report.ok ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
