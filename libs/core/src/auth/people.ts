import { createHash, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { ID_PATTERN, controlCharacterIn } from '@dustwatch/telemetry';
import { Clock } from '../kernel/clock';
import { ConflictError, InvalidInputError, NotFoundError } from '../kernel/errors';
import { Person, PeopleStore } from '../ports/people-store';
import { CredentialEnds } from './credential-ends';
import { FailureThrottle, PER_ADDRESS_BACKOFF } from './failure-throttle';
import { Principal, ROLES, Role } from './roles';

/**
 * Passwords of people (not devices, not machines): scrypt, the memory-hard KDF of RFC 7914 that
 * Node's crypto ships, with OWASP's minimum parameters (N = 2^17, r = 8, p = 1: ~0.4 s and
 * 128 MiB here). People log in a few times a day; a slow hash is what makes a stolen database's
 * passwords expensive to guess. At most two run at once, so a burst of logins cannot take the
 * whole libuv pool (the InfluxDB writer's gzip needs it) — failures are throttled before that.
 */
export class PasswordHasher {
  private running = 0;
  /** Lane → its waiting checks. */
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(
    private readonly params = { N: 2 ** 17, r: 8, p: 1 },
    private readonly maxConcurrent = 2,
  ) {}

  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const key = await this.derive(password, salt, this.params);
    const { N, r, p } = this.params;
    return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
  }

  /** `lane`: who asks (the source address); waiting checks are served one lane after another. */
  async verify(password: string, stored: string, lane = ''): Promise<boolean> {
    const [scheme, n, r, p, salt, hash] = stored.split('$');
    if (scheme !== 'scrypt' || !hash) return false;
    const expected = Buffer.from(hash, 'base64');
    const key = await this.derive(
      password,
      Buffer.from(salt, 'base64'),
      { N: Number(n), r: Number(r), p: Number(p) },
      lane,
    );
    return key.length === expected.length && timingSafeEqual(key, expected);
  }

  private async derive(
    password: string,
    salt: Buffer,
    params: { N: number; r: number; p: number },
    lane = '',
  ): Promise<Buffer> {
    if (this.running >= this.maxConcurrent) await this.waitInLane(lane);
    else this.running += 1;
    try {
      return await new Promise<Buffer>((resolve, reject) =>
        scrypt(password, salt, 32, { ...params, maxmem: 256 * params.N * params.r }, (error, key) =>
          error ? reject(error) : resolve(key),
        ),
      );
    } finally {
      this.next();
    }
  }

  /**
   * Round robin over lanes: one first-come queue let a burst of 200 guesses from one address
   * delay another person's sign-in by 34.9 s; now a check waits for at most one per other lane.
   */
  private waitInLane(lane: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const queue = this.waiting.get(lane);
      if (queue) queue.push(resolve);
      else this.waiting.set(lane, [resolve]);
    });
  }

  /** A finished check hands its slot to the first waiter of the next lane (Map order: the lane served longest ago). */
  private next(): void {
    const entry = this.waiting.entries().next();
    if (entry.done) {
      this.running -= 1;
      return;
    }
    const [lane, queue] = entry.value;
    const resolve = queue.shift()!;
    this.waiting.delete(lane);
    if (queue.length > 0) this.waiting.set(lane, queue); // to the back of the round
    resolve(); // the slot passes on: running stays the same
  }
}

export const MIN_PASSWORD_LENGTH = 10;
/** A work day: an inspector logs in in the morning; a phone left logged in does not stay so for a week. */
export const SESSION_HOURS = 12;
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
/** A session's id for streams and stream tokens: not the stored hash (a token's payload is readable in a URL). */
const credentialIdOf = (token: string): string =>
  createHash('sha256').update('dustwatch-stream-credential-v1').update(token).digest('base64url').slice(0, 22);

export interface LoginResult {
  readonly token: string;
  readonly csrfToken: string;
  readonly person: Person;
  readonly expiresAt: number;
}

export class LoginRefused extends Error {
  constructor(
    message: string,
    readonly retryAfterMs = 0,
  ) {
    super(message);
  }
}

/**
 * People's accounts (admin, inspector, viewer) and their browser sessions. A session is a random
 * token in an httpOnly, SameSite=Strict cookie plus a CSRF token the page sends back in a header
 * on every state-changing request; both are stored only as SHA-256 hashes. Failed logins are
 * throttled per address and per name (exponential back-off), with one generic message.
 */
export class PeopleService {
  private readonly byAddress: FailureThrottle;
  private readonly byName: FailureThrottle;
  private dummyHash: Promise<string> | null = null;

  constructor(
    private readonly store: PeopleStore,
    private readonly hasher: PasswordHasher,
    private readonly clock: Clock,
    /** Told when sessions end, so their streams and stream tokens end with them (the CLI has none: nobody listens). */
    private readonly ends = new CredentialEnds(),
  ) {
    this.byAddress = new FailureThrottle(clock, PER_ADDRESS_BACKOFF);
    // A person's name: 4 free failures, then 5 s doubling to 15 minutes (a guessed name, from many addresses).
    this.byName = new FailureThrottle(clock, {
      ...PER_ADDRESS_BACKOFF,
      freeFailures: 4,
      baseBlockMs: 5_000,
      maxBlockMs: 900_000,
      forgetAfterMs: 900_000,
    });
  }

  async createUser(name: string, role: Role, password: string, displayName?: string): Promise<Person> {
    const problems: string[] = [];
    if (!ID_PATTERN.test(name)) problems.push(`name must match ${ID_PATTERN.source}`);
    if (!ROLES.includes(role)) problems.push(`role must be one of ${ROLES.join(', ')}`);
    problems.push(...passwordProblems(password));
    if (displayName !== undefined && (displayName.length === 0 || displayName.length > 64))
      problems.push('displayName must be 1 to 64 characters');
    const control = displayName === undefined ? null : controlCharacterIn(displayName);
    if (control) problems.push(`displayName must not hold control or bidi characters (found ${control})`);
    if (problems.length) throw new InvalidInputError('invalid user', problems);
    const person = { name, displayName: displayName ?? name, role, createdAt: this.clock.now() };
    if (!(await this.store.createUser(person, await this.hasher.hash(password))))
      throw new ConflictError(`a user named ${name} exists already`);
    return { ...person, disabledAt: null };
  }

  listUsers(): Promise<Person[]> {
    return this.store.listUsers();
  }

  countUsers(): Promise<number> {
    return this.store.countUsers();
  }

  async setPassword(name: string, password: string): Promise<void> {
    const problems = passwordProblems(password);
    if (problems.length) throw new InvalidInputError('invalid password', problems);
    if (!(await this.store.setPassword(name, await this.hasher.hash(password))))
      throw new NotFoundError(`no user named ${name}`);
    await this.store.deleteSessionsOf(name); // a new password logs the old sessions out
    this.ends.end({ owner: `person:${name}` });
  }

  async setDisabled(name: string, disabled: boolean): Promise<void> {
    if (!(await this.store.setDisabled(name, disabled ? this.clock.now() : null)))
      throw new NotFoundError(`no user named ${name}`);
    if (!disabled) return;
    await this.store.deleteSessionsOf(name);
    this.ends.end({ owner: `person:${name}` });
  }

  /** Checks the password and opens a session; throws LoginRefused (throttled or wrong) with one message for any wrong credential. */
  async login(name: string, password: string, address: string): Promise<LoginResult> {
    const blocked = Math.max(this.byAddress.blockedFor(address), this.byName.blockedFor(name));
    if (blocked > 0) throw new LoginRefused('too many failed logins: try again later', blocked);
    // Counted as failed before the check (no await in between), refunded on success: parallel
    // guesses see each other's reservations, so 40 at once get 5 checks, not 40 (issue 22).
    this.byAddress.failure(address);
    this.byName.failure(name);
    let person: Awaited<ReturnType<PeopleStore['findUser']>>;
    let ok: boolean;
    try {
      person = ID_PATTERN.test(name) ? await this.store.findUser(name) : undefined;
      // An unknown name costs the same hash as a known one, so timing does not tell names apart.
      ok = await this.hasher.verify(password, person?.passwordHash ?? (await this.dummy()), address);
    } catch (error) {
      this.byAddress.refund(address); // the store failed, not the guess
      this.byName.refund(name);
      throw error;
    }
    if (!person || !ok || person.disabledAt !== null) throw new LoginRefused('wrong name or password');
    this.byAddress.refund(address);
    this.byName.success(person.name);
    const token = randomBytes(32).toString('base64url');
    const csrfToken = this.csrfTokenOf(token);
    const now = this.clock.now();
    const expiresAt = now + SESSION_HOURS * 3_600_000;
    await this.store.createSession(sha256(token), person.name, sha256(csrfToken), now, expiresAt);
    await this.store.deleteExpiredSessions(now);
    const { passwordHash: _hash, ...view } = person;
    return { token, csrfToken, person: view, expiresAt };
  }

  /**
   * A session's CSRF token, derived from its (secret, httpOnly) session token, so every tab of the
   * signed-in person can fetch it with GET /api/session — another origin cannot read that answer
   * (same-origin policy, no CORS) — instead of only the tab that signed in (issue 18).
   */
  csrfTokenOf(sessionToken: string): string {
    return createHmac('sha256', sessionToken).update('dustwatch-csrf-v1').digest('base64url');
  }

  /** The principal of a session token, and whether `csrfToken` is that session's. */
  async sessionOf(token: string, csrfToken?: string): Promise<{ principal: Principal; csrfOk: boolean } | undefined> {
    const session = await this.store.findSession(sha256(token), this.clock.now());
    if (!session) return undefined;
    // Compared as hashes: equal lengths for timingSafeEqual whatever was sent.
    const csrfOk =
      csrfToken !== undefined &&
      timingSafeEqual(Buffer.from(sha256(csrfToken), 'hex'), Buffer.from(sha256(this.csrfTokenOf(token)), 'hex'));
    return {
      principal: {
        name: session.userName,
        role: session.role,
        displayName: session.displayName,
        credential: { kind: 'session', id: credentialIdOf(token) },
      },
      csrfOk,
    };
  }

  async logout(token: string): Promise<void> {
    const session = await this.store.findSession(sha256(token), this.clock.now());
    await this.store.deleteSession(sha256(token));
    if (session) this.ends.end({ owner: `person:${session.userName}`, credential: credentialIdOf(token) });
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= this.hasher.hash(randomBytes(16).toString('base64'));
    return this.dummyHash;
  }
}

function passwordProblems(password: unknown): string[] {
  if (typeof password !== 'string' || password.length < MIN_PASSWORD_LENGTH)
    return [`password must be at least ${MIN_PASSWORD_LENGTH} characters`];
  if (password.length > 256) return ['password must be at most 256 characters'];
  return [];
}
