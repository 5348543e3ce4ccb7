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

/** Every (block, series, bytes) a scan hands over, sorted, the bytes as hex. */
function scannedBytes(db: Database.Database, t: BlockTable, series: number[], groups: number[], from: number, to: number): string[] {
  const seen: string[] = [];
  t.scan(db, series, groups, from, to, (block, data, s) => seen.push(`${block}/${s}/${Buffer.from(data).toString('hex')}`));
  return seen.sort();
}

it('scan: blocks come back packed in one result row with every byte as stored (NULs, invalid UTF-8, large ids)', () => {
  const db = new Database(':memory:');
  // 30 block bits: the highest block ids need 2^52 and more (exact integers up to 2^53).
  const t = new BlockTable('t_packed', 60, 1, 'sum', { block: 30, grp: 2 });
  db.exec(t.ddl());
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const expected = new Map<string, string>();
  const blocks = [0, 1, 2, 2 ** 30 - 2, 2 ** 30 - 1];
  for (const block of blocks) {
    for (let s = 0; s < 40; s++) {
      for (let g = 0; g < 4; g++) {
        if (rnd(5) === 0) continue;
        // 0..3000 bytes of every value, runs of NULs and lone UTF-8 continuation/lead bytes among them.
        const data = Uint8Array.from({ length: rnd(7) === 0 ? 3000 : rnd(40) }, () => (rnd(3) === 0 ? 0 : rnd(256)));
        if (data.length === 0) continue;
        t.put(db, s, g, block, data);
        expected.set(`${block}/${s}/${g}`, Buffer.from(data).toString('hex'));
      }
    }
  }
  const want = (series: number[], groups: number[], from: number, to: number): string[] => {
    const out: string[] = [];
    for (const b of blocks) {
      if (b < from || b >= to) continue;
      for (const s of series) for (const g of groups) {
        const hex = expected.get(`${b}/${s}/${g}`);
        if (hex !== undefined) out.push(`${b}/${s}/${hex}`);
      }
    }
    return out.sort();
  };
  // Point lookups (few series), more ids than one statement takes (512), and id ranges (many close series).
  const top = 2 ** 30 - 2;
  expect(scannedBytes(db, t, [3, 17], [0, 1, 2, 3], 0, 3)).toEqual(want([3, 17], [0, 1, 2, 3], 0, 3));
  expect(scannedBytes(db, t, [3, 17], [0, 1, 2, 3], top, top + 2)).toEqual(want([3, 17], [0, 1, 2, 3], top, top + 2));
  expect(scannedBytes(db, t, [5], [2], 0, 3000)).toEqual(want([5], [2], 0, 3000));
  const many = Array.from({ length: 40 }, (_, i) => i);
  expect(scannedBytes(db, t, many, [0, 1, 3], 1, 3)).toEqual(want(many, [0, 1, 3], 1, 3));
  expect(scannedBytes(db, t, many, [0, 1, 2, 3], top, top + 2)).toEqual(want(many, [0, 1, 2, 3], top, top + 2));
  expect(want(many, [0, 1, 2, 3], top, top + 2).length).toBeGreaterThan(100);
  // Nothing stored there: no call.
  expect(scannedBytes(db, t, many, [0, 1, 2, 3], 3, 1000)).toEqual([]);
});

it('scan: a packed result too big for one SQLite value (SQLITE_TOOBIG) is read row by row, the same rows', () => {
  const db = new Database(':memory:');
  const t = new BlockTable('t_toobig', 60, 1, 'sum', { block: 20, grp: 2 });
  db.exec(t.ddl());
  for (let b = 0; b < 3; b++) for (let s = 0; s < 40; s++) t.put(db, s, 1, b, Uint8Array.of(b, s, 0, 255));
  const reference = scannedBytes(db, t, [1, 2, 39], [1], 0, 3);
  expect(reference).toHaveLength(9);
  // A result over SQLite's length limit (1e9 bytes by default) cannot be made here in a test's
  // memory: the packed statement is replaced by one failing as SQLite does (the only stand-in).
  const tooBig = new Proxy(db, {
    get(target, prop, receiver) {
      if (prop !== 'prepare') return Reflect.get(target, prop, receiver) as unknown;
      return (sql: string) => {
        if (!sql.includes('group_concat')) return target.prepare(sql);
        const failing = { raw: () => failing, get: () => { throw Object.assign(new Error('string or blob too big'), { code: 'SQLITE_TOOBIG' }); } };
        return failing;
      };
    },
  });
  expect(scannedBytes(tooBig, t, [1, 2, 39], [1], 0, 3)).toEqual(reference);
  expect(scannedBytes(tooBig, t, Array.from({ length: 40 }, (_, i) => i), [1], 0, 3)).toHaveLength(120);
});
