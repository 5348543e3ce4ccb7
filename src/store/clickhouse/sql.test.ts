import { describe, expect, it } from 'vitest';
import { formatIpv4 } from '../../ingest/geo/ipv4.js';
import { ident, quote, quoteList, SqlValueError, TsvBytes, unescapeTsv } from './sql.js';

/** Decodes a literal the way ClickHouse's string-literal reader does (for the escapes quote emits). */
function decode(literal: string): Buffer {
  expect(literal.startsWith("'") && literal.endsWith("'")).toBe(true);
  const body = literal.slice(1, -1);
  if (/[^\x20-\x7e]/.test(body)) throw new Error('literal is not printable ASCII');
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const ch = body.charCodeAt(i);
    if (body[i] === "'") throw new Error(`unescaped quote at ${i}`);
    if (body[i] !== '\\') {
      out.push(ch);
      continue;
    }
    const next = body[++i];
    if (next === 'x') {
      out.push(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (next === '\\' || next === "'") out.push(next.charCodeAt(0));
    else throw new Error(`unexpected escape \\${next}`);
  }
  return Buffer.from(out);
}

describe('quote', () => {
  it('passes plain ASCII through', () => {
    expect(quote('play.example.com')).toBe("'play.example.com'");
    expect(quote('')).toBe("''");
  });
  it('escapes quotes and backslashes so they cannot end the literal', () => {
    expect(quote("a'b")).toBe("'a\\'b'");
    expect(quote('a\\b')).toBe("'a\\\\b'");
    expect(quote("\\'")).toBe("'\\\\\\''");
    expect(quote("x' OR 1=1 --")).toBe("'x\\' OR 1=1 --'");
  });
  it('writes NUL, control bytes and DEL as \\xHH', () => {
    expect(quote('a\u0000b')).toBe("'a\\x00b'");
    expect(quote('\n\r\t\u001f\u007f')).toBe("'\\x0a\\x0d\\x09\\x1f\\x7f'");
  });
  it('writes non-ASCII as its UTF-8 bytes, so the query text is pure ASCII', () => {
    expect(quote('中')).toBe("'\\xe4\\xb8\\xad'");
    expect(quote('😀')).toBe("'\\xf0\\x9f\\x98\\x80'");
  });
  it('keeps invalid UTF-8 bytes of a Uint8Array exactly', () => {
    const bytes = Uint8Array.from([0xff, 0xfe, 0x27, 0x00, 0xc3]);
    expect(quote(bytes)).toBe("'\\xff\\xfe\\'\\x00\\xc3'");
    expect(decode(quote(bytes))).toEqual(Buffer.from(bytes));
  });
  it('rejects strings with unpaired surrogates instead of altering them', () => {
    expect(() => quote('a\uD800b')).toThrow(SqlValueError);
    expect(() => quote('\uDC00')).toThrow(SqlValueError);
  });
  it('round-trips random byte strings and very long strings', () => {
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 256;
    for (let n = 0; n < 200; n++) {
      const bytes = Uint8Array.from({ length: n * 3 }, rnd);
      expect(decode(quote(bytes))).toEqual(Buffer.from(bytes));
    }
    const long = "'\\".repeat(500_000) + 'é'.repeat(100_000);
    const q = quote(long);
    expect(q.length).toBe(2 + 2_000_000 + 800_000);
    expect(decode(q).toString('utf8')).toBe(long);
  });
  it('renders integers and rejects anything that is not an exact integer', () => {
    expect(quote(0)).toBe('0');
    expect(quote(-42)).toBe('-42');
    expect(quote(2n ** 64n - 1n)).toBe('18446744073709551615');
    for (const bad of [1.5, NaN, Infinity, 2 ** 53]) expect(() => quote(bad)).toThrow(SqlValueError);
    expect(() => quote({} as unknown as string)).toThrow(SqlValueError);
  });
  it('builds IN lists and refuses empty ones', () => {
    expect(quoteList(['a', "b'", 3])).toBe("('a', 'b\\'', 3)");
    expect(() => quoteList([])).toThrow(SqlValueError);
  });
});

describe('ident', () => {
  it('back-quotes valid names', () => {
    expect(ident('livestats')).toBe('`livestats`');
    expect(ident('_a1')).toBe('`_a1`');
  });
  it('rejects anything else', () => {
    for (const bad of ['', '1db', 'a-b', 'a.b', 'a`b', 'a b', 'é', 'x'.repeat(64), 'db;DROP']) {
      expect(() => ident(bad)).toThrow(SqlValueError);
    }
  });
});

describe('TsvBytes', () => {
  // A seeded generator: the same cases every run.
  let seed = 12345;
  const rand = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  const randomString = (): string => {
    const pool = ['a', 'Z', '0', ' ', "'", '\\', '\t', '\n', '\u0000', '\u007f', 'é', '中', '😀', '.', '-', ':'];
    let s = '';
    const n = Math.floor(rand() * 12);
    for (let i = 0; i < n; i++) s += pool[Math.floor(rand() * pool.length)] as string;
    return s;
  };

  it('writes every field byte for byte as quote() writes it, without the quotes', () => {
    const w = new TsvBytes(8); // small: the buffer grows many times
    const want: string[] = [];
    for (let row = 0; row < 2000; row++) {
      const s = randomString();
      const t = randomString();
      const big = Math.floor(rand() * Number.MAX_SAFE_INTEGER) * (rand() < 0.2 ? -1 : 1);
      const small = Math.floor(rand() * 3000);
      const v4 = Math.floor(rand() * 2 ** 32);
      w.str(s).tab().once(t).tab().int(big).tab().int(small).tab().ipv4(v4).tab().int(0).tab().int(Number.MAX_SAFE_INTEGER).tab().int(2 ** 31).end();
      want.push(`${quote(s).slice(1, -1)}\t${quote(t).slice(1, -1)}\t${String(big)}\t${small}\t${formatIpv4(v4)}\t0\t${Number.MAX_SAFE_INTEGER}\t${2 ** 31}\n`);
    }
    const out = w.take();
    expect(out.toString('latin1')).toBe(want.join(''));
    // take() started it again, names still remembered.
    expect(w.length).toBe(0);
    expect(w.str("a'b").take().toString('latin1')).toBe("a\\'b");
  });

  it('refuses values quote() refuses', () => {
    const w = new TsvBytes();
    for (const bad of [1.5, NaN, Infinity, 2 ** 53]) expect(() => w.int(bad)).toThrow(SqlValueError);
    expect(() => w.str('\ud800')).toThrow(SqlValueError);
    expect(() => w.once('x\udc00')).toThrow(SqlValueError);
  });
});

describe('unescapeTsv', () => {
  it('undoes the escapes clickhouse-server writes into a TabSeparated String field', () => {
    // Each field as clickhouse-server 18.16 writes it (FORMAT TabSeparated), then the string it holds.
    const cases: Array<[string, string]> = [
      ['plain.example', 'plain.example'],
      ['tab\\there', 'tab\there'],
      ['new\\nline', 'new\nline'],
      ['back\\\\slash', 'back\\slash'],
      ['quote\\\'s', 'quote\'s'],
      ['nul\\0byte', 'nul\0byte'],
      ['\\b\\f\\r', '\b\f\r'],
      ['\\\\n', '\\n'],
      ['ünï.example', 'ünï.example'],
    ];
    for (const [field, value] of cases) expect(unescapeTsv(field)).toBe(value);
  });
});
