/** How nginx writes a variable's value into a log line, per log_format escape= mode (model side). */
export type EscapeMode = 'default' | 'json' | 'none';

const hex2 = (b: number): string => b.toString(16).toUpperCase().padStart(2, '0');

/** escape=default: '"', '\', bytes < 0x20 and >= 0x7f as \xHH (over the UTF-8 bytes). */
export function escapeDefault(value: string): string {
  let out = '';
  for (const b of Buffer.from(value, 'utf8')) {
    out += b === 0x22 || b === 0x5c || b < 0x20 || b >= 0x7f ? `\\x${hex2(b)}` : String.fromCharCode(b);
  }
  return out;
}

const JSON_SHORT: Record<number, string> = { 0x22: '\\"', 0x5c: '\\\\', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x08: '\\b', 0x0c: '\\f' };

/** escape=json: '"' and '\' backslashed, control characters as \n.. or \u00XX; the rest as is. */
export function escapeJson(value: string): string {
  let out = '';
  for (const ch of value) {
    const c = ch.charCodeAt(0);
    const short = JSON_SHORT[c];
    if (short !== undefined) out += short;
    else if (c < 0x20) out += `\\u00${hex2(c)}`;
    else out += ch;
  }
  return out;
}

export function escapeAs(mode: EscapeMode, value: string): string {
  return mode === 'default' ? escapeDefault(value) : mode === 'json' ? escapeJson(value) : value;
}
