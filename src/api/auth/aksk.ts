import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  canonicalHeaders, canonicalQuery, canonicalRequest, canonicalUris, EMPTY_SHA256, type HeaderBag,
  sha256Hex, splitTarget, stringToSign,
} from './canonical.js';

/** What the verifier needs of an incoming request: everything exactly as received. */
export interface SignedRequest {
  method: string;
  /** The raw request target, e.g. `/v2/p/stats/httpcodes?play_domains=a.com`. */
  url: string;
  /** Header names lower-case (as Node delivers them). */
  headers: HeaderBag;
  /**
   * The raw body bytes; undefined or empty for none. BODY_PENDING before the body is read: the
   * payload hash is then the one the client declared in X-Sdk-Content-Sha256, and without one
   * the result is 'payload-pending' once everything else of the request has passed its checks.
   */
  body: Buffer | undefined | typeof BODY_PENDING;
  /** The body's SHA-256 (hex) when already computed as it arrived; then `body` is not hashed again. */
  bodySha256?: string;
}

/** SignedRequest.body before the body has been read (see verifyAkSk). */
export const BODY_PENDING = Symbol('body pending');

export interface KeyLookup {
  (ak: string): { sk: string; project: string } | undefined;
}

/** Why a signature was refused; for the server log only, never for the client. */
export type AkSkFailure = 'malformed-authorization' | 'bad-date' | 'date-out-of-window' | 'missing-signed-header'
  | 'bad-encoding' | 'payload-hash-mismatch' | 'unknown-ak' | 'bad-signature' | 'payload-pending';

/** `unknownAk` (with 'payload-pending' only): the AK is not known, so no body can make the request valid. */
export type AkSkResult = { ok: true; ak: string; project: string } | { ok: false; reason: AkSkFailure; ak?: string; unknownAk?: boolean };

export const DATE_WINDOW_MS = 15 * 60_000;
const MAX_AUTHORIZATION = 2048;
const AUTHORIZATION = /^SDK-HMAC-SHA256 +Access=([A-Za-z0-9_-]{1,128}), *SignedHeaders=([a-z0-9-]+(?:;[a-z0-9-]+)*), *Signature=([0-9a-f]{64})$/;

export interface ParsedAuthorization {
  ak: string;
  signedHeaders: string[];
  signature: string;
}

/** Parses `SDK-HMAC-SHA256 Access=.., SignedHeaders=.., Signature=..`; signed names (canonical order as listed) must be unique and include host and x-sdk-date. */
export function parseAuthorization(header: string): ParsedAuthorization | undefined {
  if (header.length > MAX_AUTHORIZATION) return undefined;
  const m = AUTHORIZATION.exec(header);
  if (!m) return undefined;
  const [, ak, names, signature] = m;
  if (ak === undefined || names === undefined || signature === undefined) return undefined;
  const signedHeaders = names.split(';');
  if (new Set(signedHeaders).size !== signedHeaders.length || signedHeaders.length > 64) return undefined;
  if (!signedHeaders.includes('host') || !signedHeaders.includes('x-sdk-date')) return undefined;
  return { ak, signedHeaders, signature };
}

/** `YYYYMMDDTHHMMSSZ` (UTC, a real calendar instant) to epoch ms. */
export function parseSdkDate(s: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const t = Date.UTC(y, mo - 1, d, h, mi, se);
  const back = new Date(t);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d
    || back.getUTCHours() !== h || back.getUTCMinutes() !== mi || back.getUTCSeconds() !== se) return undefined;
  return t;
}

const single = (v: string | string[] | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * The payload hash the signer used. `X-Sdk-Content-Sha256`, when sent, must be the real hash
 * of the body; `UNSIGNED-PAYLOAD` is accepted only for requests without a body, so a body
 * is always covered by the signature.
 */
function payloadHash(req: SignedRequest): string | undefined | typeof BODY_PENDING {
  const declared = req.headers['x-sdk-content-sha256'];
  if (req.body === BODY_PENDING) {
    if (declared === undefined) return BODY_PENDING;
    if (declared === 'UNSIGNED-PAYLOAD') return hasNoBody(req.headers) ? declared : undefined;
    return typeof declared === 'string' && /^[0-9a-f]{64}$/.test(declared) ? declared : undefined;
  }
  const actual = req.bodySha256 ?? (req.body && req.body.length > 0 ? sha256Hex(req.body) : EMPTY_SHA256);
  if (declared === undefined) return actual;
  if (declared === 'UNSIGNED-PAYLOAD') return actual === EMPTY_SHA256 ? declared : undefined;
  return declared === actual ? declared : undefined;
}

/** Whether the headers announce no body (no Transfer-Encoding, Content-Length absent or 0). */
const hasNoBody = (h: HeaderBag): boolean =>
  h['transfer-encoding'] === undefined && (h['content-length'] === undefined || h['content-length'] === '0');

const hmacHex = (key: string, data: string): string => createHmac('sha256', key).update(data).digest('hex');
const DUMMY_KEY = randomBytes(30).toString('base64');

/** Verifies an SDK-HMAC-SHA256 signed request against the key store, with the server clock `now`. */
export function verifyAkSk(req: SignedRequest, lookup: KeyLookup, now: number): AkSkResult {
  const auth = single(req.headers.authorization);
  const parsed = auth === undefined ? undefined : parseAuthorization(auth);
  if (!parsed) return { ok: false, reason: 'malformed-authorization' };
  const sdkDate = single(req.headers['x-sdk-date']);
  const at = sdkDate === undefined ? undefined : parseSdkDate(sdkDate);
  if (sdkDate === undefined || at === undefined) return { ok: false, reason: 'bad-date' };
  if (Math.abs(now - at) > DATE_WINDOW_MS) return { ok: false, reason: 'date-out-of-window' };
  const headers = canonicalHeaders(parsed.signedHeaders, req.headers);
  if (headers === undefined) return { ok: false, reason: 'missing-signed-header' };
  const { path, query: rawQuery } = splitTarget(req.url);
  const query = canonicalQuery(rawQuery);
  const uris = canonicalUris(path);
  if (query === undefined || uris.length === 0) return { ok: false, reason: 'bad-encoding' };
  const hash = payloadHash(req);
  if (hash === undefined) return { ok: false, reason: 'payload-hash-mismatch' };
  // Nothing to check the signature against before the body is read: checked once it has been.
  if (hash === BODY_PENDING) return { ok: false, reason: 'payload-pending', unknownAk: lookup(parsed.ak) === undefined };
  const key = lookup(parsed.ak);
  const given = Buffer.from(parsed.signature, 'utf8');
  let match = false;
  for (const uri of uris) {
    const canonical = canonicalRequest({
      method: req.method.toUpperCase(), uri, query, headers, signedHeaders: parsed.signedHeaders.join(';'), payloadHash: hash,
    });
    // An unknown AK still costs one HMAC, so its answer takes as long as a wrong signature.
    const expected = Buffer.from(hmacHex(key?.sk ?? DUMMY_KEY, stringToSign(sdkDate, canonical)), 'utf8');
    if (timingSafeEqual(expected, given)) match = true;
  }
  if (!key) return { ok: false, reason: 'unknown-ak' };
  if (!match) return { ok: false, reason: 'bad-signature', ak: parsed.ak };
  return { ok: true, ak: parsed.ak, project: key.project };
}
