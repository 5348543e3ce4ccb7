import { FRACTION, proportionUnits, type CodeCount, type HttpCodesQuery } from './httpcodes.js';
import { JsonBytes, UtcSecondWriter, WordTexts, asciiBytes, wordsFor, writeSmallInt } from './json-bytes.js';
import { MINUTE } from './time.js';

/**
 * Per-code request columns as a store sums them: `counts[c * slots + i]` is the requests of
 * `codes[c]` (ascending) in minute `fromMinute + i * MINUTE`.
 */
export interface HttpCodesColumns {
  fromMinute: number;
  slots: number;
  codes: Int32Array;
  counts: Float64Array;
}

/** The query fields the answer depends on. */
export type HttpCodesShape = Pick<HttpCodesQuery, 'codes' | 'fromMinute' | 'toMinute'>;

/** `,"proportion":<units / 10000>}` for units 0..10000 (10000 renders as 1). */
const TAILS = [...FRACTION, '1'].map((f) => asciiBytes(`,"proportion":${f}}`));
const TAIL_MAX = Math.max(...TAILS.map((t) => t.length));
/** The tails as words: 6 per tail (at most 21 bytes), copied with six unrolled stores. */
const TAIL_WORDS = new WordTexts(TAILS, 6);
if (wordsFor(TAIL_MAX) > 6) throw new Error('proportion tails outgrew their words');
/** Bytes a word copy may write past a text's end, plus one. */
const OVERSHOOT = 32;
const HEAD = asciiBytes('{"data_series":[');
const TIME = asciiBytes('{"time":"');
const CODES = asciiBytes('","http_codes":[');
const END_SLOT = asciiBytes(']}');

/**
 * `{"code":<code>,"count":` per code, like TAILS a table of fixed texts (a pure function of the
 * number, independent of any stored data), filled on first use; bounded.
 */
const codeTexts = new Map<number, Uint8Array>();
const CODE_TEXTS_MAX = 4096;

function codeText(code: number): Uint8Array {
  let t = codeTexts.get(code);
  if (t === undefined) {
    if (codeTexts.size >= CODE_TEXTS_MAX) codeTexts.clear();
    codeTexts.set(code, (t = asciiBytes(`,{"code":${code},"count":`)));
  }
  return t;
}

/** The entry prefixes of an answer's codes as words: `{"code":..,"count":` for the first, with a leading comma after. */
function prefixesOf(codes: readonly number[]): WordTexts {
  const prefixes = codes.map((code, k) => (k > 0 ? codeText(code) : codeText(code).subarray(1)));
  return new WordTexts(prefixes, wordsFor(Math.max(0, ...prefixes.map((p) => p.length))));
}

/** Index into TAILS of count / total (proportionUnits, with a fast path for counts that fit in 2^26). */
function proportionIndex(count: number, total: number): number {
  if (total <= 0 || count <= 0) return 0;
  if (total < 67_108_864) {
    // count * 20000 + total < 2^53: exact in doubles, and the quotient's floor is exact.
    const u = Math.floor((count * 20000 + total) / (2 * total));
    return u >= 10000 ? 10000 : u;
  }
  const u = proportionUnits(count, total);
  return u >= 10000 ? 10000 : u;
}

/**
 * The ListQueryHttpCode answer rendered straight to UTF-8 bytes from the columns: the same bytes
 * as `httpCodesJson(q, toCodeCounts(columns))` (the reference, property-tested against this), but
 * without an object per cell or a string per entry, so a read worker can render it and hand the
 * buffer over. Cells outside the query's minutes and counts <= 0 are ignored, as there.
 */
export function renderHttpCodes(q: HttpCodesShape, cols: HttpCodesColumns): Uint8Array {
  const slots = Math.max(0, Math.ceil((q.toMinute - q.fromMinute) / MINUTE));
  // Column index of answer slot i is i + shift (when the columns start at a whole minute offset).
  const offset = (cols.fromMinute - q.fromMinute) / MINUTE;
  const shift = Number.isInteger(offset) ? -offset : NaN;
  const n = cols.slots;
  const inCol = (i: number): number => {
    const j = i + shift;
    return j >= 0 && j < n ? j : -1;
  };
  const totals = new Float64Array(slots);
  const hasCount = new Uint8Array(cols.codes.length);
  // Answer slots that have a column: [first, last) (none when the offset is not whole minutes).
  const first = Number.isNaN(shift) ? 0 : Math.max(0, -shift);
  const last = Number.isNaN(shift) ? 0 : Math.min(slots, n - shift);
  for (let c = 0; c < cols.codes.length; c++) {
    const base = c * n + shift;
    for (let i = first; i < last; i++) {
      const v = cols.counts[base + i] as number;
      if (v > 0) {
        totals[i] = (totals[i] as number) + v;
        hasCount[c] = 1;
      }
    }
  }
  // Answer codes: the requested ones, else every code with a count, ascending; each with its column (or none).
  const codeList: number[] = [];
  const colOf: number[] = [];
  const position = new Map<number, number>();
  cols.codes.forEach((code, c) => position.set(code, c));
  if (q.codes.length > 0) {
    for (const code of q.codes) {
      codeList.push(code);
      colOf.push(position.get(code) ?? -1);
    }
  } else {
    const present = [...position.entries()].filter(([, c]) => hasCount[c] === 1).sort((a, b) => a[0] - b[0]);
    for (const [code, c] of present) {
      codeList.push(code);
      colOf.push(c);
    }
  }
  const width = codeList.length;
  const pre = prefixesOf(codeList);
  const stride = pre.stride;
  let perSlot = 64;
  for (let k = 0; k < width; k++) perSlot += (pre.lengths[k] as number) + 24 + TAIL_MAX;
  const preWords = pre.words;
  const preLengths = pre.lengths;
  const tailWords = TAIL_WORDS.words;
  const tailLengths = TAIL_WORDS.lengths;
  const counts = cols.counts;
  const out = new JsonBytes(16 + slots * perSlot + stride * 4 + OVERSHOOT);
  const time = new UtcSecondWriter();
  out.bytes(HEAD);
  for (let i = 0; i < slots; i++) {
    out.ensure(perSlot + 2 + stride * 4 + OVERSHOOT);
    if (i > 0) out.buf[out.pos++] = 44; // ','
    out.bytes(TIME);
    time.write(out, q.fromMinute + i * MINUTE);
    out.bytes(CODES);
    const total = totals[i] as number;
    const j = inCol(i);
    // The hot loop: ~8,600 entries in a 24 h answer, written with local buffer and position; the
    // fixed texts go as 32-bit words (each copy may spill past its text: the next write covers it).
    const b = out.buf;
    const v = out.view;
    let p = out.pos;
    for (let k = 0; k < width; k++) {
      const c = colOf[k] as number;
      const raw = c >= 0 && j >= 0 ? (counts[c * n + j] as number) : 0;
      const count = raw > 0 ? raw : 0;
      const pa = k * stride;
      if (stride === 6) {
        v.setUint32(p, preWords[pa] as number, true);
        v.setUint32(p + 4, preWords[pa + 1] as number, true);
        v.setUint32(p + 8, preWords[pa + 2] as number, true);
        v.setUint32(p + 12, preWords[pa + 3] as number, true);
        v.setUint32(p + 16, preWords[pa + 4] as number, true);
        v.setUint32(p + 20, preWords[pa + 5] as number, true);
      } else {
        for (let w = 0; w < stride; w++) v.setUint32(p + 4 * w, preWords[pa + w] as number, true);
      }
      p += preLengths[k] as number;
      if (count <= 0x7fffffff && (count | 0) === count) {
        p = writeSmallInt(b, v, p, count);
      } else {
        out.pos = p;
        out.number(count);
        p = out.pos;
      }
      const u = proportionIndex(count, total);
      const at = u * 6;
      v.setUint32(p, tailWords[at] as number, true);
      v.setUint32(p + 4, tailWords[at + 1] as number, true);
      v.setUint32(p + 8, tailWords[at + 2] as number, true);
      v.setUint32(p + 12, tailWords[at + 3] as number, true);
      v.setUint32(p + 16, tailWords[at + 4] as number, true);
      v.setUint32(p + 20, tailWords[at + 5] as number, true);
      p += tailLengths[u] as number;
    }
    out.pos = p;
    out.bytes(END_SLOT);
  }
  out.ensure(2);
  out.bytes(END_SLOT);
  return out.finish();
}

/**
 * The columns of (minute, code, count) cells as a store without column reads returns them (the
 * ClickHouse store), over the window [fromMinute, toMinute); cells of the same (minute, code) add
 * up, and `renderHttpCodes(q, codeCountColumns(q, cells))` is httpCodesJson(q, cells) as bytes.
 * Undefined when a positive count lies off the window's minutes: httpCodesJson then lists its code
 * with zeros, which columns cannot say (a store reading exactly the window never returns one).
 */
export function codeCountColumns(q: Pick<HttpCodesQuery, 'fromMinute' | 'toMinute'>, cells: readonly CodeCount[]): HttpCodesColumns | undefined {
  const slots = Math.max(0, Math.ceil((q.toMinute - q.fromMinute) / MINUTE));
  const seen = new Set<number>();
  for (const c of cells) seen.add(c.code);
  const codes = Int32Array.from([...seen].sort((a, b) => a - b));
  const column = new Map<number, number>();
  codes.forEach((code, k) => column.set(code, k));
  const counts = new Float64Array(codes.length * slots);
  for (const c of cells) {
    const i = (c.minute - q.fromMinute) / MINUTE;
    if (!(c.count > 0)) continue;
    if (!Number.isInteger(i) || i < 0 || i >= slots) return undefined;
    const at = (column.get(c.code) as number) * slots + i;
    counts[at] = (counts[at] as number) + c.count;
  }
  return { fromMinute: q.fromMinute, slots, codes, counts };
}
