import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { BlockTable } from './table.js';

/** What scan hands over, as sorted "block/series/first byte" texts. */
function scanned(db: Database.Database, t: BlockTable, series: number[], groups: number[], from: number, to: number): string[] {
  const seen: string[] = [];
  t.scan(db, series, groups, from, to, (block, data, s) => seen.push(`${block}/${s}/${data[0]}`));
  return seen.sort();
}

it('scan: many close series read as id ranges give exactly the asked rows, like point lookups', () => {
  const db = new Database(':memory:');
  const t = new BlockTable('t_range', 60, 1, 'sum', { block: 20, grp: 2 });
  db.exec(t.ddl());
  for (let block = 10; block < 13; block++) {
    for (let s = 0; s < 120; s++) for (let g = 0; g < 3; g++) t.put(db, s, g, block, Uint8Array.of(g, s & 255));
  }
  // Every other series of 0..99 and series 101: 51 series over a span of 102 (ranges); groups 0 and 2 of 4.
  const series = [...Array.from({ length: 50 }, (_, i) => i * 2), 101];
  const expected: string[] = [];
  for (let block = 11; block < 13; block++) for (const s of series) for (const g of [0, 2]) expected.push(`${block}/${s}/${g}`);
  expect(scanned(db, t, series, [0, 2], 11, 13)).toEqual(expected.sort());
  // Spread out (span > 4 x count) or few series: point lookups, the same answer.
  expect(scanned(db, t, [0, 119], [1], 10, 11)).toEqual(['10/0/1', '10/119/1']);
  const spread = [...Array.from({ length: 40 }, (_, i) => i), 1000];
  expect(scanned(db, t, spread, [0], 12, 13)).toEqual(Array.from({ length: 40 }, (_, i) => `12/${i}/0`).sort());
});
