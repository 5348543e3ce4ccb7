/** Undoes nginx's default escaping: "\xHH" for '"', '\', control and non-ASCII bytes. */
export function unescapeDefault(s: string): string {
  if (s.indexOf('\\x') < 0) return s;
  return s.replace(/\\x([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
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
