import type Database from 'better-sqlite3';
import type { BlockBuilder } from '../blocks/builder.js';
import { decodeBlock } from '../blocks/codec.js';
import type { CubeCells } from '../blocks/cube.js';
import {
  MEASURE_TOTALS_BYTES, MEASURE_TRAFFIC_BYTES, TRAFFIC_BLOCK_SLOTS, TRAFFIC_DOMAINS, TRAFFIC_TOTALS, TRAFFIC_TOTAL_BLOCK_SLOTS,
} from './traffic-layout.js';

const totals = (): NonNullable<(typeof TRAFFIC_TOTALS.levels)[number]> => TRAFFIC_TOTALS.levels[0] as NonNullable<(typeof TRAFFIC_TOTALS.levels)[number]>;
const domainTotals = (): NonNullable<(typeof TRAFFIC_DOMAINS.levels)[number]> => {
  const l = TRAFFIC_DOMAINS.levels.find((x) => x.dims.length === 0);
  if (!l) throw new Error('the traffic domain cube has no total level');
  return l;
};
/** 6-hour blocks of TRAFFIC_DOMAINS per day block of TRAFFIC_TOTALS. */
const PER_DAY = TRAFFIC_TOTAL_BLOCK_SLOTS / TRAFFIC_BLOCK_SLOTS;

/** Adds the domain cells of a write to the totals (inside the caller's transaction): their bytes, every cell with key 0. */
export function writeTrafficTotals(db: Database.Database, cells: CubeCells): void {
  if (cells.count === 0) return;
  TRAFFIC_TOTALS.write(db, { ...cells, key: new Int32Array(cells.count), measures: [cells.measures[MEASURE_TRAFFIC_BYTES] as ArrayLike<number>] });
}

/** Builder of the day block `day` of one series from its stored block, without the cells in [fromSlot, toSlot). */
function dayWithout(db: Database.Database, series: number, day: number, fromSlot: number, toSlot: number): BlockBuilder {
  const table = totals().table;
  const b = table.newBuilder();
  const old = db.prepare(`SELECT data FROM ${table.name} WHERE id = ?`).pluck().get(table.id(series, 0, day)) as Buffer | undefined;
  if (old === undefined) return b;
  const { cells } = decodeBlock(old);
  const row = new Float64Array(1);
  for (let i = 0; i < cells.count; i++) {
    const s = cells.slots[i] as number;
    if (s >= fromSlot && s < toSlot) continue;
    row[0] = (cells.values[MEASURE_TOTALS_BYTES] as Float64Array)[i] as number;
    b.add(0, s, row);
  }
  return b;
}

/**
 * The bulk path's totals for one domain series and 6-hour block: the day block's cells of that
 * block's slots are replaced by `perSlot` (bytes of slot s at 2 s + 1; requests at 2 s are not
 * kept), as the bulk path replaces the domain cube's block.
 */
export function replaceTrafficTotals(db: Database.Database, series: number, block: number, perSlot: Float64Array): void {
  const day = Math.floor(block / PER_DAY);
  const from = (block - day * PER_DAY) * TRAFFIC_BLOCK_SLOTS;
  const b = dayWithout(db, series, day, from, from + TRAFFIC_BLOCK_SLOTS);
  const row = new Float64Array(1);
  for (let s = 0; s < TRAFFIC_BLOCK_SLOTS; s++) {
    row[0] = perSlot[2 * s + 1] as number;
    // A slot with requests but 0 bytes keeps a cell, as in the domain cube.
    if ((perSlot[2 * s] as number) !== 0 || row[0] !== 0) b.add(0, from + s, row);
  }
  const table = totals().table;
  if (b.size > 0) table.put(db, series, 0, day, b.encode());
  else db.prepare(`DELETE FROM ${table.name} WHERE id = ?`).run(table.id(series, 0, day));
}

/**
 * Schema v5: creates the totals table and fills it from the domain cube's total level, one day at
 * a time (the rows of a day are an id range: the block is in the ids' high bits).
 */
export function migrateTrafficTotals(db: Database.Database): void {
  const target = totals().table;
  db.exec(target.ddl());
  const source = domainTotals().table;
  const unit = source.id(0, 0, 1);
  const next = db.prepare(`SELECT min(id) FROM ${source.name} WHERE id >= ?`).pluck();
  const rows = db.prepare(`SELECT id, data FROM ${source.name} WHERE id >= ? AND id < ?`).raw();
  for (let at = next.get(0) as number | null; at !== null; ) {
    const day = Math.floor(source.parts(at).block / PER_DAY);
    const end = (day + 1) * PER_DAY * unit;
    const builders = new Map<number, BlockBuilder>();
    const row = new Float64Array(1);
    for (const [id, data] of rows.all(day * PER_DAY * unit, end) as Array<[number, Buffer]>) {
      const { series, block } = source.parts(id);
      let b = builders.get(series);
      if (!b) builders.set(series, (b = target.newBuilder()));
      const { cells } = decodeBlock(data);
      const offset = (block - day * PER_DAY) * TRAFFIC_BLOCK_SLOTS;
      for (let i = 0; i < cells.count; i++) {
        row[0] = (cells.values[MEASURE_TRAFFIC_BYTES] as Float64Array)[i] as number;
        b.add(0, offset + (cells.slots[i] as number), row);
      }
    }
    for (const [series, b] of builders) target.put(db, series, 0, day, b.encode());
    at = next.get(end) as number | null;
  }
}
