import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Clock } from '../kernel/clock';
import { Principal, ROLES, Role } from './roles';

export const STREAM_TOKEN_TTL_MS = 5 * 60_000;

/**
 * Short-lived tokens for the SSE stream, whose browser client (EventSource) cannot send headers:
 * an API key in a URL ends up in proxies' access logs and browser history; a token that opens
 * streams for five minutes is worth little there. Stateless (HMAC under a key made at start-up),
 * so a restart invalidates them all — clients fetch a new one when a reconnect is refused.
 */
export class StreamTokens {
  private readonly key = randomBytes(32);

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs = STREAM_TOKEN_TTL_MS,
  ) {}

  issue(principal: Principal): { token: string; expiresAt: string } {
    const expiresAt = this.clock.now() + this.ttlMs;
    const body = Buffer.from(JSON.stringify({ n: principal.name, r: principal.role, e: expiresAt })).toString(
      'base64url',
    );
    return { token: `${body}.${this.sign(body)}`, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** The principal a token was issued to, or undefined when it is forged, damaged or expired. */
  verify(token: string): Principal | undefined {
    const [body, signature, extra] = token.split('.');
    if (!body || !signature || extra !== undefined || token.length > 512) return undefined;
    const expected = Buffer.from(this.sign(body));
    const actual = Buffer.from(signature);
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return undefined;
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { n: string; r: Role; e: number };
    if (!(claims.e > this.clock.now()) || !ROLES.includes(claims.r)) return undefined;
    return { name: claims.n, role: claims.r };
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
