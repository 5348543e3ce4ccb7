import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { decodeBlock } from './codec.js';
import { writeLevel } from './level-write.js';
import { BlockTable } from './table.js';

/** Every stored cell as "id|key|slot" -> "m0,m1". */
function contents(db: Database.Database, table: BlockTable): Map<string, string> {
  const out = new Map<string, string>();
  for (const row of db.prepare(`SELECT id, data FROM ${table.name}`).raw().all() as Array<[number, Uint8Array]>) {
    const { cells } = decodeBlock(row[1]);
    for (let i = 0; i < cells.count; i++) {
      out.set(`${row[0]}|${cells.keys[i]}|${cells.slots[i]}`, cells.values.map((v) => v[i]).join(','));
    }
  }
  return out;
}

describe('writeLevel', () => {
  it('stores what one cell-by-cell merge per block stores, over stored blocks, duplicates and large keys', () => {
    const db = new Database(':memory:');
    const mine = new BlockTable('lw_mine', 60, 2, 'sum', { block: 21, grp: 9 });
    const ref = new BlockTable('lw_ref', 60, 2, 'sum', { block: 21, grp: 9 });
    db.exec(mine.ddl());
    db.exec(ref.ddl());
    let seed = 11;
    const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    for (let round = 0; round < 4; round++) {
      const n = 3000 + rnd(3000);
      const ids = new Float64Array(n);
      const slots = new Int32Array(n);
      const key = new Int32Array(n);
      const m0 = new Float64Array(n);
      const m1 = new Float64Array(n);
      const parts: Array<{ series: number; grp: number; block: number }> = [];
      for (let i = 0; i < n; i++) {
        const p = { series: rnd(40), grp: rnd(300), block: 480_000 + rnd(3) };
        parts.push(p);
        ids[i] = mine.id(p.series, p.grp, p.block);
        slots[i] = rnd(60);
        // Mostly small codes (the dense table), some beyond it (key x 60 >= 65536).
        key[i] = rnd(10) === 0 ? 1100 + rnd(3) : 100 + rnd(12) * 50;
        m0[i] = 1 + rnd(5);
        m1[i] = (m0[i] as number) * 1000 + rnd(900);
      }
      db.transaction(() => {
        writeLevel(db, mine, { count: n, ids, slots, key, measures: [m0, m1] });
        for (let i = 0; i < n; i++) {
          const p = parts[i] as { series: number; grp: number; block: number };
          const b = ref.newBuilder();
          b.add(key[i] as number, slots[i] as number, [m0[i] as number, m1[i] as number]);
          ref.merge(db, p.series, p.grp, p.block, b);
        }
      })();
      const a = contents(db, mine);
      expect(a.size).toBeGreaterThan(1000);
      expect(a).toEqual(contents(db, ref));
    }
  });

  it('rejects a key or slot outside the block and writes nothing then', () => {
    const db = new Database(':memory:');
    const t = new BlockTable('lw_bad', 60, 1, 'sum', { block: 21, grp: 9 });
    db.exec(t.ddl());
    const one = (k: number, s: number): void => writeLevel(db, t, {
      count: 1, ids: Float64Array.of(t.id(1, 1, 1)), slots: Int32Array.of(s), key: [k], measures: [[1]],
    });
    expect(() => one(-1, 0)).toThrow(RangeError);
    expect(() => one(200, 60)).toThrow(RangeError);
    expect(() => one(1.5, 0)).toThrow(RangeError);
    expect(db.prepare('SELECT count(*) FROM lw_bad').pluck().get()).toBe(0);
    one(200, 59);
    expect(contents(db, t)).toEqual(new Map([[`${t.id(1, 1, 1)}|200|59`, '1']]));
  });

  it('saturates a sum past 2^53 - 1 (in one write and over stored blocks) instead of failing the write', () => {
    const db = new Database(':memory:');
    const t = new BlockTable('lw_sat', 60, 2, 'sum', { block: 21, grp: 9 });
    db.exec(t.ddl());
    const id = t.id(1, 1, 1);
    const max = Number.MAX_SAFE_INTEGER;
    // Two cells of one (key, slot) in one write: 2 requests, 2 x (2^53 - 1) bytes; and a cell beside it.
    writeLevel(db, t, { count: 3, ids: Float64Array.of(id, id, id), slots: Int32Array.of(5, 5, 6), key: [7, 7, 7], measures: [[1, 1, 1], [max, max, 10]] });
    expect(contents(db, t)).toEqual(new Map([[`${id}|7|5`, `2,${max}`], [`${id}|7|6`, '1,10']]));
    // Added to what is stored: still saturated, and the cell beside it still exact.
    writeLevel(db, t, { count: 2, ids: Float64Array.of(id, id), slots: Int32Array.of(5, 6), key: [7, 7], measures: [[max, 1], [1000, max - 10]] });
    expect(contents(db, t)).toEqual(new Map([[`${id}|7|5`, `${max},${max}`], [`${id}|7|6`, `2,${max}`]]));
  });
});
