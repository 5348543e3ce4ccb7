import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { sumMeasure } from './codec.js';
import { DELTA_FOLD, writeDeltaLevel } from './delta-write.js';
import { writeLevel, type LevelCells } from './level-write.js';
import { BlockTable } from './table.js';

const BITS = { block: 21, grp: 1 };
const SLOTS = 15;
const BLOCK0 = 480_000;

/** A batch of n random cells over `series` series and blocks BLOCK0 .. BLOCK0 + blocks - 1 (grp 0). */
function batch(table: BlockTable, n: number, series: number, blocks: number, rnd: (k: number) => number): LevelCells {
  const ids = new Float64Array(n);
  const slots = new Int32Array(n);
  const key = new Int32Array(n);
  const m0 = new Float64Array(n);
  const m1 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    ids[i] = table.id(rnd(series), 0, BLOCK0 + rnd(blocks));
    slots[i] = rnd(SLOTS);
    key[i] = rnd(8) === 0 ? 5000 + rnd(3) : rnd(40) * 4 + rnd(3);
    m0[i] = 1 + rnd(5);
    m1[i] = rnd(3) === 0 ? 0 : rnd(2_000_000);
  }
  return { count: n, ids, slots, key, measures: [m0, m1] };
}

describe('writeDeltaLevel', () => {
  it('reads back what writeLevel stores, batch after batch, through deltas and folds', () => {
    const db = new Database(':memory:');
    const plain = new BlockTable('dl_plain', SLOTS, 2, 'sum', BITS);
    const delta = new BlockTable('dl_delta', SLOTS, 2, 'sum', BITS);
    db.exec(plain.ddl());
    db.exec(delta.ddl());
    let seed = 5;
    const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    let sawDelta = false;
    let sawFold = false;
    for (let round = 0; round < 40; round++) {
      // Small flushes (the sorted merge), now and then a big one (the accumulator).
      const cells = batch(plain, round % 13 === 12 ? 4000 : 20 + rnd(200), 30, 3, rnd);
      const deltasBefore = db.prepare(`SELECT count(*) FROM ${delta.name} WHERE id % 2 = 1`).pluck().get() as number;
      db.transaction(() => {
        writeLevel(db, plain, cells);
        writeDeltaLevel(db, delta, cells, 1, round % 3 === 0 ? 0 : Infinity);
      })();
      const deltas = db.prepare(`SELECT count(*) FROM ${delta.name} WHERE id % 2 = 1`).pluck().get() as number;
      sawDelta ||= deltas > 0;
      sawFold ||= deltas < deltasBefore;
      expect(sums(db, delta, [0, 1])).toEqual(sums(db, plain, [0]));
    }
    expect(sawDelta && sawFold).toBe(true);
    // A block is stored once per (series, time block), beside at most one delta.
    const blocks = db.prepare(`SELECT count(*) FROM ${delta.name} WHERE id % 2 = 0`).pluck().get() as number;
    expect(blocks).toBe(db.prepare(`SELECT count(*) FROM ${plain.name}`).pluck().get() as number);
  });

  it('leaves a stored block untouched while its delta is small, and folds the delta into it once it weighs DELTA_FOLD of it', () => {
    const db = new Database(':memory:');
    const t = new BlockTable('dl_one', SLOTS, 2, 'sum', BITS);
    db.exec(t.ddl());
    const id = t.id(3, 0, BLOCK0);
    const one = (key: number, slot: number, v: number): LevelCells => ({
      count: 1, ids: Float64Array.of(id), slots: Int32Array.of(slot), key: Int32Array.of(key), measures: [Float64Array.of(v), Float64Array.of(1)],
    });
    const big: LevelCells = {
      count: 400, ids: new Float64Array(400).fill(id), slots: Int32Array.from({ length: 400 }, (_, i) => i % SLOTS),
      key: Int32Array.from({ length: 400 }, (_, i) => Math.floor(i / SLOTS)), measures: [new Float64Array(400).fill(7), new Float64Array(400).fill(1)],
    };
    const row = (rowId: number): Buffer | undefined => db.prepare(`SELECT data FROM ${t.name} WHERE id = ?`).pluck().get(rowId) as Buffer | undefined;
    db.transaction(() => writeDeltaLevel(db, t, big, 1))();
    const block = row(id);
    expect(block).toBeDefined();
    expect(row(id + 1)).toBeUndefined();
    let writes = 0;
    while (row(id + 1) === undefined || (row(id + 1) as Buffer).length < DELTA_FOLD * (block as Buffer).length) {
      db.transaction(() => writeDeltaLevel(db, t, one(1000 + writes, writes % SLOTS, 2), 1))();
      writes++;
      expect(row(id)).toEqual(block);
      expect(writes).toBeLessThan(400);
    }
    expect(writes).toBeGreaterThan(3);
    // The next write folds: block and delta summed into the block, the delta row gone.
    db.transaction(() => writeDeltaLevel(db, t, one(1, 1, 5), 1))();
    expect(row(id + 1)).toBeUndefined();
    const folded = sums(db, t, [0]);
    expect(folded.get(`3|${BLOCK0}|1|1|0`)).toBe(12);
    expect(folded.get(`3|${BLOCK0}|1000|0|0`)).toBe(2);
    expect([...folded.keys()].filter((k) => k.endsWith('|0')).length).toBe(400 + writes);
  });

  it('folds a block\'s delta when a write starts its series\' next time block, and only that series\'', () => {
    const db = new Database(':memory:');
    const t = new BlockTable('dl_close', SLOTS, 2, 'sum', BITS);
    db.exec(t.ddl());
    const cell = (series: number, block: number, key: number, v: number): LevelCells => ({
      count: 1, ids: Float64Array.of(t.id(series, 0, block)), slots: Int32Array.of(3), key: Int32Array.of(key), measures: [Float64Array.of(v), Float64Array.of(1)],
    });
    const ids = (): number[] => db.prepare(`SELECT id FROM ${t.name} ORDER BY id`).pluck().all() as number[];
    for (const s of [0, 1]) {
      db.transaction(() => {
        writeDeltaLevel(db, t, cell(s, BLOCK0, 1, 1), 1);
        writeDeltaLevel(db, t, cell(s, BLOCK0, 2, 2), 1);
      })();
    }
    expect(ids()).toEqual([t.id(0, 0, BLOCK0), t.id(0, 0, BLOCK0) + 1, t.id(1, 0, BLOCK0), t.id(1, 0, BLOCK0) + 1]);
    const before = sums(db, t, [0, 1]);
    // Series 0 starts its next block: its closed block's delta is folded; series 1's stays.
    db.transaction(() => writeDeltaLevel(db, t, cell(0, BLOCK0 + 1, 1, 5), 1))();
    expect(ids()).toEqual([t.id(0, 0, BLOCK0), t.id(1, 0, BLOCK0), t.id(1, 0, BLOCK0) + 1, t.id(0, 0, BLOCK0 + 1)]);
    const after = sums(db, t, [0, 1]);
    expect(after.get(`0|${BLOCK0 + 1}|1|3|0`)).toBe(5);
    after.delete(`0|${BLOCK0 + 1}|1|3|0`);
    after.delete(`0|${BLOCK0 + 1}|1|3|1`);
    expect(after).toEqual(before);
    // A late cell of the closed block starts a small delta of its own.
    db.transaction(() => writeDeltaLevel(db, t, cell(0, BLOCK0, 1, 7), 1))();
    expect(ids()).toContain(t.id(0, 0, BLOCK0) + 1);
    expect(sums(db, t, [0, 1]).get(`0|${BLOCK0}|1|3|0`)).toBe(8);
  });

  it('folds a delta left without its block (a retention slice between the two rows)', () => {
    const db = new Database(':memory:');
    const t = new BlockTable('dl_orphan', SLOTS, 2, 'sum', BITS);
    db.exec(t.ddl());
    const id = t.id(0, 0, BLOCK0);
    const one = (v: number): LevelCells => ({ count: 1, ids: Float64Array.of(id), slots: Int32Array.of(2), key: Int32Array.of(9), measures: [Float64Array.of(v), Float64Array.of(0)] });
    db.transaction(() => {
      writeDeltaLevel(db, t, one(1), 1);
      writeDeltaLevel(db, t, one(2), 1);
    })();
    expect(t.deleteSlice(db, BLOCK0 + 1, 1)).toBe(1);
    expect(sums(db, t, [0, 1]).get(`0|${BLOCK0}|9|2|0`)).toBe(2);
    db.transaction(() => writeDeltaLevel(db, t, one(4), 1))();
    expect(db.prepare(`SELECT id FROM ${t.name}`).pluck().all()).toEqual([id]);
    expect(sums(db, t, [0, 1]).get(`0|${BLOCK0}|9|2|0`)).toBe(6);
  });
});

/** Per (series, block, key, slot, measure) the sum over every row of the groups a read scans. */
function sums(db: Database.Database, table: BlockTable, groups: number[]): Map<string, number> {
  const out = new Map<string, number>();
  const series = Array.from({ length: 64 }, (_, s) => s);
  table.scan(db, series, groups, BLOCK0, BLOCK0 + 8, (block, data, s) => {
    for (let m = 0; m < 2; m++) {
      const cols = new Map<number, Float64Array>();
      sumMeasure(data, m, 0, (key) => {
        let c = cols.get(key);
        if (c === undefined) cols.set(key, (c = new Float64Array(SLOTS)));
        return c;
      });
      for (const [key, col] of cols) {
        col.forEach((v, slot) => {
          if (v === 0) return;
          const k = `${s}|${block}|${key}|${slot}|${m}`;
          out.set(k, (out.get(k) ?? 0) + v);
        });
      }
    }
  });
  return new Map([...out].filter(([, v]) => v !== 0).sort((a, b) => (a[0] < b[0] ? -1 : 1)));
}
