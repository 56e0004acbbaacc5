import type { Person, PeopleStore, SessionRecord } from '@dustwatch/core';
import { PgDatabase } from './pg';

const PERSON = 'name, display_name AS "displayName", role, created_at AS "createdAt", disabled_at AS "disabledAt"';

/** People and sessions on PostgreSQL; every value a bound parameter. */
export class PgPeopleStore implements PeopleStore {
  constructor(private readonly db: PgDatabase) {}

  async createUser(person: Omit<Person, 'disabledAt'>, passwordHash: string): Promise<boolean> {
    return (
      (await this.db.changes(
        'INSERT INTO users (name, display_name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING',
        [person.name, person.displayName, person.role, passwordHash, person.createdAt],
      )) === 1
    );
  }

  findUser(name: string): Promise<(Person & { passwordHash: string }) | undefined> {
    return this.db.one(`SELECT ${PERSON}, password_hash AS "passwordHash" FROM users WHERE name = $1`, [name]);
  }

  listUsers(): Promise<Person[]> {
    return this.db.rows<Person>(`SELECT ${PERSON} FROM users ORDER BY name`);
  }

  async countUsers(): Promise<number> {
    return (await this.db.one<{ n: number }>('SELECT count(*) AS n FROM users'))!.n;
  }

  async setPassword(name: string, passwordHash: string): Promise<boolean> {
    return (await this.db.changes('UPDATE users SET password_hash = $1 WHERE name = $2', [passwordHash, name])) === 1;
  }

  async setDisabled(name: string, disabledAt: number | null): Promise<boolean> {
    return (await this.db.changes('UPDATE users SET disabled_at = $1 WHERE name = $2', [disabledAt, name])) === 1;
  }

  async createSession(
    tokenHash: string,
    userName: string,
    csrfHash: string,
    createdAt: number,
    expiresAt: number,
  ): Promise<void> {
    await this.db.changes(
      'INSERT INTO sessions (token_hash, user_name, csrf_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)',
      [tokenHash, userName, csrfHash, createdAt, expiresAt],
    );
  }

  findSession(tokenHash: string, now: number): Promise<SessionRecord | undefined> {
    return this.db.one<SessionRecord>(
      `SELECT s.user_name AS "userName", u.display_name AS "displayName", u.role, s.csrf_hash AS "csrfHash", s.expires_at AS "expiresAt"
         FROM sessions s JOIN users u ON u.name = s.user_name
        WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL`,
      [tokenHash, now],
    );
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.db.changes('DELETE FROM sessions WHERE token_hash = $1', [tokenHash]);
  }

  async deleteSessionsOf(userName: string): Promise<void> {
    await this.db.changes('DELETE FROM sessions WHERE user_name = $1', [userName]);
  }

  deleteExpiredSessions(now: number): Promise<number> {
    return this.db.changes('DELETE FROM sessions WHERE expires_at <= $1', [now]);
  }
}
