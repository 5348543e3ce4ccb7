/** A log_format broken into literal text and variables, plus its escaping mode. */
export interface LogFormat {
  escape: 'default' | 'json' | 'none';
  segments: Segment[];
}

export type Segment = { kind: 'literal'; text: string } | { kind: 'var'; name: string };

export class FormatError extends Error {}

/** nginx.conf-style string tokens: 'a' "b" c -> [a, b, c] (with \-escapes inside quotes). */
function configTokens(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      let s = '';
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\' && i + 1 < text.length && (text[i + 1] === c || text[i + 1] === '\\')) i++;
        s += text[i];
        i++;
      }
      if (i >= text.length) throw new FormatError(`unterminated ${c} in log_format`);
      out.push(s);
      i++;
      continue;
    }
    let s = '';
    while (i < text.length && !/\s/.test(text[i] as string)) s += text[i++];
    out.push(s);
  }
  return out;
}

/**
 * Accepts a format as written in nginx.conf: either the bare format string, or
 * `[log_format NAME] [escape=default|json|none] 'part' 'part' ...[;]` (parts concatenated,
 * as nginx does). A bare string that is not quoted is taken literally.
 */
export function parseLogFormatText(input: string): LogFormat {
  let text = input.trim();
  let escape: LogFormat['escape'] = 'default';
  const quotedOrDirective = /^(log_format\s|escape=|['"])/.test(text);
  if (!quotedOrDirective) return { escape, segments: splitSegments(text) };
  if (text.endsWith(';')) text = text.slice(0, -1);
  const tokens = configTokens(text);
  if (tokens[0] === 'log_format') tokens.splice(0, 2);
  const esc = tokens[0]?.match(/^escape=(default|json|none)$/);
  if (esc) {
    escape = esc[1] as LogFormat['escape'];
    tokens.shift();
  } else if (tokens[0]?.startsWith('escape=')) {
    throw new FormatError(`unknown ${tokens[0]}`);
  }
  if (tokens.length === 0) throw new FormatError('empty log_format');
  return { escape, segments: splitSegments(tokens.join('')) };
}

/** Splits "$a - [$b]" into variables and literals. */
export function splitSegments(format: string): Segment[] {
  const out: Segment[] = [];
  let lit = '';
  let i = 0;
  while (i < format.length) {
    const c = format[i];
    if (c !== '$') {
      lit += c;
      i++;
      continue;
    }
    let name: string;
    if (format[i + 1] === '{') {
      const end = format.indexOf('}', i + 2);
      if (end < 0) throw new FormatError('unterminated ${ in log_format');
      name = format.slice(i + 2, end);
      i = end + 1;
    } else {
      const m = /^[A-Za-z0-9_]+/.exec(format.slice(i + 1));
      if (!m) {
        lit += c;
        i++;
        continue;
      }
      name = m[0];
      i += 1 + name.length;
    }
    if (!/^[A-Za-z0-9_]+$/.test(name)) throw new FormatError(`bad variable name "${name}"`);
    if (lit) out.push({ kind: 'literal', text: lit });
    lit = '';
    out.push({ kind: 'var', name: name.toLowerCase() });
  }
  if (lit) out.push({ kind: 'literal', text: lit });
  if (!out.some((s) => s.kind === 'var')) throw new FormatError('log_format has no variables');
  return out;
}
