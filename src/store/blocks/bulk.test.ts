import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { writeWholeBlock } from './bulk.js';
import { Cube, type CubeCells } from './cube.js';

const cube = new Cube({
  name: 't', dims: [{ name: 'a', values: ['x', 'y', 'z'] }, { name: 'b', values: ['p', 'q'] }],
  levels: [['a', 'b'], ['a'], ['b'], []], measures: ['n', 'bytes'], slotMs: 60_000, blockSlots: 60,
});

function cells(rows: number[][]): CubeCells & { count: number } {
  const col = (i: number): Float64Array => Float64Array.from(rows.map((r) => r[i] as number));
  return { count: rows.length, series: col(0), slot: col(1), dims: [col(2), col(3)], key: col(4), measures: [col(5), col(6)] };
}

it('writes the same blocks in bulk as the incremental write path, for every level', () => {
  const rand = ((s: number) => () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32))(5);
  const seen = new Set<string>();
  const rows: number[][] = [];
  const block = 1000;
  while (rows.length < 500) {
    const r = [1, block * 60 + Math.floor(rand() * 60), Math.floor(rand() * 3), Math.floor(rand() * 2), [200, 404, 500][Math.floor(rand() * 3)] as number];
    if (seen.has(r.join())) continue;
    seen.add(r.join());
    rows.push([...r, 1 + Math.floor(rand() * 9), Math.floor(rand() * 1e7)]);
  }
  const dump = (db: Database.Database): unknown => cube.levels.map((l) =>
    [...l.table.all(db)]);
  const a = new Database(':memory:');
  a.exec(cube.ddl());
  cube.write(a, cells(rows.slice(0, 200)));
  cube.write(a, cells(rows.slice(200)));
  const b = new Database(':memory:');
  b.exec(cube.ddl());
  writeWholeBlock(b, cube, 1, block, cells([...rows].reverse()));
  expect(dump(b)).toEqual(dump(a));
  expect(() => writeWholeBlock(b, cube, 1, block + 1, cells(rows))).toThrow(RangeError);
});
