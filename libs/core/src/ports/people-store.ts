import type { Role } from '../auth/roles';

export interface Person {
  readonly name: string;
  readonly displayName: string;
  readonly role: Role;
  readonly createdAt: number;
  readonly disabledAt: number | null;
}

export interface SessionRecord {
  readonly userName: string;
  readonly displayName: string | null;
  readonly role: Role;
  readonly csrfHash: string;
  readonly expiresAt: number;
}

/** People's accounts and their sessions (tokens stored as SHA-256 hashes only). */
export interface PeopleStore {
  createUser(person: Omit<Person, 'disabledAt'>, passwordHash: string): Promise<boolean>;
  findUser(name: string): Promise<(Person & { passwordHash: string }) | undefined>;
  listUsers(): Promise<Person[]>;
  countUsers(): Promise<number>;
  setPassword(name: string, passwordHash: string): Promise<boolean>;
  /** Disabling also ends the person's sessions. */
  setDisabled(name: string, disabledAt: number | null): Promise<boolean>;
  createSession(
    tokenHash: string,
    userName: string,
    csrfHash: string,
    createdAt: number,
    expiresAt: number,
  ): Promise<void>;
  /** The live session of a token hash (an enabled user, not expired at `now`). */
  findSession(tokenHash: string, now: number): Promise<SessionRecord | undefined>;
  deleteSession(tokenHash: string): Promise<void>;
  deleteSessionsOf(userName: string): Promise<void>;
  deleteExpiredSessions(now: number): Promise<number>;
}
