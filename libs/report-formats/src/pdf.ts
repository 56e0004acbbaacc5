import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FormatUnavailableError } from '@dustwatch/core';

const run = promisify(execFile);
export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The configured Chromium (DUSTWATCH_CHROMIUM), else Debian's or another usual place. */
export const findChromium = (configured?: string): string | undefined =>
  [configured, ...CHROMIUM_CANDIDATES].find((p): p is string => !!p && existsSync(p));

/** The printable page as PDF, printed by headless Chromium (the same layout a person gets from the browser's print). */
export async function htmlToPdf(html: string, chromiumPath?: string): Promise<Buffer> {
  const chromium = findChromium(chromiumPath);
  if (!chromium)
    throw new FormatUnavailableError(
      'PDF export needs Chromium and a CJK font: apt-get install -y chromium fonts-wqy-microhei (or set DUSTWATCH_CHROMIUM); the HTML format prints to PDF from any browser',
    );
  const dir = mkdtempSync(join(tmpdir(), 'dustwatch-pdf-'));
  try {
    writeFileSync(join(dir, 'report.html'), html);
    await run(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        `--user-data-dir=${join(dir, 'profile')}`,
        '--no-pdf-header-footer',
        `--print-to-pdf=${join(dir, 'report.pdf')}`,
        `file://${join(dir, 'report.html')}`,
      ],
      { timeout: 60_000 },
    );
    return readFileSync(join(dir, 'report.pdf'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
