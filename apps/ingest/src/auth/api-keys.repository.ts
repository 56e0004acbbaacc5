import { createHash, randomBytes } from 'node:crypto';
import { Db } from '../core/sqlite';
import { Principal, Role } from './roles';

export interface ApiKeyRecord {
  id: number;
  name: string;
  role: Role;
  createdAt: string;
  revokedAt: string | null;
}

/** Keys are 192 random bits, so a plain SHA-256 is enough to store them (no password stretching needed). */
export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');

const COLUMNS = "id, name, role, strftime('%Y-%m-%dT%H:%M:%fZ', created_at / 1000.0, 'unixepoch') AS createdAt, CASE WHEN revoked_at IS NULL THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%fZ', revoked_at / 1000.0, 'unixepoch') END AS revokedAt";

/** API keys with roles, stored as hashes; the key itself is shown once, at creation. */
export class ApiKeysRepository {
  constructor(private readonly db: Db) {}

  create(name: string, role: Role, now: number): { record: ApiKeyRecord; key: string } | null {
    const key = `dwk_${randomBytes(24).toString('base64url')}`;
    const result = this.db.prepare('INSERT INTO api_keys (name, role, key_hash, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO NOTHING').run(name, role, hashApiKey(key), now);
    if (result.changes === 0) return null;
    return { record: this.db.prepare(`SELECT ${COLUMNS} FROM api_keys WHERE id = ?`).get(result.lastInsertRowid) as ApiKeyRecord, key };
  }

  list(): ApiKeyRecord[] {
    return this.db.prepare(`SELECT ${COLUMNS} FROM api_keys ORDER BY id`).all() as ApiKeyRecord[];
  }

  revoke(id: number, now: number): boolean {
    return this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, id).changes === 1;
  }

  /** The live key's principal, or undefined for an unknown or revoked key. */
  principalOf(key: string): Principal | undefined {
    return this.db.prepare('SELECT name, role FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL').get(hashApiKey(key)) as Principal | undefined;
  }
}
