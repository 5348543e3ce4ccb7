const HAS_LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(HAS_LONE_SURROGATE.source, 'g');

/**
 * `s` with every unpaired UTF-16 surrogate (a JSON `\ud800` escape makes one) as U+FFFD, as a UTF-8
 * decoder does with a broken byte sequence: no store can keep one (ClickHouse text is UTF-8), so a
 * name holding one would make the shared write fail.
 */
export function wellFormed(s: string): string {
  return HAS_LONE_SURROGATE.test(s) ? s.replace(LONE_SURROGATES, '\uFFFD') : s;
}

/** Undoes nginx's default escaping: "\xHH" for '"', '\', control and non-ASCII bytes. */
export function unescapeDefault(s: string): string {
  if (s.indexOf('\\x') < 0) return s;
  return s.replace(/\\x([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

const JSON_SIMPLE: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** Undoes JSON string escaping (nginx escape=json); an invalid escape is kept as written. */
export function unescapeJson(s: string): string {
  if (s.indexOf('\\') < 0) return s;
  return wellFormed(s.replace(/\\(u[0-9A-Fa-f]{4}|.)/g, (m, e: string) => {
    if (e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
    return JSON_SIMPLE[e] ?? m;
  }));
}
