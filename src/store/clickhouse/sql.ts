/**
 * The one place where values become ClickHouse SQL text. ClickHouse 18.16 has no
 * server-side query parameters, so every literal in every statement livestats sends
 * (SELECT filters, INSERT ... VALUES rows, DDL) is produced by `quote` (or, for the data rows
 * of `INSERT ... FORMAT TabSeparated`, by TsvBytes, which takes its escaping from `quote`), and every
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

/** An `INSERT ... FORMAT TabSeparated` statement (one line) and its data rows as bytes (TsvBytes): ChConnection.exec(statement, { body }). */
export interface InsertData {
  statement: string;
  body: Buffer;
}

/** The statement and its data as one text (tests; ClickHouse reads the same from the two parts). */
export const insertText = (i: InsertData): string => `${i.statement}\n${i.body.toString('latin1')}`;

/** Decimal digits of a positive safe integer. */
function digitCount(v: number): number {
  let n = 1;
  for (let p = 10; p <= v && n < 16; p *= 10) n++;
  return n;
}

const TAB = 0x09;
const NEWLINE = 0x0a;
const DIGIT_0 = 0x30;

/**
 * The data of `INSERT ... FORMAT TabSeparated` written as bytes into one growing buffer (the write
 * path of a big batch: no string per row, no row array, almost nothing for the garbage collector).
 * Fields are escaped exactly as quote() escapes a literal, without the quotes: a string field's bytes are
 * quote()'s literal without the quotes, remembered per distinct string (names repeat on every row);
 * `once` escapes a value without remembering it. Numbers must be safe integers (SqlValueError
 * otherwise). `take()` hands out the bytes written so far and starts again.
 */
export class TsvBytes {
  private buf: Buffer;
  private at = 0;
  private readonly memo = new Map<string, Buffer>();

  constructor(initialBytes = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Bytes written since the last take(). */
  get length(): number {
    return this.at;
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }

  /** The escaped bytes of a string field (remembered: for names that repeat). */
  escaped(value: string): Buffer {
    let out = this.memo.get(value);
    if (out === undefined) {
      out = Buffer.from(quote(value).slice(1, -1), 'latin1');
      this.memo.set(value, out);
    }
    return out;
  }

  /** A string field, escaped as quote() escapes it (remembered per distinct value). */
  str(value: string): this {
    return this.raw(this.escaped(value));
  }

  /** Bytes already escaped by escaped() (of this or another TsvBytes). */
  raw(bytes: Buffer): this {
    this.room(bytes.length);
    const buf = this.buf;
    let at = this.at;
    if (bytes.length <= 32) for (let i = 0; i < bytes.length; i++) buf[at++] = bytes[i] as number;
    else at += bytes.copy(buf, at);
    this.at = at;
    return this;
  }

  /** A string field that rarely repeats (client IPs): escaped as quote() escapes it, not remembered. */
  once(value: string): this {
    const n = value.length;
    this.room(n);
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c < 0x20 || c >= 0x7f || c === 0x27 || c === 0x5c) {
        // Not plain ASCII: the general escaping, for the whole value.
        return this.raw(Buffer.from(quote(value).slice(1, -1), 'latin1'));
      }
      buf[at++] = c;
    }
    this.at = at;
    return this;
  }

  /** A whole number field (SqlValueError for anything but a safe integer). */
  int(value: number): this {
    if (!Number.isSafeInteger(value)) throw new SqlValueError(`not a safe integer: ${value}`);
    this.room(17);
    let v = value;
    if (v < 0) {
      this.buf[this.at++] = 0x2d;
      v = -v;
    }
    if (v < 10) {
      this.buf[this.at++] = DIGIT_0 + v;
      return this;
    }
    const buf = this.buf;
    let end = this.at + digitCount(v);
    this.at = end;
    // Below 2^31 in 32-bit integer steps; above, by floating-point division (exact for safe integers).
    while (v >= 2147483648) {
      const q = Math.floor(v / 10);
      buf[--end] = DIGIT_0 + (v - q * 10);
      v = q;
    }
    let x = v | 0;
    while (x > 0) {
      const q = (x / 10) | 0;
      buf[--end] = DIGIT_0 + (x - q * 10);
      x = q;
    }
    return this;
  }

  /** An IPv4 address given as its 32-bit integer, as dotted text. */
  ipv4(value: number): this {
    return this.int(Math.floor(value / 16777216) % 256).ascii(0x2e).int(Math.floor(value / 65536) % 256).ascii(0x2e)
      .int(Math.floor(value / 256) % 256).ascii(0x2e).int(value % 256);
  }

  /** The field separator. */
  tab(): this {
    return this.ascii(TAB);
  }

  /** The end of a row. */
  end(): this {
    return this.ascii(NEWLINE);
  }

  private ascii(byte: number): this {
    this.room(1);
    this.buf[this.at++] = byte;
    return this;
  }

  /**
   * The bytes written since the last take() (the writer's own memory, handed over: not copied); the writer
   * starts empty again in new memory of the same size (names still remembered).
   */
  take(): Buffer {
    const out = this.buf.subarray(0, this.at);
    this.buf = Buffer.allocUnsafe(this.buf.length);
    this.at = 0;
    return out;
  }
}

/** TabSeparated's escapes of a String in an answer (\b \f \n \r \t \0 \' \\), undone. */
const TSV_UNESCAPE: Readonly<Record<string, string>> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', 0: '\0' };

/** A String field of a TabSeparated answer as the string it holds (the inverse of clickhouse-server's escaping). */
export const unescapeTsv = (s: string): string => (s.includes('\\') ? s.replace(/\\(.)/g, (_m, c: string) => TSV_UNESCAPE[c] ?? c) : s);
