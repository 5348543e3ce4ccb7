import { hash } from 'node:crypto';

/**
 * The canonical request of the SDK-HMAC-SHA256 scheme, rebuilt from the request exactly
 * as it was received (raw path, raw query, header values, body bytes). A signer computes
 * it from the request it is about to send; any byte that changes in between changes it.
 */

/** Percent-encodes everything but RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~), UTF-8. */
export function encodeRfc3986(s: string): string {
  // encodeURIComponent keeps ! ' ( ) * as well; the signer encodes them. Throws on lone surrogates.
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

const decodeComponent = (s: string, plusIsSpace: boolean): string | undefined => {
  try {
    return decodeURIComponent(plusIsSpace ? s.replace(/\+/g, ' ') : s);
  } catch {
    return undefined;
  }
};

const encodeSafe = (s: string): string | undefined => {
  try {
    return encodeRfc3986(s);
  } catch {
    return undefined;
  }
};

const withSlash = (p: string): string => (p.endsWith('/') ? p : p + '/');

/**
 * Canonical URI candidates for a raw path. Signers differ in one detail: the Node.js SDK
 * encodes each segment as it appears in the URL (so `%` becomes `%25`), the Python, Java
 * and Go SDKs decode each segment first. Both are functions of the bytes received, and for
 * paths without `%` they are the same string; paths with `%` get both candidates.
 */
export function canonicalUris(rawPath: string): string[] {
  const segments = rawPath.split('/');
  const asSent = segments.map((s) => encodeSafe(s));
  const out = new Set<string>();
  if (asSent.every((s) => s !== undefined)) out.add(withSlash(asSent.join('/')));
  if (rawPath.includes('%')) {
    const decoded = segments.map((s) => {
      const d = decodeComponent(s, false);
      return d === undefined ? undefined : encodeSafe(d);
    });
    if (decoded.every((s) => s !== undefined)) out.add(withSlash(decoded.join('/')));
  }
  return [...out];
}

/**
 * The canonical query string of a raw query (without `?`): keys and values decoded (`+` is a
 * space, as the API handlers read it), keys sorted, a repeated key's values sorted, each
 * `key=value` re-encoded, joined by `&`. Undefined when the query is not valid percent-encoding.
 */
export function canonicalQuery(rawQuery: string): string | undefined {
  const byKey = new Map<string, string[]>();
  for (const part of rawQuery.split('&')) {
    if (part.length === 0) continue;
    const eq = part.indexOf('=');
    const key = decodeComponent(eq < 0 ? part : part.slice(0, eq), true);
    const value = eq < 0 ? '' : decodeComponent(part.slice(eq + 1), true);
    if (key === undefined || value === undefined) return undefined;
    const list = byKey.get(key);
    if (list) list.push(value);
    else byKey.set(key, [value]);
  }
  const pairs: string[] = [];
  for (const key of [...byKey.keys()].sort()) {
    const k = encodeSafe(key);
    if (k === undefined) return undefined;
    for (const value of (byKey.get(key) ?? []).sort()) {
      const v = encodeSafe(value);
      if (v === undefined) return undefined;
      pairs.push(`${k}=${v}`);
    }
  }
  return pairs.join('&');
}

export type HeaderBag = Record<string, string | string[] | undefined>;

/**
 * `name:value\n` for each signed header, in the order the `SignedHeaders` list gives (signers
 * list them sorted). Undefined when a signed header is missing from the request.
 */
export function canonicalHeaders(signed: readonly string[], headers: HeaderBag): string | undefined {
  let out = '';
  for (const name of signed) {
    const value = headers[name];
    if (value === undefined) return undefined;
    out += `${name}:${Array.isArray(value) ? value.join(',') : value}\n`;
  }
  return out;
}

export const sha256Hex = (data: string | Buffer): string => hash('sha256', data, 'hex');

export const EMPTY_SHA256 = sha256Hex('');

export interface CanonicalParts {
  method: string;
  uri: string;
  query: string;
  headers: string;
  signedHeaders: string;
  payloadHash: string;
}

export const canonicalRequest = (p: CanonicalParts): string =>
  [p.method, p.uri, p.query, p.headers, p.signedHeaders, p.payloadHash].join('\n');

export const stringToSign = (sdkDate: string, canonical: string): string =>
  `SDK-HMAC-SHA256\n${sdkDate}\n${sha256Hex(canonical)}`;

/**
 * Splits a raw request target into path and query (without `?`), exactly as the handlers read
 * it: everything after the first `?` is the query. A `#` is not cut off (a request target has
 * no fragment; the app refuses targets with `#` before routing), so what is signed is what is read.
 */
export function splitTarget(rawUrl: string): { path: string; query: string } {
  const q = rawUrl.indexOf('?');
  return q < 0 ? { path: rawUrl, query: '' } : { path: rawUrl.slice(0, q), query: rawUrl.slice(q + 1) };
}
