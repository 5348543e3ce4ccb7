import type Database from 'better-sqlite3';
import type { BlockBuilder } from '../blocks/builder.js';
import { decodeBlock } from '../blocks/codec.js';
import type { CubeCells } from '../blocks/cube.js';
import { cachedStatement } from '../blocks/table.js';
import {
  MEASURE_TOTALS_BYTES, MEASURE_TRAFFIC_BYTES, TRAFFIC_BLOCK_SLOTS, TRAFFIC_DOMAINS, TRAFFIC_TOTALS, TRAFFIC_TOTAL_BLOCK_SLOTS,
} from './traffic-layout.js';

/**
 * The traffic totals (schema v5, `cube_trt_all`): bytes per 5 minutes in day blocks, one row per
 * (series, day), for two kinds of series of cube_trd_series: a play domain (`[project, domain]`)
 * and a whole project (`[project]`: every domain of the project summed). Unfiltered traffic reads
 * use them (see traffic-reads.ts).
 */
const totals = (): NonNullable<(typeof TRAFFIC_TOTALS.levels)[number]> => TRAFFIC_TOTALS.levels[0] as NonNullable<(typeof TRAFFIC_TOTALS.levels)[number]>;
const domainTotals = (): NonNullable<(typeof TRAFFIC_DOMAINS.levels)[number]> => {
  const l = TRAFFIC_DOMAINS.levels.find((x) => x.dims.length === 0);
  if (!l) throw new Error('the traffic domain cube has no total level');
  return l;
};
/** 6-hour blocks of TRAFFIC_DOMAINS per day block of TRAFFIC_TOTALS. */
const PER_DAY = TRAFFIC_TOTAL_BLOCK_SLOTS / TRAFFIC_BLOCK_SLOTS;

/** The series id of a project's total (created inside the caller's write transaction when `create`). */
export const projectSeries = (db: Database.Database, project: string, create: boolean): number | undefined =>
  TRAFFIC_DOMAINS.seriesId(db, [project], create);

/**
 * Adds the domain cells of a write to the totals (inside the caller's transaction): their bytes
 * with key 0, under the domain series and under its project's series (`projects[i]`: cell i's project).
 */
export function writeTrafficTotals(db: Database.Database, cells: CubeCells, projects: readonly string[]): void {
  const n = cells.count;
  if (n === 0) return;
  const ids = new Map<string, number>();
  const series = new Float64Array(2 * n);
  const slot = new Float64Array(2 * n);
  const bytes = new Float64Array(2 * n);
  const from = cells.measures[MEASURE_TRAFFIC_BYTES] as ArrayLike<number>;
  for (let i = 0; i < n; i++) {
    const p = projects[i] as string;
    let id = ids.get(p);
    if (id === undefined) ids.set(p, (id = projectSeries(db, p, true) as number));
    series[i] = cells.series[i] as number;
    series[n + i] = id;
    slot[i] = slot[n + i] = cells.slot[i] as number;
    bytes[i] = bytes[n + i] = from[i] as number;
  }
  TRAFFIC_TOTALS.write(db, { count: 2 * n, series, slot, dims: [], key: new Int32Array(2 * n), measures: [bytes] });
}

/** Builder of the day block `day` of one series from its stored block, without the cells in [fromSlot, toSlot). */
function dayWithout(db: Database.Database, series: number, day: number, fromSlot: number, toSlot: number): BlockBuilder {
  const table = totals().table;
  const b = table.newBuilder();
  const old = cachedStatement(db, `SELECT data FROM ${table.name} WHERE id = ?`).pluck().get(table.id(series, 0, day)) as Buffer | undefined;
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

function putOrDelete(db: Database.Database, series: number, day: number, b: BlockBuilder): void {
  const table = totals().table;
  if (b.size > 0) table.put(db, series, 0, day, b.encode());
  else cachedStatement(db, `DELETE FROM ${table.name} WHERE id = ?`).run(table.id(series, 0, day));
}

/**
 * The bulk path's totals for one domain series and 6-hour block: the day block's cells of that
 * block's slots are replaced by `perSlot` (bytes of slot s at 2 s + 1; requests at 2 s are not
 * kept), as the bulk path replaces the domain cube's block. The project's series is rebuilt by
 * ProjectTotals.finish at the end of the bulk transaction.
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
  putOrDelete(db, series, day, b);
}

/** Domain series ids of a project (keys `["project", ...]`, a range on the unique key index). */
export function domainSeriesOf(db: Database.Database, project: string): Array<{ id: number; domain: string }> {
  const prefix = JSON.stringify([project]).slice(0, -1) + ',';
  const rows = cachedStatement(db, `SELECT id, key FROM ${TRAFFIC_DOMAINS.seriesTable} WHERE key >= ? AND key < ?`).raw().all(`${prefix}"`, `${prefix}#`) as Array<[number, string]>;
  return rows.map(([id, key]) => ({ id, domain: (JSON.parse(key) as string[])[1] as string }));
}

/** Rebuilds a project's day block of the totals from its domains' day blocks. */
function rebuildProjectDay(db: Database.Database, project: string, day: number): void {
  const table = totals().table;
  const sums = new Float64Array(TRAFFIC_TOTAL_BLOCK_SLOTS);
  const present = new Uint8Array(TRAFFIC_TOTAL_BLOCK_SLOTS);
  const domains = domainSeriesOf(db, project).map((s) => s.id);
  table.scan(db, domains, [0], day, day + 1, (_block, data) => {
    const { cells } = decodeBlock(data);
    const values = cells.values[MEASURE_TOTALS_BYTES] as Float64Array;
    for (let i = 0; i < cells.count; i++) {
      const s = cells.slots[i] as number;
      present[s] = 1;
      sums[s] = (sums[s] as number) + (values[i] as number);
    }
  });
  const b = table.newBuilder();
  const row = new Float64Array(1);
  for (let s = 0; s < sums.length; s++) {
    if (present[s] === 0) continue;
    row[0] = sums[s] as number;
    b.add(0, s, row);
  }
  putOrDelete(db, projectSeries(db, project, true) as number, day, b);
}

/** The project totals of a bulk load: days touched by replaceTrafficTotals, rebuilt once at the end. */
export class ProjectTotals {
  private readonly touched = new Map<string, Set<number>>();

  touch(project: string, block: number): void {
    let days = this.touched.get(project);
    if (!days) this.touched.set(project, (days = new Set()));
    days.add(Math.floor(block / PER_DAY));
  }

  /** Inside the bulk transaction, after its writes. */
  finish(db: Database.Database): void {
    for (const [project, days] of this.touched) for (const day of days) rebuildProjectDay(db, project, day);
    this.touched.clear();
  }
}

/**
 * Schema v5: creates the totals table and fills it from the domain cube's total level, one day at
 * a time (the rows of a day are an id range: the block is in the ids' high bits): each domain's
 * series and each project's.
 */
export function migrateTrafficTotals(db: Database.Database): void {
  const target = totals().table;
  db.exec(target.ddl());
  const projectOf = new Map<number, string>();
  for (const [id, key] of db.prepare(`SELECT id, key FROM ${TRAFFIC_DOMAINS.seriesTable}`).raw().all() as Array<[number, string]>) {
    const tuple = JSON.parse(key) as string[];
    if (tuple.length === 2) projectOf.set(id, tuple[0] as string);
  }
  const projectIds = new Map<string, number>();
  for (const p of new Set(projectOf.values())) projectIds.set(p, projectSeries(db, p, true) as number);
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
      const project = projectIds.get(projectOf.get(series) ?? '');
      const targets = project === undefined ? [series] : [series, project];
      const { cells } = decodeBlock(data);
      const offset = (block - day * PER_DAY) * TRAFFIC_BLOCK_SLOTS;
      for (const s of targets) {
        let b = builders.get(s);
        if (!b) builders.set(s, (b = target.newBuilder()));
        for (let i = 0; i < cells.count; i++) {
          row[0] = (cells.values[MEASURE_TRAFFIC_BYTES] as Float64Array)[i] as number;
          b.add(0, offset + (cells.slots[i] as number), row);
        }
      }
    }
    for (const [series, b] of builders) target.put(db, series, 0, day, b.encode());
    at = next.get(end) as number | null;
  }
}
