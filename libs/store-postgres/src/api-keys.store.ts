import { ApiKeyRecord, ApiKeyStore, Principal, Role } from '@dustwatch/core';
import { PgDatabase } from './pg';

interface KeyRow {
  id: number;
  name: string;
  role: Role;
  created_at: number;
  revoked_at: number | null;
}

const record = (r: KeyRow): ApiKeyRecord => ({
  id: r.id,
  name: r.name,
  role: r.role,
  createdAt: new Date(r.created_at).toISOString(),
  revokedAt: r.revoked_at === null ? null : new Date(r.revoked_at).toISOString(),
});

/** API keys with roles on PostgreSQL, stored as hashes. */
export class PgApiKeyStore implements ApiKeyStore {
  constructor(private readonly db: PgDatabase) {}

  async create(name: string, role: Role, keyHash: string, now: number): Promise<ApiKeyRecord | null> {
    const row = await this.db.one<KeyRow>(
      `INSERT INTO api_keys (name, role, key_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING
       RETURNING id, name, role, created_at, revoked_at`,
      [name, role, keyHash, now],
    );
    return row ? record(row) : null;
  }

  async list(): Promise<ApiKeyRecord[]> {
    return (await this.db.rows<KeyRow>('SELECT id, name, role, created_at, revoked_at FROM api_keys ORDER BY id')).map(
      record,
    );
  }

  async revoke(id: number, now: number): Promise<boolean> {
    return (
      (await this.db.changes('UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [now, id])) ===
      1
    );
  }

  principalOf(keyHash: string): Promise<Principal | undefined> {
    return this.db.one<Principal>('SELECT name, role FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL', [
      keyHash,
    ]);
  }
}
