import type { Person, PeopleStore, SessionRecord } from '@dustwatch/core';
import { QueuedDb } from './sqlite';

const PERSON = 'name, display_name AS displayName, role, created_at AS createdAt, disabled_at AS disabledAt';

/** People and sessions on the main database; every value a bound parameter. */
export class PeopleRepository implements PeopleStore {
  constructor(private readonly main: QueuedDb) {}

  private write<T>(work: () => T): Promise<T> {
    return this.main.writes.run(work);
  }

  createUser(person: Omit<Person, 'disabledAt'>, passwordHash: string): Promise<boolean> {
    return this.write(
      () =>
        this.main.db
          .prepare(
            'INSERT INTO users (name, display_name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
          )
          .run(person.name, person.displayName, person.role, passwordHash, person.createdAt).changes === 1,
    );
  }

  async findUser(name: string): Promise<(Person & { passwordHash: string }) | undefined> {
    return this.main.db
      .prepare(`SELECT ${PERSON}, password_hash AS passwordHash FROM users WHERE name = ?`)
      .get(name) as (Person & { passwordHash: string }) | undefined;
  }

  async listUsers(): Promise<Person[]> {
    return this.main.db.prepare(`SELECT ${PERSON} FROM users ORDER BY name`).all() as Person[];
  }

  async countUsers(): Promise<number> {
    return this.main.db.prepare('SELECT count(*) FROM users').pluck().get() as number;
  }

  setPassword(name: string, passwordHash: string): Promise<boolean> {
    return this.write(
      () =>
        this.main.db.prepare('UPDATE users SET password_hash = ? WHERE name = ?').run(passwordHash, name).changes === 1,
    );
  }

  setDisabled(name: string, disabledAt: number | null): Promise<boolean> {
    return this.write(
      () => this.main.db.prepare('UPDATE users SET disabled_at = ? WHERE name = ?').run(disabledAt, name).changes === 1,
    );
  }

  createSession(
    tokenHash: string,
    userName: string,
    csrfHash: string,
    createdAt: number,
    expiresAt: number,
  ): Promise<void> {
    return this.write(() => {
      this.main.db
        .prepare(
          'INSERT INTO sessions (token_hash, user_name, csrf_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
        )
        .run(tokenHash, userName, csrfHash, createdAt, expiresAt);
    });
  }

  async findSession(tokenHash: string, now: number): Promise<SessionRecord | undefined> {
    return this.main.db
      .prepare(
        `SELECT s.user_name AS userName, u.display_name AS displayName, u.role, s.csrf_hash AS csrfHash, s.expires_at AS expiresAt
           FROM sessions s JOIN users u ON u.name = s.user_name
          WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled_at IS NULL`,
      )
      .get(tokenHash, now) as SessionRecord | undefined;
  }

  deleteSession(tokenHash: string): Promise<void> {
    return this.write(() => {
      this.main.db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(tokenHash);
    });
  }

  deleteSessionsOf(userName: string): Promise<void> {
    return this.write(() => {
      this.main.db.prepare('DELETE FROM sessions WHERE user_name = ?').run(userName);
    });
  }

  deleteExpiredSessions(now: number): Promise<number> {
    return this.write(() => this.main.db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now).changes);
  }
}
