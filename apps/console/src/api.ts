import type { Alert, Schemas } from './model';

/**
 * The service's API, same origin. A person's session is an httpOnly cookie the browser sends by
 * itself; the CSRF token from the sign-in goes back in X-CSRF-Token on every change
 * (docs/people.md). Every tab fetches it from GET /api/session on load (a second tab, a restored
 * session or a link from a WeCom message has no sign-in of its own) and keeps it in sessionStorage.
 */
const CSRF_KEY = 'dustwatch.csrf';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Seconds to wait, from a 429's Retry-After. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const csrf = sessionStorage.getItem(CSRF_KEY);
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const data = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const retryAfter = Number(res.headers.get('retry-after'));
    throw new ApiError(
      res.status,
      (data as { message?: string } | undefined)?.message ?? res.statusText,
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null,
    );
  }
  return data as T;
}

export type Me = Pick<Schemas['SessionResponse'], 'name' | 'role'>;

export const api = {
  async signIn(name: string, password: string): Promise<Me> {
    const me = await call<Schemas['SessionResponse']>('POST', '/api/session', { name, password });
    sessionStorage.setItem(CSRF_KEY, me.csrfToken ?? '');
    return { name: me.name, role: me.role };
  },
  async signOut(): Promise<void> {
    await call('DELETE', '/api/session');
    sessionStorage.removeItem(CSRF_KEY);
  },
  async me(): Promise<Me> {
    const me = await call<Schemas['SessionResponse']>('GET', '/api/session');
    if (me.csrfToken) sessionStorage.setItem(CSRF_KEY, me.csrfToken);
    return { name: me.name, role: me.role };
  },
  /** The whole work list, a page of 500 (the API's maximum) at a time. */
  async workList(): Promise<Alert[]> {
    const items: Alert[] = [];
    for (;;) {
      const page = await call<Schemas['AlertListResponse']>('GET', `/api/alerts?limit=500&offset=${items.length}`);
      items.push(...page.items);
      if (page.items.length === 0 || items.length >= page.total) return items;
    }
  },
  alert: (id: number): Promise<Schemas['AlertDetailResponse']> => call('GET', `/api/alerts/${id}`),
  acknowledge: (id: number, note?: string): Promise<Alert> =>
    call('POST', `/api/alerts/${id}/acknowledge`, note ? { note } : {}),
  close: (id: number, note: string): Promise<Alert> => call('POST', `/api/alerts/${id}/close`, { note }),
};
