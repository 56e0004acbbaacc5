import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../../..');

/** The console's API types, generated from the service's OpenAPI document (never hand-copied). */
export const CONSOLE_API_TYPES = join(ROOT, 'apps/console/src/api/schema.ts');

/** openapi-typescript's own CLI, in a child process (its dependencies are ESM, which jest's CommonJS runtime cannot load). */
export async function consoleApiTypes(document: object): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'dustwatch-openapi-'));
  try {
    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(document));
    const { stdout } = await run(process.execPath, [join(ROOT, 'node_modules/openapi-typescript/bin/cli.js'), file], {
      maxBuffer: 16 * 1024 * 1024,
    });
    return (
      "// Generated from the service's OpenAPI document by `npm run console:api` — do not edit.\n" +
      '// apps/ingest/test/ingest.int.spec.ts fails when the service and this file drift apart.\n' +
      stdout
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
