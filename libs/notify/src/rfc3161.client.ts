import { randomBytes } from 'node:crypto';
import { TimestampAuthority } from '@dustwatch/core';
import { parseTimestampResponse, timestampRequest } from '@dustwatch/integrity';

/** A TSA's answer is a few KB (the token and the TSA's certificate); more is refused. */
const MAX_RESPONSE_BYTES = 64 * 1024;
const TIMEOUT_MS = 10_000;

/** RFC 3161 over HTTP (§3.4): POST application/timestamp-query, answer application/timestamp-reply. */
export class Rfc3161Client implements TimestampAuthority {
  constructor(readonly url: string) {}

  async stamp(digest: Uint8Array): Promise<Uint8Array> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query' },
      body: timestampRequest(digest, randomBytes(8)),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!res.ok) throw new Error(`TSA answered HTTP ${res.status}`);
    const body = new Uint8Array(await res.arrayBuffer());
    if (body.length > MAX_RESPONSE_BYTES) throw new Error(`TSA answer of ${body.length} bytes is too large`);
    const { granted, status, token } = parseTimestampResponse(body);
    if (!granted || !token) throw new Error(`TSA refused: PKIStatus ${status}`);
    return token;
  }
}
