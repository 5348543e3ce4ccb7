import fc from 'fast-check';

/**
 * Byte-level and token-level mutations of a generated input, as fast-check arbitraries, so a
 * mutated input is reproducible from the run's seed like any generated one.
 */
export const INTERESTING: readonly string[] = [
  '"', "'", '\\', '\\x', '\\x2', '\\x22', '\\"', '\\u', '\\u00', '\\ud800', '[', ']', '{', '}', '(', ')', '<', '>', '%', '%zz', '%0', '%00',
  '%C3', '%ED%A0%80', '\u0000', '\r', '\n', '\r\n', '\t', ' ', '  ', '-', ':', ': ', ',', ';', '=', '&', '?', '#', '/', '//', '@', '+',
  '.', '..', '$', '${', '*', '|', '^', '~', '`', '\uFEFF', '\uD800', '\uDFFF', '\uD83D', 'é', '例', '𝄞', '\u0085', '\u2028', '\x7f', '\xff',
  '0', '1', '-1', '000', '999', '600', '99999999999999999999', '1e309', 'NaN', 'Infinity', '0x10', '255.255.255.256', '::', ':::',
  '::ffff:1.2.3.4', 'null', 'true', '[]', '{}', '"a":', '1 ', '65536 ', '9999999 ', '<191>', '<999>', '<13>1 ', '- - -', 'Jan',
  'Feb 30', '24:00:00', '+2400', '-0000', 'Z', 'T', 'SDK-HMAC-SHA256', 'Access=', 'SignedHeaders=', 'Signature=', 'host', 'x-sdk-date',
];

/** One edit; positions are taken modulo the input length when applied. */
export type Mutation =
  | { op: 'insert'; at: number; text: string }
  | { op: 'delete'; at: number; len: number }
  | { op: 'replace'; at: number; len: number; text: string }
  | { op: 'repeat'; at: number; len: number; times: number }
  | { op: 'flip'; at: number; code: number }
  | { op: 'truncate'; at: number }
  | { op: 'swap'; a: number; b: number; len: number };

const text = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...INTERESTING) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 12 }) },
);
const at = fc.nat({ max: 1 << 16 });

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('insert' as const), at, text }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), at, len: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('replace' as const), at, len: fc.integer({ min: 1, max: 4 }), text }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('repeat' as const), at, len: fc.integer({ min: 1, max: 16 }),
      times: fc.oneof(fc.integer({ min: 2, max: 8 }), fc.integer({ min: 100, max: 5000 })),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('flip' as const), at, code: fc.integer({ min: 0, max: 0xffff }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('swap' as const), a: at, b: at, len: fc.integer({ min: 1, max: 12 }) }) },
);

/** Applies edits in order; every edit is defined for every input (the empty string included). */
export function applyMutations(input: string, edits: readonly Mutation[]): string {
  let s = input;
  for (const m of edits) {
    const n = s.length;
    switch (m.op) {
      case 'insert': {
        const i = n === 0 ? 0 : m.at % (n + 1);
        s = s.slice(0, i) + m.text + s.slice(i);
        break;
      }
      case 'delete': {
        if (n === 0) break;
        const i = m.at % n;
        s = s.slice(0, i) + s.slice(i + m.len);
        break;
      }
      case 'replace': {
        const i = n === 0 ? 0 : m.at % n;
        s = s.slice(0, i) + m.text + s.slice(i + m.len);
        break;
      }
      case 'repeat': {
        if (n === 0) break;
        const i = m.at % n;
        const part = s.slice(i, i + m.len);
        s = s.slice(0, i) + part.repeat(m.times) + s.slice(i + m.len);
        break;
      }
      case 'flip': {
        if (n === 0) break;
        const i = m.at % n;
        s = s.slice(0, i) + String.fromCharCode(m.code) + s.slice(i + 1);
        break;
      }
      case 'truncate':
        s = s.slice(0, n === 0 ? 0 : m.at % n);
        break;
      case 'swap': {
        if (n === 0) break;
        const a = m.a % n;
        const b = m.b % n;
        const [lo, hi] = a < b ? [a, b] : [b, a];
        const len = Math.min(m.len, hi - lo);
        if (len <= 0) break;
        s = s.slice(0, lo) + s.slice(hi, hi + len) + s.slice(lo + len, hi) + s.slice(lo, lo + len) + s.slice(hi + len);
        break;
      }
    }
  }
  return s;
}

export const mutationsArb = fc.array(mutationArb, { minLength: 1, maxLength: 6 });

/** A generated input that is either kept as is (with its expectation) or mutated (expectation dropped). */
export type Variant<T> = { mutated: false; value: T } | { mutated: true; value: T; text: string };

/**
 * Half generated-and-valid inputs, whose outcome the model knows, and half mutations of them
 * (plus some of pure noise), whose only requirement is a decision without crash or hang.
 */
export function withMutations<T>(valid: fc.Arbitrary<T>, render: (v: T) => string): fc.Arbitrary<Variant<T>> {
  return fc.oneof(
    { weight: 5, arbitrary: valid.map((value): Variant<T> => ({ mutated: false, value })) },
    {
      weight: 5,
      arbitrary: fc.tuple(valid, mutationsArb).map(([value, edits]): Variant<T> => ({ mutated: true, value, text: applyMutations(render(value), edits) })),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(valid, fc.string({ unit: 'binary', maxLength: 200 })).map(([value, noise]): Variant<T> => ({ mutated: true, value, text: noise })),
    },
  );
}
