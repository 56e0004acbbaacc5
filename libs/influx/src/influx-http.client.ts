import { gzip } from 'node:zlib';
import { promisify } from 'node:util';

const gzipAsync = promisify(gzip);

export interface InfluxConnection {
  readonly url: string;
  readonly database: string;
  readonly username?: string;
  readonly password?: string;
  /** InfluxDB 2.x/3 token for the v1-compatible endpoints (`Authorization: Token`, 1.8+). */
  readonly token?: string;
  readonly timeoutMs?: number;
}

/** A write InfluxDB refused. `retryable` false means the batch itself is bad (HTTP 400). */
export class InfluxWriteError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'InfluxWriteError';
  }
}

export class InfluxQueryError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'InfluxQueryError';
  }
}

export interface InfluxSeries {
  readonly name: string;
  readonly tags?: Record<string, string>;
  readonly columns: string[];
  readonly values: unknown[][];
}

/**
 * The InfluxDB adapter. It speaks only the v1 HTTP API (`/write` line protocol, `/query`
 * InfluxQL, `/ping`), which InfluxDB 1.x, 2.x (v1 auth or token, with a DBRP mapping) and
 * 3 Core all serve, so one writer works on every generation, Debian's 1.6.7 included.
 */
export class InfluxHttpClient {
  private readonly base: string;
  private readonly timeoutMs: number;

  constructor(private readonly conn: InfluxConnection) {
    this.base = conn.url.replace(/\/+$/, '');
    this.timeoutMs = conn.timeoutMs ?? 10_000;
  }

  get database(): string {
    return this.conn.database;
  }

  async ping(): Promise<boolean> {
    try {
      const res = await fetch(`${this.base}/ping`, { signal: AbortSignal.timeout(2000) });
      return res.status === 204;
    } catch {
      return false;
    }
  }

  /** Writes line-protocol lines (precision ms) gzip-compressed into a retention policy. */
  async write(lines: readonly string[], retentionPolicy: string): Promise<void> {
    // Level 1: most of gzip's size reduction (line protocol repeats itself) for a fraction of
    // level 6's CPU, which the broker and InfluxDB need on a 2-core machine.
    const body = await gzipAsync(Buffer.from(lines.join('\n'), 'utf8'), { level: 1 });
    const params = new URLSearchParams({ db: this.conn.database, rp: retentionPolicy, precision: 'ms' });
    let res: Response;
    try {
      res = await fetch(`${this.base}/write?${params}`, {
        method: 'POST',
        headers: { ...this.authHeaders(), 'Content-Encoding': 'gzip', 'Content-Type': 'text/plain; charset=utf-8' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new InfluxWriteError(`InfluxDB unreachable: ${describe(error)}`, null, true);
    }
    if (res.status === 204) return;
    const text = (await res.text()).slice(0, 500);
    // 400 = the batch is malformed or partly outside the retention policy: retrying cannot help.
    // Everything else (401/403 misconfig, 404 database dropped, 5xx, 429) may heal: retry.
    throw new InfluxWriteError(`InfluxDB write answered ${res.status}: ${text}`, res.status, res.status !== 400);
  }

  /**
   * Runs InfluxQL statements; throws on a transport error or any statement error. Values from
   * outside go in `bind` ($name in the statement), never into the statement text.
   */
  async query(q: string, bind?: Readonly<Record<string, string | number>>): Promise<InfluxSeries[][]> {
    const params = new URLSearchParams({ db: this.conn.database, epoch: 'ms' });
    let res: Response;
    try {
      res = await fetch(`${this.base}/query?${params}`, {
        method: 'POST',
        headers: { ...this.authHeaders(), 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(bind ? { q, params: JSON.stringify(bind) } : { q }).toString(),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new InfluxQueryError(`InfluxDB unreachable: ${describe(error)}`, null);
    }
    const text = await res.text();
    if (res.status !== 200)
      throw new InfluxQueryError(`InfluxDB query answered ${res.status}: ${text.slice(0, 500)}`, res.status);
    const parsed = JSON.parse(text) as { results?: { error?: string; series?: InfluxSeries[] }[]; error?: string };
    if (parsed.error) throw new InfluxQueryError(parsed.error, res.status);
    const results = parsed.results ?? [];
    const failed = results.find((r) => r.error);
    if (failed) throw new InfluxQueryError(`InfluxQL error: ${failed.error}`, res.status);
    return results.map((r) => r.series ?? []);
  }

  private authHeaders(): Record<string, string> {
    if (this.conn.token) return { Authorization: `Token ${this.conn.token}` };
    if (this.conn.username)
      return {
        Authorization: `Basic ${Buffer.from(`${this.conn.username}:${this.conn.password ?? ''}`).toString('base64')}`,
      };
    return {};
  }
}

function describe(error: unknown): string {
  const e = error as { message?: string; cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(error);
}
