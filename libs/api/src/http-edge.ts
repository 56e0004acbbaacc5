import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { json } from 'express';
import helmet from 'helmet';
import { STATUS_CODES } from 'node:http';
import { parse as parseCookies } from 'cookie';
import {
  ApiKeyAuthenticator,
  Clock,
  FailureThrottle,
  IngestMetrics,
  PER_ADDRESS_BACKOFF,
  PeopleService,
  Principal,
  StreamTokens,
  equalSecrets,
} from '@dustwatch/core';

export type AuthenticatedRequest = Request & { principal?: Principal };

/** Bodies every route may have; the fleet import is the one large document, for admins only. */
export const BODY_LIMIT_BYTES = 64 * 1024;
export const FLEET_IMPORT_LIMIT_BYTES = 20 * 1024 * 1024;
const LARGE_BODY_ROUTES: ReadonlySet<string> = new Set(['/api/fleet/import']);
/** Deeper JSON than any request of this API needs is refused before a handler walks it. */
export const MAX_JSON_DEPTH = 32;
const STREAM_PATH = '/api/alerts/stream';
/** EMQX 5's HTTP authentication and authorisation (docs/cluster.md). */
export const BROKER_HOOK_PREFIX = '/api/broker/';
const PUBLIC_API_PREFIX = '/api/docs';
/** People's browser session (httpOnly, SameSite=Strict); machines use API keys. */
export const SESSION_COOKIE = 'dw_session';
export const CSRF_HEADER = 'x-csrf-token';
/** The login: the one /api route without credentials (PeopleService throttles it). */
export const LOGIN_PATH = '/api/session';
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The key from `x-api-key` or `Authorization: Bearer <key>`. */
export function apiKeyOf(req: Request): string | undefined {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  return /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
}

/** The path as Express routes it: case-insensitive, a trailing slash ignored. */
const routePath = (req: Request): string => req.path.toLowerCase().replace(/\/+$/, '');

/** Iterative, so a 50,000-deep document cannot overflow the stack while it is measured. */
export function jsonDepthExceeds(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

interface EdgeDeps {
  readonly apiKeys: ApiKeyAuthenticator;
  readonly streamTokens: StreamTokens;
  readonly people: PeopleService;
  readonly metrics: IngestMetrics;
  readonly clock: Clock;
  /** EMQX's hooks (POST /api/broker/...) authenticate with this secret, not an API key; unset, they are refused. */
  readonly brokerHookSecret?: string;
}

/**
 * What happens to an HTTP request before Nest routes it, in this order:
 * 1. helmet's security headers (and no `X-Powered-By`);
 * 2. authentication of every /api request from its headers alone — an API key, a stream token,
 *    or a person's session cookie (whose state-changing requests must also carry the session's
 *    CSRF token in X-CSRF-Token) — a request without valid credentials is answered 401 before
 *    one byte of its body is read, and its connection closed; failures are throttled per
 *    address (429 with Retry-After). Only the login (POST /api/session) passes without;
 * 3. the JSON body, limited per route and role (64 KiB; 20 MiB for an admin's fleet import),
 *    refused 413 past it, 400 when malformed or nested deeper than 32.
 * It has to be Express middleware: Nest's guards run after body parsing. Roles stay with the
 * guard (ApiKeyGuard), which reads the principal set here.
 */
export function installHttpEdge(app: INestApplication, deps: EdgeDeps): void {
  // The embedded default serves plain HTTP (on a LAN, an IP address): `upgrade-insecure-requests`
  // would send the OpenAPI page's (and the console's) own scripts to an https:// that is not there.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  app.use(authenticate(deps));
  const small = json({ limit: BODY_LIMIT_BYTES });
  const large = json({ limit: FLEET_IMPORT_LIMIT_BYTES });
  app.use((req: AuthenticatedRequest, res: Response, next: NextFunction) => {
    const isLarge = LARGE_BODY_ROUTES.has(routePath(req)) && req.principal?.role === 'admin';
    // body-parser would read (and discard) a too-long body before answering; the announced
    // length is enough to say no, and closing the connection spares reading it.
    if (Number(req.headers['content-length'] ?? 0) > (isLarge ? FLEET_IMPORT_LIMIT_BYTES : BODY_LIMIT_BYTES)) {
      res.setHeader('Connection', 'close');
      return refuse(res, deps.metrics, 413, 'payload_too_large', 'request body is larger than this route accepts');
    }
    (isLarge ? large : small)(req, res, next);
  });
  app.use((req: Request, res: Response, next: NextFunction) =>
    jsonDepthExceeds(req.body, MAX_JSON_DEPTH)
      ? refuse(res, deps.metrics, 400, 'too_deep', `JSON nested deeper than ${MAX_JSON_DEPTH} levels`)
      : next(),
  );
  app.use(bodyErrors(deps.metrics));
}

/** Answers like Nest's own HTTP exceptions (`error` is the status text); the metric gets the reason. */
function refuse(res: Response, metrics: IngestMetrics, status: number, reason: string, message: string): void {
  metrics.httpErrors.inc({ status: String(status), reason });
  res.status(status).json({ statusCode: status, error: STATUS_CODES[status], message });
}

function authenticate({ apiKeys, streamTokens, people, metrics, clock, brokerHookSecret }: EdgeDeps): RequestHandler {
  const failures = new FailureThrottle(clock, PER_ADDRESS_BACKOFF);
  return (req: AuthenticatedRequest, res: Response, next: NextFunction) => {
    const path = routePath(req);
    if (!path.startsWith('/api/') || path.startsWith(PUBLIC_API_PREFIX)) return next();
    const address = req.socket.remoteAddress ?? 'unknown';
    const blocked = failures.blockedFor(address);
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    // Answer without reading the body; closing the connection keeps Node from draining it.
    const stop = (status: number, reason: string, message: string): void => {
      if (hasBody) res.setHeader('Connection', 'close');
      refuse(res, metrics, status, reason, message);
    };
    if (blocked > 0) {
      res.setHeader('Retry-After', String(Math.ceil(blocked / 1000)));
      return stop(429, 'throttled', 'too many failed authentications from this address: try later');
    }
    if (path === LOGIN_PATH && req.method === 'POST') return next();
    const key = apiKeyOf(req);
    if (path.startsWith(BROKER_HOOK_PREFIX)) {
      if (brokerHookSecret !== undefined && key !== undefined && equalSecrets(key, brokerHookSecret)) return next();
      failures.failure(address);
      return stop(401, 'unauthorized', 'broker hooks need the hook secret as Authorization: Bearer');
    }
    const token = path === STREAM_PATH && typeof req.query['token'] === 'string' ? req.query['token'] : undefined;
    const session =
      key === undefined && token === undefined ? parseCookies(req.headers.cookie ?? '')[SESSION_COOKIE] : undefined;
    if (key === undefined && token === undefined && !session)
      return stop(401, 'unauthorized', 'sign in, or send an API key as x-api-key or Authorization: Bearer');
    const csrf = req.headers[CSRF_HEADER];
    const resolved: Promise<{ principal: Principal | undefined; csrfOk: boolean; what: string }> =
      key !== undefined
        ? apiKeys
            .principalOf(key)
            .then((principal) => ({ principal, csrfOk: true, what: 'invalid or revoked API key' }))
        : token !== undefined
          ? Promise.resolve({
              principal: streamTokens.verify(token),
              csrfOk: true,
              what: 'invalid or expired stream token',
            })
          : people.sessionOf(session as string, typeof csrf === 'string' ? csrf : undefined).then((s) => ({
              principal: s?.principal,
              csrfOk: s?.csrfOk ?? false,
              what: 'session expired: sign in again',
            }));
    resolved.then(
      ({ principal, csrfOk, what }) => {
        if (!principal) {
          // An expired session is no attack (and a 256-bit token no guess): only keys count.
          if (session === undefined) failures.failure(address);
          return stop(401, 'unauthorized', what);
        }
        // A cookie comes with every request the browser makes; only the page holds the CSRF token.
        if (!csrfOk && !SAFE_METHODS.has(req.method))
          return stop(
            403,
            'csrf',
            `a signed-in request that changes something needs the session's ${CSRF_HEADER} header`,
          );
        req.principal = principal;
        next();
      },
      (error: Error) => next(error),
    );
  };
}

/** body-parser's errors carry a status and a type; Express's default handler would print a stack. */
function bodyErrors(metrics: IngestMetrics) {
  return (error: Error & { status?: number; type?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (error.type === undefined || error.status === undefined || error.status >= 500) return next(error);
    if (error.type === 'entity.too.large')
      // chunked bodies have no announced length
      return refuse(res, metrics, 413, 'payload_too_large', 'request body is larger than this route accepts');
    refuse(
      res,
      metrics,
      error.status,
      'invalid_body',
      error.type === 'entity.parse.failed' ? 'body is not valid JSON' : error.message,
    );
  };
}
