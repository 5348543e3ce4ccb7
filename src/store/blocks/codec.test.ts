import { describe, expect, it } from 'vitest';
import { BlockBuilder } from './builder.js';
import { BlockFormatError, addAllMeasures, addSlotMeasures, addSlotThroughMeasures, blockInfo, decodeBlock, decodeBlockInto, encodeBlock, newCellColumns, sumMeasure, type CellColumns } from './codec.js';
import { ByteReader, ByteWriter } from './varint.js';

function cols(rows: Array<[number, number, ...number[]]>, measures = 2): CellColumns {
  return {
    count: rows.length,
    keys: Int32Array.from(rows.map((r) => r[0])),
    slots: Uint16Array.from(rows.map((r) => r[1])),
    values: Array.from({ length: measures }, (_, m) => Float64Array.from(rows.map((r) => r[2 + m] ?? 0))),
  };
}

const rowsOf = (c: CellColumns): number[][] =>
  Array.from({ length: c.count }, (_, i) => [c.keys[i] as number, c.slots[i] as number, ...c.values.map((v) => v[i] as number)]);

/** A seeded PRNG so the random round trips are reproducible. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

describe('varints', () => {
  it('round-trip every magnitude up to 2^53-1 and reject out-of-range values', () => {
    const values = [0, 1, 127, 128, 16_383, 16_384, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5, 2 ** 49 + 3, Number.MAX_SAFE_INTEGER];
    const w = new ByteWriter(1);
    for (const v of values) w.uint(v);
    const r = new ByteReader(w.finish());
    expect(values.map(() => r.uint())).toEqual(values);
    expect(r.pos).toBe(r.end);
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) expect(() => new ByteWriter().uint(bad)).toThrow(RangeError);
  });

  it('reject truncated and over-long varints with a clear error', () => {
    expect(() => new ByteReader(Uint8Array.of(0x80)).uint()).toThrow('malformed block: truncated varint at byte 1');
    expect(() => new ByteReader(new Uint8Array(9).fill(0xff)).uint()).toThrow(/varint longer than 8 bytes/);
    expect(() => new ByteReader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)).uint()).toThrow(/beyond 2\^53/);
  });
});

describe('block codec', () => {
  it('round-trips sparse and dense cells with large values', () => {
    const rows: Array<[number, number, number, number]> = [
      [0, 0, 1, 0], [0, 59, 2, 3], [200, 5, 7, Number.MAX_SAFE_INTEGER], [404, 0, 1, 1], [404, 1, 2, 2],
    ];
    for (let s = 0; s < 60; s++) rows.push([499, s, s + 1, s * 100_000]);
    const buf = encodeBlock(60, cols(rows));
    const back = decodeBlock(buf);
    expect(back.slots).toBe(60);
    expect(rowsOf(back.cells)).toEqual(rows);
    expect(blockInfo(buf)).toEqual({ slots: 60, measures: 2, keys: 4, cells: rows.length });
  });

  it('picks the smaller slot form: a full key costs its bitmap, not a byte per slot', () => {
    const dense = encodeBlock(600, cols(Array.from({ length: 600 }, (_, s) => [0, s, 1] as [number, number, number]), 1));
    // header (5) + key (1) + count (2) + bitmap (75) + stream length (2) + stream form (1) + 600 one-byte values
    expect(dense.length).toBe(5 + 1 + 2 + 75 + 2 + 1 + 600);
    const sparse = encodeBlock(600, cols([[3, 599, 1]], 1));
    expect(sparse.length).toBeLessThan(13);
    expect(rowsOf(decodeBlock(sparse).cells)).toEqual([[3, 599, 1]]);
  });

  it('round-trips random blocks exactly', () => {
    const rand = prng(7);
    for (let t = 0; t < 200; t++) {
      const slots = 1 + Math.floor(rand() * 700);
      const measures = 1 + Math.floor(rand() * 4);
      const b = new BlockBuilder(slots, measures);
      const ref = new Map<string, number[]>();
      const n = Math.floor(rand() * 300);
      for (let i = 0; i < n; i++) {
        const key = Math.floor(rand() * (rand() < 0.5 ? 8 : 100_000));
        const slot = Math.floor(rand() * slots);
        const vals = Array.from({ length: measures }, () => Math.floor(rand() * (rand() < 0.2 ? 2 ** 40 : 300)));
        b.add(key, slot, vals);
        const k = `${key}/${slot}`;
        const prev = ref.get(k);
        ref.set(k, prev ? prev.map((v, m) => v + (vals[m] as number)) : vals);
      }
      const back = decodeBlock(b.encode());
      const got = new Map(rowsOf(back.cells).map((r) => [`${r[0]}/${r[1]}`, r.slice(2)]));
      expect(got).toEqual(ref);
    }
  });

  it('sums one measure into key columns at an offset, skipping the others', () => {
    const buf = encodeBlock(60, cols([[200, 0, 5, 1000], [200, 59, 1, 10], [404, 30, 2, 20], [500, 1, 9, 9]]));
    const c200 = new Float64Array(120);
    const c404 = new Float64Array(120);
    const column = (k: number): Float64Array | undefined => (k === 200 ? c200 : k === 404 ? c404 : undefined);
    sumMeasure(buf, 0, 60, column);
    sumMeasure(buf, 0, 60, column);
    expect([c200[60], c200[119], c404[90]]).toEqual([10, 2, 4]);
    const bytes = new Float64Array(60);
    sumMeasure(buf, 1, -30, (k) => (k === 200 ? bytes : undefined));
    expect(bytes[29]).toBe(10); // slot 59 at offset -30; slot 0 falls before the column and is skipped
    expect(bytes.reduce((a, b) => a + b, 0)).toBe(10);
  });

  it('replace mode keeps the latest cell; sum mode adds, also across blocks', () => {
    const r = new BlockBuilder(10, 2, 'replace');
    r.add(1, 3, [5, 6]);
    r.add(1, 3, [7, 8]);
    expect(rowsOf(r.cells())).toEqual([[1, 3, 7, 8]]);
    const s = new BlockBuilder(10, 2);
    s.add(1, 3, [5, 6]);
    s.addBlock(encodeBlock(10, cols([[0, 9, 2, 2], [1, 3, 1, 1]])));
    expect(rowsOf(s.cells())).toEqual([[0, 9, 2, 2], [1, 3, 6, 7]]);
    expect(() => s.addBlock(encodeBlock(11, cols([[0, 0, 1, 1]])))).toThrow('malformed block: block has 11 slots, expected 10');
    expect(() => s.add(0, 10, [1, 1])).toThrow(RangeError);
  });

  it('refuses unsorted or duplicate cells when encoding', () => {
    expect(() => encodeBlock(60, cols([[2, 0, 1], [1, 0, 1]]))).toThrow(RangeError);
    expect(() => encodeBlock(60, cols([[1, 5, 1], [1, 5, 1]]))).toThrow(RangeError);
    expect(() => encodeBlock(60, cols([[1, 60, 1]]))).toThrow(RangeError);
    expect(() => encodeBlock(0, cols([]))).toThrow(RangeError);
  });
});

describe('block format 2: measures predicted from measure 0', () => {
  // Bytes sent ~ requests x a size per code: the bytes stream stores a ratio per key and small residuals.
  const rows: Array<[number, number, number, number]> = [];
  for (let s = 0; s < 60; s++) rows.push([200, s, 10 + (s % 7), (10 + (s % 7)) * 180_000 + ((s * 977) % 4096)]);
  for (let s = 0; s < 60; s++) rows.push([404, s, 1 + (s % 3), (1 + (s % 3)) * 2_000 + (s % 50)]);

  it('stores bytes as residuals from requests x a per-key ratio, far smaller, and decodes exactly', () => {
    const buf = encodeBlock(60, cols(rows));
    const plainBytes = rows.reduce((n, r) => n + new ByteWriter().length + varintLength(r[3]), 0);
    const info = blockInfo(buf);
    expect(info.cells).toBe(120);
    expect(buf.length).toBeLessThan(60 + 2 * 8 + 120 + plainBytes / 2);
    expect(rowsOf(decodeBlock(buf).cells)).toEqual(rows);
    const bytes = new Float64Array(60);
    sumMeasure(buf, 1, 0, (k) => (k === 200 ? bytes : undefined));
    expect(Array.from(bytes)).toEqual(rows.filter((r) => r[0] === 200).map((r) => r[3]));
  });

  it('still reads version 1 blocks (no stream forms)', () => {
    // version 1, 2 measures, 60 slots, 1 key: 200 with 2 cells as a list (slots 0, +5); streams [3, 4] and [300, 400]
    const v1 = Uint8Array.of(1, 2, 60, 1, 200, 1, 4, 0, 5, 2, 4, 3, 4, 0xac, 0x02, 0x90, 0x03);
    expect(rowsOf(decodeBlock(v1).cells)).toEqual([[200, 0, 3, 300], [200, 5, 4, 400]]);
    const req = new Float64Array(60);
    sumMeasure(v1, 0, 0, () => req);
    expect(req[5]).toBe(4);
  });

  it('rejects an unknown stream form and a ratio stream on measure 0', () => {
    const buf = encodeBlock(60, cols([[1, 0, 5, 5]]));
    // header 2,2,60,1 | key 1, 2*1+0, slot 0 | lengths 2, 2 | stream 0: form 0, 5 | stream 1: form 0, 5
    expect(Array.from(buf)).toEqual([2, 2, 60, 1, 1, 2, 0, 2, 2, 0, 5, 0, 5]);
    expect(() => decodeBlock(Uint8Array.of(2, 2, 60, 1, 1, 2, 0, 2, 2, 0, 5, 7, 5))).toThrow('malformed block: measure stream 1 has unknown form 7');
    expect(() => decodeBlock(Uint8Array.of(2, 2, 60, 1, 1, 2, 0, 2, 2, 1, 5, 0, 5))).toThrow('malformed block: measure stream 0 has unknown form 1');
  });
});

function varintLength(v: number): number {
  let n = 1;
  for (; v >= 0x80; v = Math.floor(v / 0x80)) n++;
  return n;
}

describe('malformed blocks are rejected clearly', () => {
  const good = encodeBlock(60, cols([[200, 0, 5, 1000], [200, 1, 1, 10], [404, 30, 2, 20]]));
  const dense = encodeBlock(60, cols(Array.from({ length: 60 }, (_, s) => [7, s, 1, 2] as [number, number, number, number])));
  const bad = (b: Uint8Array): (() => unknown) => () => decodeBlock(b);

  it('every truncation of a valid block fails with BlockFormatError', () => {
    for (const block of [good, dense]) {
      for (let cut = 0; cut < block.length; cut++) {
        expect(bad(block.subarray(0, cut))).toThrow(BlockFormatError);
        expect(() => sumMeasure(block.subarray(0, cut), 0, 0, () => new Float64Array(60))).toThrow(BlockFormatError);
      }
    }
  });

  it('trailing garbage, wrong version, bad counts and out-of-range slots are named', () => {
    expect(bad(Uint8Array.of(...good, 0))).toThrow('malformed block: 1 bytes after the measure streams');
    expect(bad(Uint8Array.of(9, ...good.subarray(1)))).toThrow('malformed block: unknown format version 9 (this build reads 1 to 2)');
    expect(bad(Uint8Array.of(1, 0, 60, 0))).toThrow('malformed block: bad measure count 0');
    expect(bad(Uint8Array.of(1, 1, 0, 0))).toThrow('malformed block: bad slot count 0');
    // one key (5) announcing 2 cells as a list: slots 10 then +0 (not ascending)
    expect(bad(Uint8Array.of(1, 1, 60, 1, 5, 4, 10, 0, 1, 1))).toThrow('malformed block: slots of key 5 not strictly ascending');
    // slot 60 in a 60-slot block
    expect(bad(Uint8Array.of(1, 1, 60, 1, 5, 2, 60, 1))).toThrow('malformed block: slot 60 beyond 60 in key 5');
    // two keys with delta 0
    expect(bad(Uint8Array.of(1, 1, 60, 2, 5, 2, 0, 0, 2, 0, 1, 1))).toThrow('malformed block: keys not strictly ascending');
    // zero cells for a key
    expect(bad(Uint8Array.of(1, 1, 60, 1, 5, 0, 1))).toThrow('malformed block: key 5 has 0 cells in a block of 60 slots');
    // a stream whose announced length holds more varints than the block has cells
    expect(bad(Uint8Array.of(1, 1, 60, 1, 5, 2, 0, 3, 1, 1, 1))).toThrow('malformed block: measure stream 0 has 2 bytes left over');
    expect(bad(Uint8Array.of(1, 1))).toThrow('malformed block: too short (2 bytes)');
    expect(() => sumMeasure(good, 2, 0, () => undefined)).toThrow('malformed block: measure 2 requested from a block of 2');
  });

  it('a bitmap with more bits than announced, or bits beyond the slot count, is refused', () => {
    // slots 10 -> 2-byte bitmap; key 0 with 1 cell announced as bitmap (h = 3) but two bits set
    expect(bad(Uint8Array.of(1, 1, 10, 1, 0, 3, 0b11, 0, 1, 1))).toThrow('malformed block: key 0 announces 1 cells, its bitmap has 2');
    expect(bad(Uint8Array.of(1, 1, 10, 1, 0, 3, 0, 0b100, 1))).toThrow('malformed block: slot 10 beyond 10 in key 0');
  });

  it('random corruption never crashes with anything but BlockFormatError or a wrong-but-valid block', () => {
    const rand = prng(3);
    for (let t = 0; t < 2000; t++) {
      const b = Uint8Array.from(dense);
      b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      try {
        decodeBlock(b);
      } catch (err) {
        expect(err).toBeInstanceOf(BlockFormatError);
      }
    }
  });
});

describe('sumMeasure against decodeBlock', () => {
  it('adds the same values for random blocks (full, sparse, listed keys; offsets in and out of the column)', () => {
    const rnd = prng(42);
    for (let round = 0; round < 300; round++) {
      const slots = 1 + Math.floor(rnd() * 70);
      const rows: Array<[number, number, number, number]> = [];
      const keys = 1 + Math.floor(rnd() * 5);
      for (let k = 0; k < keys; k++) {
        const key = k * 7 + Math.floor(rnd() * 7);
        const density = [1, 1, 0.5, 0.05][Math.floor(rnd() * 4)] as number;
        for (let s = 0; s < slots; s++) {
          if (rnd() >= density) continue;
          const big = rnd() < 0.2;
          rows.push([key, s, big ? Math.floor(rnd() * 2 ** 40) : Math.floor(rnd() * 300), Math.floor(rnd() * 1e6)]);
        }
      }
      if (rows.length === 0) continue;
      const buf = encodeBlock(slots, cols(rows));
      const decoded = decodeBlock(buf).cells;
      for (const m of [0, 1]) {
        const offset = Math.floor(rnd() * 40) - 20;
        const width = Math.floor(rnd() * 90);
        const expected = new Map<number, Float64Array>();
        const got = new Map<number, Float64Array>();
        const skipKey = decoded.keys[Math.floor(rnd() * decoded.count)] as number;
        const columnOf = (into: Map<number, Float64Array>) => (key: number): Float64Array | undefined => {
          if (key === skipKey && round % 3 === 0) return undefined;
          let c = into.get(key);
          if (!c) into.set(key, (c = new Float64Array(width)));
          return c;
        };
        const ex = columnOf(expected);
        for (let i = 0; i < decoded.count; i++) {
          const c = ex(decoded.keys[i] as number);
          const at = offset + (decoded.slots[i] as number);
          if (c && at >= 0 && at < c.length) c[at] = (c[at] as number) + ((decoded.values[m] as Float64Array)[i] as number);
        }
        sumMeasure(buf, m, offset, columnOf(got));
        expect([...got.entries()].map(([k, c]) => [k, Array.from(c)])).toEqual([...expected.entries()].map(([k, c]) => [k, Array.from(c)]));
      }
    }
  });
});

describe('addAllMeasures against decodeBlock', () => {
  it('adds every measure and marks the same slots for random blocks (ratio and plain streams)', () => {
    const rnd = prng(7);
    for (let round = 0; round < 200; round++) {
      const slots = 1 + Math.floor(rnd() * 70);
      const measures = 1 + Math.floor(rnd() * 4);
      const rows: Array<[number, number, ...number[]]> = [];
      for (let key = 0; key < 1 + Math.floor(rnd() * 3); key++) {
        const density = [1, 0.5, 0.1][Math.floor(rnd() * 3)] as number;
        for (let s = 0; s < slots; s++) {
          if (rnd() >= density) continue;
          const req = Math.floor(rnd() * 500);
          rows.push([key, s, req, ...Array.from({ length: measures - 1 }, () => (rnd() < 0.7 ? req * 25 + Math.floor(rnd() * 9) : Math.floor(rnd() * 1e5)))]);
        }
      }
      if (rows.length === 0) continue;
      const buf = encodeBlock(slots, cols(rows, measures));
      const d = decodeBlock(buf).cells;
      const offset = Math.floor(rnd() * 30) - 15;
      const n = Math.floor(rnd() * 80);
      const width = 1 + Math.floor(rnd() * measures);
      const expected = new Float64Array(n * width);
      const marked = new Uint8Array(n);
      for (let i = 0; i < d.count; i++) {
        const at = offset + (d.slots[i] as number);
        if (at < 0 || at >= n) continue;
        marked[at] = 1;
        for (let m = 0; m < width; m++) expected[at * width + m] = (expected[at * width + m] as number) + ((d.values[m] as Float64Array)[i] as number);
      }
      const into = new Float64Array(n * width);
      const mark = new Uint8Array(n);
      addAllMeasures(buf, offset, width, into, mark);
      expect(Array.from(into)).toEqual(Array.from(expected));
      expect(Array.from(mark)).toEqual(Array.from(marked));
    }
    expect(() => addAllMeasures(encodeBlock(4, cols([[0, 1, 2, 3]])), 0, 3, new Float64Array(12), new Uint8Array(4))).toThrow(BlockFormatError);
  });
});

/**
 * A random block for the one-slot readers' property tests: up to 70 slots, 1-4 measures, keys full,
 * sparse or listed, values in ratio to the first measure or not; undefined when it drew no cell.
 */
function randomBlock(rnd: () => number): { slots: number; measures: number; buf: Uint8Array; d: ReturnType<typeof decodeBlock>['cells'] } | undefined {
  const slots = 1 + Math.floor(rnd() * 70);
  const measures = 1 + Math.floor(rnd() * 4);
  const rows: Array<[number, number, ...number[]]> = [];
  for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) {
    const key = k * 3 + Math.floor(rnd() * 3);
    const density = [1, 1, 0.5, 0.05][Math.floor(rnd() * 4)] as number;
    for (let s = 0; s < slots; s++) {
      if (rnd() >= density) continue;
      const req = rnd() < 0.1 ? Math.floor(rnd() * 2 ** 40) : Math.floor(rnd() * 500);
      rows.push([key, s, req, ...Array.from({ length: measures - 1 }, () => (rnd() < 0.7 ? req * 25 + Math.floor(rnd() * 9) : Math.floor(rnd() * 1e9)))]);
    }
  }
  if (rows.length === 0) return undefined;
  const buf = encodeBlock(slots, cols(rows, measures));
  return { slots, measures, buf, d: decodeBlock(buf).cells };
}

describe('addSlotMeasures against decodeBlock', () => {
  it('adds one slot of the asked measures per key for random blocks (full, sparse, listed keys; ratio and plain streams)', () => {
    const rnd = prng(11);
    for (let round = 0; round < 300; round++) {
      const block = randomBlock(rnd);
      if (block === undefined) continue;
      const { slots, measures, buf, d } = block;
      const slot = Math.floor(rnd() * (slots + 4)) - 2;
      const asked = Array.from({ length: 1 + Math.floor(rnd() * measures) }, () => Math.floor(rnd() * measures));
      const width = 1 + Math.floor(rnd() * 12);
      const expected = asked.map(() => new Float64Array(width));
      for (let i = 0; i < d.count; i++) {
        const key = d.keys[i] as number;
        if (d.slots[i] !== slot || key >= width) continue;
        asked.forEach((m, j) => {
          const e = expected[j] as Float64Array;
          e[key] = (e[key] as number) + ((d.values[m] as Float64Array)[i] as number);
        });
      }
      const into = asked.map(() => new Float64Array(width));
      addSlotMeasures(buf, slot, asked, into);
      expect(into.map((c) => Array.from(c))).toEqual(expected.map((c) => Array.from(c)));
    }
  });

  it('checks what it reads: an unknown measure, a truncated block and trailing stream bytes are refused', () => {
    const buf = encodeBlock(60, cols([[0, 3, 5, 125], [2, 3, 1, 9]]));
    expect(() => addSlotMeasures(buf, 3, [2], [new Float64Array(4)])).toThrow(BlockFormatError);
    for (let cut = 1; cut < buf.length; cut++) expect(() => addSlotMeasures(buf.subarray(0, cut), 3, [0, 1], [new Float64Array(4), new Float64Array(4)])).toThrow(BlockFormatError);
    // One stream length one byte longer than its stream: the stream does not end where announced.
    const v1 = Uint8Array.of(1, 1, 60, 1, 200, 1, 4, 0, 5, 3, 4, 3, 0);
    expect(() => addSlotMeasures(v1, 5, [0], [new Float64Array(300)])).toThrow(BlockFormatError);
  });
});

describe('addSlotThroughMeasures against decodeBlock', () => {
  it('adds one slot, or the sum of slots up to it, of the asked measures per key for random blocks (full, sparse, listed keys; ratio and plain streams)', () => {
    const rnd = prng(23);
    for (let round = 0; round < 300; round++) {
      const block = randomBlock(rnd);
      if (block === undefined) continue;
      const { slots, measures, buf, d } = block;
      const slot = Math.floor(rnd() * (slots + 4)) - 2;
      const asked = Array.from({ length: 1 + Math.floor(rnd() * measures) }, () => Math.floor(rnd() * measures));
      const through = asked.map(() => rnd() < 0.5);
      const width = 1 + Math.floor(rnd() * 12);
      const expected = asked.map(() => new Float64Array(width));
      for (let i = 0; i < d.count; i++) {
        const key = d.keys[i] as number;
        if (key >= width) continue;
        asked.forEach((m, j) => {
          if (through[j] ? (d.slots[i] as number) > slot : d.slots[i] !== slot) return;
          const e = expected[j] as Float64Array;
          e[key] = (e[key] as number) + ((d.values[m] as Float64Array)[i] as number);
        });
      }
      const into = asked.map(() => new Float64Array(width));
      addSlotThroughMeasures(buf, slot, asked, through, into);
      expect(into.map((c) => Array.from(c))).toEqual(expected.map((c) => Array.from(c)));
    }
  });

  it('checks what it reads: an unknown measure, a truncated block and trailing stream bytes are refused', () => {
    const buf = encodeBlock(60, cols([[0, 3, 5, 125], [2, 3, 1, 9]]));
    expect(() => addSlotThroughMeasures(buf, 3, [2], [true], [new Float64Array(4)])).toThrow(BlockFormatError);
    for (let cut = 1; cut < buf.length; cut++) {
      expect(() => addSlotThroughMeasures(buf.subarray(0, cut), 3, [0, 1], [false, true], [new Float64Array(4), new Float64Array(4)])).toThrow(BlockFormatError);
    }
    const v1 = Uint8Array.of(1, 1, 60, 1, 200, 1, 4, 0, 5, 3, 4, 3, 0);
    expect(() => addSlotThroughMeasures(v1, 5, [0], [true], [new Float64Array(300)])).toThrow(BlockFormatError);
  });
});

describe('decodeBlockInto', () => {
  it('decodes block after block into the same columns as decodeBlock does (full keys, lists, bitmaps, ratio streams, growth)', () => {
    const rand = prng(5);
    let into = newCellColumns(3, 2);
    for (let round = 0; round < 40; round++) {
      const slots = 1 + Math.floor(rand() * 60);
      const rows: Array<[number, number, number, number, number]> = [];
      for (let key = 0; key < 1 + Math.floor(rand() * 6); key++) {
        const full = rand() < 0.3;
        for (let slot = 0; slot < slots; slot++) {
          if (!full && rand() < 0.6) continue;
          const requests = Math.floor(rand() * 50);
          rows.push([key * 3, slot, requests, requests * 1200 + Math.floor(rand() * 40), Math.floor(rand() * 2 ** 40)]);
        }
      }
      const buf = encodeBlock(slots, cols(rows, 3));
      const got = decodeBlockInto(buf, into);
      into = got.cells;
      expect(got.slots).toBe(slots);
      expect(rowsOf(got.cells)).toEqual(rowsOf(decodeBlock(buf).cells));
      expect(rowsOf(got.cells)).toEqual(rows);
    }
  });

  it('rejects a malformed block as decodeBlock does', () => {
    const buf = encodeBlock(4, cols([[1, 0, 5, 6], [1, 3, 7, 8]]));
    expect(() => decodeBlockInto(buf.subarray(0, buf.length - 1), newCellColumns(2))).toThrow(BlockFormatError);
  });
});

describe('measure stream form', () => {
  /** The bytes of one measure stream in the plain form, and in the ratio form (undefined when a product or residual leaves the exact range). */
  function forms(c: CellColumns, m: number): { plain: number[]; ratio: number[] | undefined } {
    const plain = new ByteWriter();
    plain.uint(0);
    for (let i = 0; i < c.count; i++) plain.uint(c.values[m]?.[i] as number);
    const ratio = new ByteWriter();
    ratio.uint(1);
    const ratios: number[] = [];
    for (let i = 0; i < c.count;) {
      let j = i;
      let v = 0;
      let b = 0;
      for (; j < c.count && c.keys[j] === c.keys[i]; j++) {
        v += c.values[m]?.[j] as number;
        b += c.values[0]?.[j] as number;
      }
      ratios.push(b > 0 ? Math.round(v / b) : 0);
      i = j;
    }
    if (!ratios.every((r) => Number.isSafeInteger(r))) return { plain: [...plain.view()], ratio: undefined };
    for (const r of ratios) ratio.uint(r);
    let k = -1;
    for (let i = 0; i < c.count; i++) {
      if (i === 0 || c.keys[i] !== c.keys[i - 1]) k++;
      const pred = (c.values[0]?.[i] as number) * (ratios[k] as number);
      const d = (c.values[m]?.[i] as number) - pred;
      const z = d >= 0 ? 2 * d : -2 * d - 1;
      if (!Number.isSafeInteger(pred) || !Number.isSafeInteger(z) || z > 2 ** 52) return { plain: [...plain.view()], ratio: undefined };
      ratio.uint(z);
    }
    return { plain: [...plain.view()], ratio: [...ratio.view()] };
  }

  it('is the ratio form exactly when it is valid and strictly shorter than the plain one (random blocks: ratios that win, lose, tie, overflow)', () => {
    const rnd = prng(2121);
    let ratioWins = 0;
    let plainKept = 0;
    for (let t = 0; t < 3000; t++) {
      const measures = 2 + Math.floor(rnd() * 5);
      const rows: Array<[number, number, ...number[]]> = [];
      const keys = 1 + Math.floor(rnd() * 6);
      const shape = Math.floor(rnd() * 4);
      // Per measure: in ratio to measure 0 (with residuals of some size), small counts, an exact multiple, or anything.
      const kinds = Array.from({ length: measures - 1 }, () => rnd());
      const noise = Array.from({ length: measures - 1 }, () => [3, 300, 70_000][Math.floor(rnd() * 3)] as number);
      for (let k = 0; k < keys; k++) {
        for (let s = 0; s < 15; s++) {
          if (rnd() < 0.5) continue;
          const base = shape === 0 ? 0 : shape === 3 && rnd() < 0.3 ? Math.floor(rnd() * 2 ** 40) : Math.floor(rnd() * 40);
          const more = kinds.map((kind, m) => {
            if (kind < 0.4) return Math.min(Number.MAX_SAFE_INTEGER, base * (100_000 + k) + Math.floor(rnd() * (noise[m] as number)));
            if (kind < 0.6) return Math.floor(rnd() * 3);
            if (kind < 0.8) return base * 130;
            return shape === 3 ? Math.floor(rnd() * 2 ** 53) : Math.floor(rnd() * 1e7);
          });
          rows.push([k * 7, s, base, ...more]);
        }
      }
      if (rows.length === 0) continue;
      const c = cols(rows, measures);
      const buf = encodeBlock(15, c);
      const want: number[] = [...forms(c, 0).plain];
      for (let m = 1; m < measures; m++) {
        const { plain, ratio } = forms(c, m);
        const useRatio = ratio !== undefined && ratio.length < plain.length;
        if (useRatio) ratioWins++;
        else plainKept++;
        want.push(...(useRatio ? ratio : plain));
      }
      expect([...buf.subarray(buf.length - want.length)], `block ${t}`).toEqual(want);
      expect(rowsOf(decodeBlock(buf).cells)).toEqual(rowsOf(c));
    }
    expect(ratioWins).toBeGreaterThan(500);
    expect(plainKept).toBeGreaterThan(500);
  });
});
