import { ApiKeyRecord, ApiKeyStore, Principal, Role } from '@dustwatch/core';
import { Db, QueuedDb } from './sqlite';

const COLUMNS =
  "id, name, role, strftime('%Y-%m-%dT%H:%M:%fZ', created_at / 1000.0, 'unixepoch') AS createdAt, CASE WHEN revoked_at IS NULL THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%fZ', revoked_at / 1000.0, 'unixepoch') END AS revokedAt";

/** API keys with roles, stored as hashes; the key itself is shown once, at creation. */
export class ApiKeysRepository implements ApiKeyStore {
  private readonly db: Db;

  constructor(private readonly main: QueuedDb) {
    this.db = main.db;
  }

  async create(name: string, role: Role, keyHash: string, now: number): Promise<ApiKeyRecord | null> {
    return this.main.writes.run(async () => {
      const result = this.db
        .prepare(
          'INSERT INTO api_keys (name, role, key_hash, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO NOTHING',
        )
        .run(name, role, keyHash, now);
      if (result.changes === 0) return null;
      return this.db
        .prepare(`SELECT ${COLUMNS} FROM api_keys WHERE id = ?`)
        .get(result.lastInsertRowid) as ApiKeyRecord;
    });
  }

  async list(): Promise<ApiKeyRecord[]> {
    return this.db.prepare(`SELECT ${COLUMNS} FROM api_keys ORDER BY id`).all() as ApiKeyRecord[];
  }

  async revoke(id: number, now: number): Promise<boolean> {
    return this.main.writes.run(async () => {
      return (
        this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, id)
          .changes === 1
      );
    });
  }

  /** The live key's principal, or undefined for an unknown or revoked key. */
  async principalOf(keyHash: string): Promise<Principal | undefined> {
    return this.db.prepare('SELECT name, role FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL').get(keyHash) as
      Principal | undefined;
  }
}
