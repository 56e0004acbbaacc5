/**
 * The two small pieces of RFC 3161 the record needs, in DER by hand (a request is 69 fixed-shape
 * bytes; a full ASN.1 library would be most of the verifier's size): a TimeStampReq for a SHA-256
 * digest, and from a TimeStampResp its status and token. Checking the token's CMS signature is
 * left to OpenSSL (`dustwatch-verify --tsa-ca`), which does it properly; here the token is only
 * checked to be about this digest, and its time read.
 */
const SHA256_ALGORITHM = Buffer.from('300d06096086480165030402010500', 'hex');

/** TimeStampReq { version 1, messageImprint { sha256, digest }, nonce, certReq TRUE } (RFC 3161 §2.4.1). */
export function timestampRequest(digest: Uint8Array, nonce: Uint8Array): Buffer {
  if (digest.length !== 32) throw new Error('a SHA-256 digest has 32 bytes');
  // A positive INTEGER: clear the top bit rather than prefix a zero byte.
  const n = Buffer.from(nonce.subarray(0, 8));
  n[0] &= 0x7f;
  const imprint = Buffer.concat([
    Buffer.of(0x30, SHA256_ALGORITHM.length + 34),
    SHA256_ALGORITHM,
    Buffer.of(0x04, 32),
    digest,
  ]);
  const body = Buffer.concat([
    Buffer.of(0x02, 0x01, 0x01),
    imprint,
    Buffer.of(0x02, n.length),
    n,
    Buffer.of(0x01, 0x01, 0xff),
  ]);
  return Buffer.concat([Buffer.of(0x30, body.length), body]);
}

interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

function tlv(der: Uint8Array, at: number): Tlv {
  if (at + 2 > der.length) throw new Error('truncated DER');
  const tag = der[at];
  let length = der[at + 1];
  let contentStart = at + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4) throw new Error('unsupported DER length');
    length = 0;
    for (let i = 0; i < bytes; i += 1) length = length * 256 + der[at + 2 + i];
    contentStart += bytes;
  }
  const end = contentStart + length;
  if (end > der.length) throw new Error('truncated DER');
  return { tag, start: at, contentStart, end };
}

/** TimeStampResp { status PKIStatusInfo, timeStampToken ContentInfo } (§2.4.2): granted or not, and the token's DER. */
export function parseTimestampResponse(der: Uint8Array): {
  granted: boolean;
  status: number;
  token: Uint8Array | null;
} {
  const outer = tlv(der, 0);
  if (outer.tag !== 0x30) throw new Error('not a TimeStampResp');
  const statusInfo = tlv(der, outer.contentStart);
  const status = tlv(der, statusInfo.contentStart);
  if (statusInfo.tag !== 0x30 || status.tag !== 0x02) throw new Error('not a PKIStatusInfo');
  const value = der.subarray(status.contentStart, status.end).reduce((v, b) => v * 256 + b, 0);
  const token = statusInfo.end < outer.end ? der.subarray(statusInfo.end, tlv(der, statusInfo.end).end) : null;
  return { granted: value === 0 || value === 1, status: value, token: token && Uint8Array.from(token) };
}

/**
 * What a token says about a digest: whether its TSTInfo's messageImprint is that SHA-256 digest,
 * and its genTime. Found by position (the imprint's OCTET STRING after the SHA-256 algorithm, the
 * first GeneralizedTime after it), not by a full CMS parse.
 */
export function inspectTimestampToken(
  token: Uint8Array,
  digest: Uint8Array,
): { matches: boolean; time: number | null } {
  const needle = Buffer.concat([SHA256_ALGORITHM, Buffer.of(0x04, 0x20), digest]);
  const at = Buffer.from(token).indexOf(needle);
  if (at < 0) return { matches: false, time: null };
  const from = at + needle.length;
  for (let i = from; i < token.length - 17; i += 1) {
    if (token[i] !== 0x18) continue;
    const length = token[i + 1];
    const text = Buffer.from(token.subarray(i + 2, i + 2 + length)).toString('latin1');
    const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d+))?Z$/.exec(text);
    if (m)
      return {
        matches: true,
        time: Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0),
      };
  }
  return { matches: true, time: null };
}
