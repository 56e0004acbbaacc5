import { Principal, Role } from '../auth/roles';

export interface ApiKeyRecord {
  id: number;
  name: string;
  role: Role;
  createdAt: string;
  revokedAt: string | null;
}

/** API keys with roles, stored as hashes; the key itself is shown once, at creation. */
export interface ApiKeyStore {
  /** Null when a key of that name exists. */
  create(name: string, role: Role, keyHash: string, now: number): Promise<ApiKeyRecord | null>;
  list(): Promise<ApiKeyRecord[]>;
  revoke(id: number, now: number): Promise<boolean>;
  /** The live key's holder, or undefined for an unknown or revoked key hash. */
  principalOf(keyHash: string): Promise<Principal | undefined>;
}
