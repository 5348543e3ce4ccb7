import { isUtf8 } from 'node:buffer';
import { normalizeDomain } from '../contract/domain.js';

/** "Host:8080" / "[::1]:80" -> host without port; the text stays as is otherwise. */
export function stripPort(host: string): string {
  if (host.charCodeAt(0) === 91) {
    const end = host.indexOf(']');
    return end > 0 ? host.slice(1, end) : host;
  }
  const colon = host.lastIndexOf(':');
  if (colon < 0 || host.indexOf(':') !== colon) return host;
  for (let i = colon + 1; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c < 48 || c > 57) return host;
  }
  return host.slice(0, colon);
}

/** The host of an absolute-form request line ("GET http://a.com:80/x HTTP/1.1"), or ''. */
export function hostOfRequest(request: string): string {
  const sp = request.indexOf(' ');
  if (sp < 0) return '';
  let i = sp + 1;
  if (request.startsWith('http://', i)) i += 7;
  else if (request.startsWith('https://', i)) i += 8;
  else return '';
  let end = i;
  while (end < request.length) {
    const c = request.charCodeAt(end);
    if (c === 47 || c === 63 || c === 35 || c === 32) break;
    end++;
  }
  const authority = request.slice(i, end);
  const at = authority.lastIndexOf('@');
  return at >= 0 ? authority.slice(at + 1) : authority;
}

const CACHE_LIMIT = 50_000;
// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;
// eslint-disable-next-line no-control-regex
const WIDER_THAN_BYTE = /[^\x00-\xff]/;

/** latin1-decoded bytes -> their UTF-8 text; text that is not such bytes is returned as is. */
function utf8OfBytes(raw: string): string {
  if (WIDER_THAN_BYTE.test(raw)) return raw;
  const buf = Buffer.from(raw, 'latin1');
  return isUtf8(buf) ? buf.toString('utf8') : raw;
}

/** Raw logged host -> normalized play domain (lower-case, no port, IDNA), cached; '' when not a domain. */
export class DomainNormalizer {
  private cache = new Map<string, string>();

  /** latin1: raw hosts come from latin1-decoded bytes (decided the same way as text: see normalize). */
  constructor(readonly latin1 = false) {}

  normalize(raw: string): string {
    const hit = this.cache.get(raw);
    if (hit !== undefined) return hit;
    // Bytes (latin1-read input, or nginx's \xHH escapes whichever way the line was read) that spell
    // UTF-8 are that text; anything else stays as it is, so both decodings decide alike.
    const text = NON_ASCII.test(raw) ? utf8OfBytes(raw) : raw;
    const d = normalizeDomain(stripPort(text.trim()).toLowerCase()) ?? '';
    if (this.cache.size >= CACHE_LIMIT) this.cache = new Map();
    this.cache.set(raw, d);
    return d;
  }
}
