import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { decodeBlock } from './codec.js';
import { Cube, type CubeCells } from './cube.js';

/** A level keeping dims in the cell key (CubeKeyLevel): one block per (series, time block) for every value of them. */
const spec = {
  name: 'k', dims: [{ name: 'a', values: ['x', 'y', 'z'] }, { name: 'b', values: ['p', 'q'] }],
  measures: ['n'], slotMs: 60_000, blockSlots: 15,
};
const keyed = new Cube({ ...spec, levels: [{ dims: [], inKey: ['a', 'b'] }, ['a'], []], keyRadix: 4 });
/** The same cube with a and b in the row id: the reference. */
const grouped = new Cube({ ...spec, name: 'g', levels: [['a', 'b'], ['a'], []] });

function cells(rows: number[][]): CubeCells & { count: number } {
  const col = (i: number): Float64Array => Float64Array.from(rows.map((r) => r[i] as number));
  return { count: rows.length, series: col(0), slot: col(1), dims: [col(2), col(3)], key: col(4), measures: [col(5)] };
}

it('stores one block per series and time block, keyed by group x radix + key, and sums every filter as the grouped layout', () => {
  const rand = ((s: number) => () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32))(9);
  // [series, slot, a, b, key, n]: two series, three quarter-hours, every group, keys 0-3.
  const rows = Array.from({ length: 600 }, () => [1 + Math.floor(rand() * 2), 1000 * 15 + Math.floor(rand() * 45), Math.floor(rand() * 3), Math.floor(rand() * 2), Math.floor(rand() * 4), 1 + Math.floor(rand() * 9)]);
  const db = new Database(':memory:');
  db.exec(keyed.ddl());
  db.exec(grouped.ddl());
  for (const c of [rows.slice(0, 250), rows.slice(250)]) {
    keyed.write(db, cells(c));
    grouped.write(db, cells(c));
  }
  const level = keyed.levels[0] as (typeof keyed.levels)[number];
  expect(level.table.name).toBe('cube_k_key_a_b');
  const stored = [...level.table.all(db)];
  expect(stored.map((r) => [r.series, r.grp, r.block])).toEqual([[1, 0, 1000], [2, 0, 1000], [1, 0, 1001], [2, 0, 1001], [1, 0, 1002], [2, 0, 1002]]);
  const keys = new Set(stored.flatMap((r) => [...decodeBlock(r.data).cells.keys]));
  expect(Math.max(...keys)).toBe((2 * 2 + 1) * 4 + 3);
  for (const filter of [[[], []], [[1], []], [[], [0]], [[0, 2], [1]], [[2], [0, 1]]] as number[][][]) {
    for (const key of [0, 3]) {
      const sums = (cube: Cube): number[] => {
        const out = new Float64Array(45);
        cube.sum(db, { series: [1, 2], filter, fromSlot: 1000 * 15, toSlot: 1003 * 15, measure: 0, column: (k) => (k === key ? out : undefined) });
        return [...out];
      };
      const naive = new Array<number>(45).fill(0);
      for (const r of rows) {
        if (r[4] !== key || (filter[0]!.length > 0 && !filter[0]!.includes(r[2]!)) || (filter[1]!.length > 0 && !filter[1]!.includes(r[3]!))) continue;
        const at = r[1]! - 1000 * 15;
        naive[at] = (naive[at] as number) + r[5]!;
      }
      expect(sums(keyed)).toEqual(naive);
      expect(sums(grouped)).toEqual(naive);
    }
  }
  // A b filter (kept only by the key level) reads the key level; an a filter the smaller row-id level.
  expect(keyed.levelFor([[], [1]])).toBe(level);
  expect(keyed.levelFor([[1], []]).dims).toEqual(['a']);
  expect(keyed.levelFor([[], []]).dims).toEqual([]);
  expect(keyed.levelFor([[], []])).not.toBe(level);
  // A key beyond the radix would overlap the next group's: refused, nothing written.
  expect(() => keyed.write(db, cells([[1, 1000 * 15, 0, 0, 4, 1]]))).toThrow(RangeError);
  expect(() => new Cube({ ...spec, levels: [{ dims: [], inKey: ['a'] }] })).toThrow(/keyRadix/);
});
