import { timingSafeEqual } from 'node:crypto';
import { ApiKeysRepository, hashApiKey } from './api-keys.repository';
import { Principal } from './roles';

/**
 * Resolves an API key to its holder, for HTTP (ApiKeyGuard) and MQTT alert subscribers alike.
 * The configured admin key (DUSTWATCH_ADMIN_API_KEY) is the bootstrap admin; other keys live in SQLite.
 */
export class ApiKeyAuthenticator {
  private readonly adminHash: Buffer;

  constructor(adminApiKey: string, private readonly keys: ApiKeysRepository) {
    this.adminHash = Buffer.from(hashApiKey(adminApiKey), 'hex');
  }

  principalOf(key: string): Principal | undefined {
    // Compare digests in constant time, so neither length nor content of the admin key leaks.
    if (timingSafeEqual(Buffer.from(hashApiKey(key), 'hex'), this.adminHash)) return { name: 'admin', role: 'admin' };
    return this.keys.principalOf(key);
  }
}
