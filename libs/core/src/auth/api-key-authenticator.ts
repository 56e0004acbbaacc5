import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConflictError, NotFoundError } from '../kernel/errors';
import { Clock } from '../kernel/clock';
import { ApiKeyRecord, ApiKeyStore } from '../ports/api-key-store';
import { CredentialEnds } from './credential-ends';
import { Principal, Role } from './roles';

/** Keys are 192 random bits, so a plain SHA-256 is enough to store them (no password stretching needed). */
export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/**
 * API keys: issues them and resolves a key to its holder, for HTTP (ApiKeyGuard) and MQTT alert
 * subscribers alike. The configured admin key (DUSTWATCH_ADMIN_API_KEY) is the bootstrap admin;
 * other keys live in the store, hashed.
 */
export class ApiKeyAuthenticator {
  private readonly adminHash: Buffer;

  constructor(
    adminApiKey: string,
    private readonly keys: ApiKeyStore,
    private readonly clock: Clock,
    /** Told when a key is revoked, so its streams and stream tokens end with it. */
    private readonly ends = new CredentialEnds(),
  ) {
    this.adminHash = Buffer.from(hashApiKey(adminApiKey), 'hex');
  }

  async principalOf(key: string): Promise<Principal | undefined> {
    const hash = hashApiKey(key);
    // Compare digests in constant time, so neither length nor content of the admin key leaks.
    const principal = timingSafeEqual(Buffer.from(hash, 'hex'), this.adminHash)
      ? ({ name: 'admin', role: 'admin' } as const)
      : await this.keys.principalOf(hash);
    return principal && { ...principal, credential: { kind: 'key', id: principal.name } };
  }

  /** A new key, shown this once. */
  async create(name: string, role: Role): Promise<ApiKeyRecord & { key: string }> {
    const key = `dwk_${randomBytes(24).toString('base64url')}`;
    const record = await this.keys.create(name, role, hashApiKey(key), this.clock.now());
    if (!record) throw new ConflictError(`an API key named ${name} exists already`);
    return { ...record, key };
  }

  list(): Promise<ApiKeyRecord[]> {
    return this.keys.list();
  }

  async revoke(id: number): Promise<void> {
    const name = (await this.keys.list()).find((k) => k.id === id)?.name;
    if (!(await this.keys.revoke(id, this.clock.now()))) throw new NotFoundError(`no live API key with id ${id}`);
    this.ends.end({ owner: `key:${name}` });
  }
}
