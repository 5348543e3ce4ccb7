import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { decodeBlock } from './codec.js';
import { writeLevel } from './level-write.js';
import { BlockTable } from './table.js';

/** Every stored row as id -> its bytes (hex) and its decoded cells. */
function rows(db: Database.Database, table: BlockTable): Map<number, { hex: string; cells: string }> {
  const out = new Map<number, { hex: string; cells: string }>();
  for (const [id, data] of db.prepare(`SELECT id, data FROM ${table.name}`).raw().all() as Array<[number, Uint8Array]>) {
    const { slots, cells } = decodeBlock(data);
    const list: string[] = [`slots ${slots}`];
    for (let i = 0; i < cells.count; i++) list.push(`${cells.keys[i]}/${cells.slots[i]}=${cells.values.map((v) => v[i]).join(',')}`);
    out.set(id, { hex: Buffer.from(data).toString('hex'), cells: list.join(' ') });
  }
  return out;
}

describe('writeLevel: the sorted merge (few new cells per block) against the scratch table', () => {
  // Property: over rounds of random writes onto the blocks the rounds before stored, the merge path
  // (every block merged, whatever its new cells) stores the same bytes, so the same cells, as the table path.
  it('stores the same blocks over stored blocks, duplicates, unsorted input, large keys, big groups and saturation', () => {
    const db = new Database(':memory:');
    const bits = { block: 21, grp: 9 };
    const merged = new BlockTable('cm_merge', 15, 6, 'sum', bits);
    const table = new BlockTable('cm_table', 15, 6, 'sum', bits);
    db.exec(merged.ddl());
    db.exec(table.ddl());
    let seed = 21;
    const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    const max = Number.MAX_SAFE_INTEGER;
    for (let round = 0; round < 30; round++) {
      const n = 1 + rnd(round % 5 === 0 ? 4000 : 400);
      const ids = new Float64Array(n);
      const slots = new Int32Array(n);
      const key = new Int32Array(n);
      const measures = Array.from({ length: 6 }, () => new Float64Array(n));
      // Few blocks in some rounds (groups of hundreds: the comparator sort), many in others (a few cells each).
      const groups = round % 3 === 0 ? 1 : 50;
      for (let i = 0; i < n; i++) {
        ids[i] = merged.id(rnd(4), rnd(groups), 1000 + rnd(2));
        slots[i] = round % 2 === 0 ? rnd(15) : (round >> 1) % 15;
        // Mostly small keys, some beyond the dense table (key x 15 >= 65536), repeats (duplicates in one write).
        key[i] = rnd(12) === 0 ? 5000 + rnd(3) : rnd(560);
        const m0 = 1 + rnd(20);
        (measures[0] as Float64Array)[i] = m0;
        (measures[1] as Float64Array)[i] = rnd(50) === 0 ? max - rnd(3) : m0 * 350_000 + rnd(9000);
        for (let m = 2; m < 6; m++) (measures[m] as Float64Array)[i] = rnd(m === 3 ? 600_000 : 4);
      }
      db.transaction(() => {
        writeLevel(db, merged, { count: n, ids, slots, key, measures }, Infinity);
        writeLevel(db, table, { count: n, ids, slots, key, measures }, 0);
      })();
    }
    const a = rows(db, merged);
    const b = rows(db, table);
    expect(a.size).toBeGreaterThan(300);
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [id, row] of a) {
      expect(row.cells).toBe(b.get(id)?.cells);
      expect(row.hex).toBe(b.get(id)?.hex);
    }
  });

  it('adds duplicates of one cell in the order given, after the stored value', () => {
    const db = new Database(':memory:');
    const t = new BlockTable('cm_order', 15, 1, 'sum', { block: 21, grp: 9 });
    db.exec(t.ddl());
    const id = t.id(1, 1, 1);
    const max = Number.MAX_SAFE_INTEGER;
    writeLevel(db, t, { count: 1, ids: Float64Array.of(id), slots: Int32Array.of(3), key: [9], measures: [[max - 1]] }, Infinity);
    // Unsorted, a duplicate of the stored cell and a cell before it: (max - 1) + 1 saturates nothing; + 5 saturates.
    writeLevel(db, t, { count: 4, ids: Float64Array.of(id, id, id, id), slots: Int32Array.of(3, 2, 3, 14), key: [9, 9, 9, 0], measures: [[1, 4, 5, 6]] }, Infinity);
    expect(rows(db, t).get(id)?.cells).toBe(`slots 15 0/14=6 9/2=4 9/3=${max}`);
  });
});
