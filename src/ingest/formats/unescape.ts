import { isUtf8 } from 'node:buffer';

/**
 * Undoes nginx's default escaping: "\xHH" for '"', '\', control and non-ASCII bytes. The escapes
 * are bytes: when they spell UTF-8 (an IDN host, a path), the result is that text, whichever way
 * the line itself was decoded.
 */
export function unescapeDefault(s: string): string {
  if (s.indexOf('\\x') < 0) return s;
  let high = false;
  const bytes = s.replace(/\\x([0-9A-Fa-f]{2})/g, (_m, hex: string) => {
    const b = parseInt(hex, 16);
    if (b >= 0x80) high = true;
    return String.fromCharCode(b);
  });
  // eslint-disable-next-line no-control-regex -- only a string of byte-sized characters is bytes
  if (!high || /[^\x00-\xff]/.test(bytes)) return bytes;
  const buf = Buffer.from(bytes, 'latin1');
  return isUtf8(buf) ? buf.toString('utf8') : bytes;
}

const JSON_SIMPLE: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** Undoes JSON string escaping (nginx escape=json); an invalid escape is kept as written. */
export function unescapeJson(s: string): string {
  if (s.indexOf('\\') < 0) return s;
  return s.replace(/\\(u[0-9A-Fa-f]{4}|.)/g, (m, e: string) => {
    if (e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
    return JSON_SIMPLE[e] ?? m;
  });
}
