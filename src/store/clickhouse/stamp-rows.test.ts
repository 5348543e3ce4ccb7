import { describe, expect, it } from 'vitest';
import type { StampGrid } from './stamp-grid.js';
import { addRawStamps, finishRawStamps, type RawStampLayout } from './stamp-rows.js';

const U64 = 1n << 64n;
const grid = (projects: string[], domains: string[], cells: number): StampGrid => {
  const size = projects.length * domains.length * cells;
  return {
    projects: new Map(projects.map((p, i) => [p, i])), domains: new Map(domains.map((d, i) => [d, i])), from: 0, hours: cells,
    rows: new Float64Array(size), tagsHi: new Float64Array(size), tagsLo: new Float64Array(size),
  };
};
const one: RawStampLayout = { project: 0, domain: 0, spans: [{ from: 100, to: 103, cellBase: 0 }] };
/** The cell's stamp as the 64-bit values: rows (a number), tags (hi * 2^32 + lo). */
const stamp = (g: StampGrid, c: number): [number, bigint] => [g.rows[c] as number, (BigInt(g.tagsHi[c] as number) << 32n) + BigInt(g.tagsLo[c] as number)];
/** A deterministic generator of 64-bit values (xorshift), for the model test. */
function* u64s(seed: bigint): Generator<bigint> {
  let x = seed;
  for (;;) {
    x ^= (x << 13n) % U64;
    x ^= x >> 7n;
    x ^= (x << 17n) % U64;
    yield x;
  }
}

describe('raw stamp rows', () => {
  it('adds a cell\'s rows up mod 2^64 as sum() of the UInt64 columns does: tags that wrap, a repair row taking rows back', () => {
    const g = grid(['p'], ['d'], 3);
    const high = new Float64Array(3);
    const max = (U64 - 1n).toString();
    // Cell 0 (time 100): three rows not merged yet, tags wrapping past 2^64 twice; rows 7 + 5 + (2^64 - 3) (a repair's row) = 9.
    addRawStamps(`100\t7\t${max}\n100\t5\t${max}\n100\t${(U64 - 3n).toString()}\t4294967296\n`, g, high, one);
    // Cell 2 (time 102): one row, the largest tag; the last row without its newline.
    addRawStamps(`102\t1\t${max}\n102\t0\t0`, g, high, one);
    finishRawStamps(g, high);
    expect(stamp(g, 0)).toEqual([9, (2n * (U64 - 1n) + 4294967296n) % U64]);
    expect(stamp(g, 1)).toEqual([0, 0n]);
    expect(stamp(g, 2)).toEqual([1, U64 - 1n]);
  });

  it('gives the sums of a BigInt model over random 64-bit rows, in any number of reads', () => {
    const cells = 5;
    const g = grid(['p'], ['d'], cells);
    const high = new Float64Array(cells);
    const want = Array.from({ length: cells }, () => [0n, 0n]);
    const rnd = u64s(88172645463325252n);
    for (let read = 0; read < 20; read++) {
      let text = '';
      for (let k = 0; k < 7; k++) {
        const c = Number((rnd.next().value as bigint) % BigInt(cells));
        // Rows: a small count, or a repair's row taking back some of the cell's rows so far, stored as 2^64 - k; tags: any 64 bits.
        const w = want[c] as [bigint, bigint];
        const back = w[0] > 0n && (rnd.next().value as bigint) % 3n === 0n;
        const rows = back ? U64 - ((rnd.next().value as bigint) % w[0] + 1n) : (rnd.next().value as bigint) % 1000n;
        const tags = rnd.next().value as bigint;
        w[0] = (w[0] + rows) % U64;
        w[1] = (w[1] + tags) % U64;
        text += `${100 + c}\t${rows.toString()}\t${tags.toString()}\n`;
      }
      addRawStamps(text, g, high, { ...one, spans: [{ from: 100, to: 100 + cells, cellBase: 0 }] });
    }
    finishRawStamps(g, high);
    for (let c = 0; c < cells; c++) {
      const [rows, tags] = want[c] as [bigint, bigint];
      expect(stamp(g, c)).toEqual([Number(rows), tags]);
    }
  });

  it('finds each row\'s project and domain by name when several were read (TabSeparated escapes undone), the cell from the layout', () => {
    const g = grid(['p1', 'p\t2'], ['a.example', 'b\\c'], 4);
    const high = new Float64Array(16);
    // Two day cells (days 20 and 21), then hour cells from cellBase 2: hour 500 is cell 2, 501 cell 3; days and hours in one read, in any order.
    const spans = [{ from: 20, to: 22, cellBase: 0 }, { from: 500, to: 502, cellBase: 2 }];
    addRawStamps('p1\ta.example\t500\t5\t7\np\\t2\tb\\\\c\t501\t1\t8589934593\np1\ta.example\t21\t4\t9\n', g, high, { project: -1, domain: -1, spans });
    // One project, several domains: only the domain named.
    addRawStamps('b\\\\c\t500\t2\t3\nb\\\\c\t20\t6\t1\n', g, high, { project: 0, domain: -1, spans });
    finishRawStamps(g, high);
    expect(stamp(g, 2)).toEqual([5, 7n]);
    // (p\t2, b\c) is the fourth (project, domain): cells 12-15.
    expect(stamp(g, 15)).toEqual([1, 8589934593n]);
    expect([g.tagsHi[15], g.tagsLo[15]]).toEqual([2, 1]);
    expect(stamp(g, 6)).toEqual([2, 3n]);
    expect(stamp(g, 1)).toEqual([4, 9n]);
    expect(stamp(g, 4)).toEqual([6, 1n]);
    expect([...g.rows].filter((v) => v !== 0)).toHaveLength(5);
    // A time in no span (between the days and the hours, or past the hours) fails the read.
    expect(() => addRawStamps('p1\ta.example\t22\t1\t1\n', g, high, { project: -1, domain: -1, spans })).toThrow(/outside/);
    expect(() => addRawStamps('p1\ta.example\t502\t1\t1\n', g, high, { project: -1, domain: -1, spans })).toThrow(/outside/);
  });

  it('fails the read on a row not understood: a name not asked for, a field not a UInt64, a missing or extra field', () => {
    const bad = (text: string, layout: RawStampLayout = one): (() => void) => () => addRawStamps(text, grid(['p'], ['d'], 2), new Float64Array(2), layout);
    const named = { ...one, domain: -1 };
    expect(bad('z\t100\t1\t1\n', named)).toThrow(/name/);
    expect(bad('d100\t1\t1\n', named)).toThrow(/name/);
    expect(bad('100\t1\t\\N\n')).toThrow();
    expect(bad('100\t-1\t1\n')).toThrow();
    expect(bad('100\t1\n')).toThrow(/row/);
    expect(bad('100\t1\t1\t1\n')).toThrow(/row/);
    expect(bad('100\t1\t\n')).toThrow();
    expect(bad('100\t1\t1.5\n')).toThrow(/row/);
    // 2^64 is no UInt64; 2^64 - 1 is.
    expect(bad(`100\t1\t${U64.toString()}\n`)).toThrow(/2\^64/);
    expect(bad(`100\t1\t${(U64 - 1n).toString()}\n`)).not.toThrow();
    // A time of 2^32 or more is no hour or day; a time outside the asked ones is not understood either.
    expect(bad('4294967396\t1\t1\n')).toThrow(/row/);
    expect(bad('99\t1\t1\n')).toThrow(/outside/);
  });
});
