import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** A new device secret: 24 random bytes (192 bits), base64url (32 characters). Shown once, stored hashed. */
export function generateSecret(): string {
  return randomBytes(24).toString('base64url');
}

const HMAC_SCHEME = 'hmac-sha256';
const SCRYPT_KEYLEN = 32;

export interface SecretCheck {
  readonly ok: boolean;
  /** The stored hash is of the old scrypt scheme: rewrite it now that the secret is known. */
  readonly needsRehash: boolean;
}

/**
 * Device secrets are stored as HMAC-SHA-256 under a server-side pepper (`hmac-sha256$<base64>`).
 *
 * Why not a slow KDF: a slow function protects low-entropy human passwords against guessing; the
 * secrets Dustwatch generates carry 192 bits, which no guessing reaches, and fleet files must
 * give at least 16 characters. What a KDF did cost was availability: every CONNECT paid ~50 ms of
 * scrypt on libuv's 4-thread pool, so a reconnect storm of 10,000 devices queued for minutes and
 * 500 wrong-password CONNECTs stalled every real device (issue 10). The HMAC takes ~2 µs on the
 * event loop and needs no pool; the pepper (outside the database, see loadOrCreatePepper) means a
 * stolen database alone does not allow even an offline check of a guess.
 *
 * Hashes of the former scheme (`scrypt$N$r$p$salt$hash`) still verify, at most
 * `maxConcurrentLegacyChecks` at a time so they can never take the whole thread pool (the
 * InfluxDB writer's gzip needs it), and are rewritten at the device's next successful login.
 */
export class SecretHasher {
  private legacyRunning = 0;
  private readonly legacyWaiting: (() => void)[] = [];
  private readonly dummyHash: string;

  constructor(
    private readonly pepper: Buffer,
    private readonly maxConcurrentLegacyChecks = 2,
  ) {
    if (pepper.length < 16) throw new Error('the device-secret pepper must be at least 16 bytes');
    this.dummyHash = this.hash(generateSecret());
  }

  hash(secret: string): string {
    return `${HMAC_SCHEME}$${this.mac(secret).toString('base64')}`;
  }

  /** Checks a secret; an unknown device is checked against a dummy hash, so both refusals cost the same. */
  async verify(secret: string, stored: string | undefined): Promise<SecretCheck> {
    const hash = stored ?? this.dummyHash;
    const [scheme] = hash.split('$', 1);
    if (scheme === HMAC_SCHEME) return { ok: this.matches(secret, hash), needsRehash: false };
    if (scheme === 'scrypt') return { ok: await this.legacyMatches(secret, hash), needsRehash: true };
    return { ok: false, needsRehash: false };
  }

  private mac(secret: string): Buffer {
    return createHmac('sha256', this.pepper).update(secret, 'utf8').digest();
  }

  private matches(secret: string, stored: string): boolean {
    const expected = Buffer.from(stored.slice(HMAC_SCHEME.length + 1), 'base64');
    const actual = this.mac(secret);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }

  private async legacyMatches(secret: string, stored: string): Promise<boolean> {
    const [, n, r, p, salt, hash] = stored.split('$');
    if (!salt || !hash) return false;
    await this.legacySlot();
    try {
      const expected = Buffer.from(hash, 'base64');
      const actual = await new Promise<Buffer>((resolve, reject) =>
        scrypt(
          secret,
          Buffer.from(salt, 'base64'),
          SCRYPT_KEYLEN,
          { N: Number(n), r: Number(r), p: Number(p), maxmem: 64 * 1024 * 1024 },
          (err, key) => (err ? reject(err) : resolve(key)),
        ),
      );
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    } finally {
      this.legacyRunning -= 1;
      this.legacyWaiting.shift()?.();
    }
  }

  private legacySlot(): Promise<void> {
    if (this.legacyRunning < this.maxConcurrentLegacyChecks) {
      this.legacyRunning += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.legacyWaiting.push(() => {
        this.legacyRunning += 1;
        resolve();
      }),
    );
  }
}

/** The scheme of earlier releases, for tests and the migration bench: `scrypt$N$r$p$salt$hash` (RFC 7914 interactive parameters). */
export function legacyScryptHash(secret: string): Promise<string> {
  const salt = randomBytes(16);
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, SCRYPT_KEYLEN, { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(['scrypt', 16384, 8, 1, salt.toString('base64'), key.toString('base64')].join('$')),
    ),
  );
}
