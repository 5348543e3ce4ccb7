/**
 * The one place where values become ClickHouse SQL text. ClickHouse 18.16 has no
 * server-side query parameters, so every literal in every statement livestats sends
 * (SELECT filters, INSERT ... VALUES rows, DDL) is produced by `quote` (or, for the data rows
 * of `INSERT ... FORMAT TabSeparated`, by TsvFields, which escapes the same way), and every
 * database/cluster/table name by `ident`.
 *
 * `quote` emits pure ASCII: the UTF-8 bytes of a string (or the raw bytes of a
 * Uint8Array, which may be invalid UTF-8) are copied when printable ASCII and written
 * as `\xHH` otherwise, with `\\` and `\'` for the two characters that end or escape a
 * literal. The server decodes `\xHH` back to the exact byte, so any byte sequence
 * round-trips, and nothing a value contains can leave the literal.
 */

export type SqlValue = string | number | bigint | Uint8Array;

export class SqlValueError extends Error {}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const HEX = '0123456789abcdef';

function quoteBytes(bytes: Uint8Array): string {
  const out: string[] = ["'"];
  let start = 0;
  const plain = (b: number): boolean => b >= 0x20 && b < 0x7f && b !== 0x27 && b !== 0x5c;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (plain(b)) continue;
    if (i > start) out.push(Buffer.from(bytes.subarray(start, i)).toString('latin1'));
    if (b === 0x27) out.push("\\'");
    else if (b === 0x5c) out.push('\\\\');
    else out.push('\\x' + HEX[b >> 4] + HEX[b & 15]);
    start = i + 1;
  }
  if (bytes.length > start) out.push(Buffer.from(bytes.subarray(start)).toString('latin1'));
  out.push("'");
  return out.join('');
}

/** Renders a value as a ClickHouse literal. Throws SqlValueError for values it cannot represent exactly. */
export function quote(value: SqlValue): string {
  if (typeof value === 'string') {
    if (LONE_SURROGATE.test(value)) throw new SqlValueError('string contains an unpaired UTF-16 surrogate');
    return quoteBytes(Buffer.from(value, 'utf8'));
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new SqlValueError(`not a safe integer: ${value}`);
    return String(value);
  }
  if (typeof value === 'bigint') return value.toString(10);
  if (value instanceof Uint8Array) return quoteBytes(value);
  throw new SqlValueError(`unsupported SQL value type: ${typeof value}`);
}

/**
 * The data of `INSERT ... FORMAT TabSeparated` (the write path: cheaper to build and for the server
 * to parse than VALUES tuples). A string field is escaped exactly as quote() escapes a literal, without
 * the quotes: the TabSeparated parser decodes `\xHH`, `\\` and `\'` to the same bytes, and tab, newline
 * and every other control byte are written as `\xHH`, so no value can end its field or row. Numbers
 * must be safe integers. `field` remembers the strings it escaped (names repeat on every row), so
 * use one TsvFields per statement or batch, not for ever.
 */
export class TsvFields {
  private readonly memo = new Map<string, string>();

  field(value: string): string {
    let out = this.memo.get(value);
    if (out === undefined) {
      out = quote(value).slice(1, -1);
      this.memo.set(value, out);
    }
    return out;
  }

  /** A whole number as a field; SqlValueError for anything else. */
  static int(value: number): string {
    if (!Number.isSafeInteger(value)) throw new SqlValueError(`not a safe integer: ${value}`);
    return String(value);
  }
}

/** `(a, b, c)` for an IN list; an empty list is an error (callers decide what "no values" means). */
export function quoteList(values: readonly SqlValue[]): string {
  if (values.length === 0) throw new SqlValueError('empty IN list');
  return '(' + values.map(quote).join(', ') + ')';
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export const isIdent = (name: string): boolean => IDENT.test(name);

/** Validates a database, cluster or table name strictly and back-quotes it. */
export function ident(name: string): string {
  if (!IDENT.test(name)) throw new SqlValueError(`invalid ClickHouse identifier: ${JSON.stringify(name)}`);
  return '`' + name + '`';
}
