import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PEPPER_FILE = 'device-secret.pepper';

/**
 * The server-side key of the device-secret HMAC (SecretHasher): 32 random bytes in
 * `<data dir>/device-secret.pepper`, created (mode 0600) on first start. It lives beside the
 * database, not in it, so a copied database alone cannot check a guessed secret; back both up
 * together, or every device must be given a new secret.
 */
export function loadOrCreatePepper(dataDir: string): Buffer {
  const file = join(dataDir, PEPPER_FILE);
  mkdirSync(dataDir, { recursive: true });
  try {
    writeFileSync(file, randomBytes(32).toString('hex') + '\n', { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const pepper = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  if (pepper.length < 16) throw new Error(`${file} is damaged: expected 64 hex characters`);
  return pepper;
}
