import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Clock } from '../kernel/clock';
import { CredentialEnds, ownerOf } from './credential-ends';
import { Principal, ROLES, Role } from './roles';

export const STREAM_TOKEN_TTL_MS = 5 * 60_000;

interface Claims {
  /** name, role, expiry, credential kind and id */
  n: string;
  r: Role;
  e: number;
  k?: 'session' | 'key';
  c?: string;
}

/**
 * Short-lived tokens for the SSE stream, whose browser client (EventSource) cannot send headers:
 * an API key in a URL ends up in proxies' access logs and browser history; a token that opens
 * streams for five minutes is worth little there. Stateless (HMAC under a key made at start-up),
 * so a restart invalidates them all — clients fetch a new one when a reconnect is refused. A
 * token dies with the credential that fetched it: the ends of the last TTL are kept, and a token
 * issued before its session's or owner's end is refused.
 */
export class StreamTokens {
  private readonly key = randomBytes(32);
  /** `person:wang`, `key:ops` or `session:<id>` → when it ended; kept one TTL, as long as a token lives. */
  private readonly ended = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    ends: CredentialEnds,
    private readonly ttlMs = STREAM_TOKEN_TTL_MS,
  ) {
    ends.on((end) => {
      const now = this.clock.now();
      for (const [what, at] of this.ended) if (at <= now - this.ttlMs) this.ended.delete(what);
      this.ended.set(end.credential === undefined ? end.owner : `session:${end.credential}`, now);
    });
  }

  issue(principal: Principal): { token: string; expiresAt: string } {
    const expiresAt = this.clock.now() + this.ttlMs;
    const claims: Claims = {
      n: principal.name,
      r: principal.role,
      e: expiresAt,
      k: principal.credential?.kind,
      c: principal.credential?.id,
    };
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return { token: `${body}.${this.sign(body)}`, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** The principal a token was issued to, or undefined when it is forged, damaged, expired or its credential ended. */
  verify(token: string): Principal | undefined {
    const [body, signature, extra] = token.split('.');
    if (!body || !signature || extra !== undefined || token.length > 512) return undefined;
    const expected = Buffer.from(this.sign(body));
    const actual = Buffer.from(signature);
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return undefined;
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Claims;
    if (!(claims.e > this.clock.now()) || !ROLES.includes(claims.r)) return undefined;
    const principal: Principal = {
      name: claims.n,
      role: claims.r,
      ...(claims.k && claims.c ? { credential: { kind: claims.k, id: claims.c } } : {}),
    };
    const issuedAt = claims.e - this.ttlMs;
    const ends = [this.ended.get(ownerOf(principal)), claims.c ? this.ended.get(`session:${claims.c}`) : undefined];
    if (ends.some((at) => at !== undefined && at >= issuedAt)) return undefined;
    return principal;
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
