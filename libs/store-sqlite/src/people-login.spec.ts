import { LoginRefused, PasswordHasher, PeopleService } from '@dustwatch/core';
import { PeopleRepository } from './people.repository';
import { tempMainDatabase } from './temp-database';

const clock = { t: Date.parse('2026-11-28T08:00:00Z'), now: () => clock.t };
/** Cheap scrypt parameters: the test is about who gets checked, not about the cost of a check. */
const FAST = { N: 2 ** 10, r: 8, p: 1 };

/** Counts the password checks that really ran. */
class CountingHasher extends PasswordHasher {
  checks = 0;
  override verify(password: string, stored: string, lane?: string): Promise<boolean> {
    this.checks += 1;
    return super.verify(password, stored, lane);
  }
}

describe('people: sign-in throttling under parallel guesses (issue 22)', () => {
  it('counts a guess before its check: 40 parallel guesses for one name get 5 checks, and the person still signs in once the block ends', async () => {
    const temp = await tempMainDatabase();
    try {
      const hasher = new CountingHasher(FAST);
      const people = new PeopleService(new PeopleRepository(temp.main), hasher, clock);
      await people.createUser('wang', 'inspector', 'wang-password-2026');
      const outcomes = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          people.login('wang', `guess-${i}-xxxxxx`, '10.0.0.9').then(
            () => 'signed in',
            (e: LoginRefused) => e.message,
          ),
        ),
      );
      // The name's throttle: 4 free failures, the 5th blocks (5 s) — every later one is refused unchecked.
      expect(hasher.checks).toBe(5);
      expect(outcomes.filter((o) => o === 'wrong name or password')).toHaveLength(5);
      expect(outcomes.filter((o) => o === 'too many failed logins: try again later')).toHaveLength(35);
      clock.t += 5_000;
      const login = await people.login('wang', 'wang-password-2026', '10.0.0.8');
      expect(login.person.name).toBe('wang');
      expect(hasher.checks).toBe(6);
    } finally {
      temp.dispose();
    }
  });

  it('serves waiting checks one address after another: a burst from one address delays another person by one check, not by the burst', async () => {
    const hasher = new PasswordHasher(FAST, 1);
    const stored = await hasher.hash('right-password-1');
    const finished: string[] = [];
    const burst = Array.from({ length: 20 }, (_, i) =>
      hasher.verify(`guess-${i}`, stored, '10.0.0.9').then(() => finished.push('burst')),
    );
    const other = hasher.verify('right-password-1', stored, '10.0.0.7').then((ok) => finished.push(`other ${ok}`));
    await Promise.all([...burst, other]);
    // One check was running when the burst queued; the other address's check is served right after it.
    expect(finished.indexOf('other true')).toBe(2);
  });
});
