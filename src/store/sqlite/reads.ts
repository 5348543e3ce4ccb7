import type Database from 'better-sqlite3';
import { addAllMeasures, sumMeasure } from '../blocks/codec.js';
import { cachedStatement } from '../blocks/table.js';
import type { HttpCodesFilter, SampleFilter } from '../types.js';
import { seriesGeneration } from './series-ids.js';
import { HTTP_CUBE, ISP_INDEX, MEASURE_REQUESTS, MINUTE_MS, REGION_INDEX, SAMPLES, SAMPLE_BLOCK_SECONDS, SECOND_MS } from './layout.js';

/**
 * The read side of the SQLite store as plain functions of a connection, so they run the same
 * on the main thread and in read workers. Results are typed arrays (cheap to transfer).
 */

/** Request counts per (code, minute): counts[c * slots + i] is code codes[c] in minute fromMinute + i. */
export interface HttpCodesResult {
  fromMinute: number;
  slots: number;
  codes: Int32Array;
  counts: Float64Array;
}

/** Per second of [from, from + n): present[i] says a sample exists; values[4 i .. 4 i + 3] its values. */
export interface SamplesResult {
  from: number;
  present: Uint8Array;
  values: Float64Array;
}

/**
 * Interned ids found, per connection. A task id never changes; a playback series id is given
 * to another name only after retention reclaimed it, which bumps the series generation (see
 * series-ids.ts): the cache is dropped when the generation changed, checked at each read in the
 * read's own snapshot. Only hits are kept; a miss is asked again (the name may be written later).
 */
const known = new WeakMap<Database.Database, Map<string, number>>();
const knownGeneration = new WeakMap<Database.Database, string>();
const KNOWN_MAX = 100_000;

function checkGeneration(db: Database.Database): void {
  const g = seriesGeneration(db);
  if (knownGeneration.get(db) === g) return;
  known.delete(db);
  knownGeneration.set(db, g);
}

function remembered(db: Database.Database, key: string, look: () => number | undefined): number | undefined {
  let ids = known.get(db);
  if (!ids) known.set(db, (ids = new Map()));
  const hit = ids.get(key);
  if (hit !== undefined) return hit;
  const id = look();
  if (id !== undefined) {
    if (ids.size >= KNOWN_MAX) ids.clear();
    ids.set(key, id);
  }
  return id;
}

export function seriesIdOf(db: Database.Database, project: string, domain: string): number | undefined {
  return remembered(db, `s\u0000${project}\u0000${domain}`, () => HTTP_CUBE.seriesId(db, [project, domain], false));
}

export function taskIdOf(db: Database.Database, project: string, taskId: string): number | undefined {
  return remembered(db, `t\u0000${project}\u0000${taskId}`, () =>
    cachedStatement(db, 'SELECT id FROM carousel_tasks WHERE project = ? AND task_id = ?').pluck().get(project, taskId) as number | undefined);
}

/** In one read transaction: the series ids and the blocks they name come from the same snapshot. */
export function readHttpCodes(db: Database.Database, f: HttpCodesFilter): HttpCodesResult {
  return db.transaction(() => {
    checkGeneration(db);
    return readHttpCodesNow(db, f);
  })();
}

function readHttpCodesNow(db: Database.Database, f: HttpCodesFilter): HttpCodesResult {
  const from = Math.floor(f.fromMinute / MINUTE_MS);
  const to = Math.ceil(f.toMinute / MINUTE_MS);
  const slots = Math.max(0, to - from);
  const empty: HttpCodesResult = { fromMinute: from * MINUTE_MS, slots, codes: new Int32Array(0), counts: new Float64Array(0) };
  const series: number[] = [];
  for (const d of f.domains) {
    const id = seriesIdOf(db, f.project, d);
    if (id !== undefined) series.push(id);
  }
  if (series.length === 0 || slots === 0) return empty;
  const regions = f.regions.map((r) => REGION_INDEX.get(r)).filter((i): i is number => i !== undefined);
  const isps = f.isps.map((r) => ISP_INDEX.get(r)).filter((i): i is number => i !== undefined);
  // A filter naming only unknown values matches nothing (not "no filter").
  if ((f.regions.length > 0 && regions.length === 0) || (f.isps.length > 0 && isps.length === 0)) return empty;
  const columns = new Map<number, Float64Array>();
  HTTP_CUBE.sum(db, {
    series, filter: [regions, isps], fromSlot: from, toSlot: to, measure: MEASURE_REQUESTS,
    column: (code) => {
      let c = columns.get(code);
      if (!c) columns.set(code, (c = new Float64Array(slots)));
      return c;
    },
  });
  const codes = Int32Array.from([...columns.keys()].sort((a, b) => a - b));
  const counts = new Float64Array(codes.length * slots);
  codes.forEach((code, i) => counts.set(columns.get(code) as Float64Array, i * slots));
  return { fromMinute: from * MINUTE_MS, slots, codes, counts };
}

export function readSamples(db: Database.Database, f: SampleFilter): SamplesResult {
  const from = Math.floor(f.from / SECOND_MS);
  const to = Math.ceil(f.to / SECOND_MS);
  const n = Math.max(0, to - from);
  const present = new Uint8Array(n);
  const values = new Float64Array(n * 4);
  const task = taskIdOf(db, f.project, f.taskId);
  if (task === undefined || n === 0) return { from: from * SECOND_MS, present, values };
  const fromBlock = Math.floor(from / SAMPLE_BLOCK_SECONDS);
  const toBlock = Math.ceil(to / SAMPLE_BLOCK_SECONDS);
  // Each block decoded once, all four measures straight into the answer's arrays.
  SAMPLES.scan(db, [task], [0], fromBlock, toBlock, (block, data) => {
    addAllMeasures(data, block * SAMPLE_BLOCK_SECONDS - from, 4, values, present);
  });
  return { from: from * SECOND_MS, present, values };
}


/** Every request stored (of one project, or all), summed from the total level: for tests and tools. */
export function totalRequests(db: Database.Database, project?: string): number {
  const level = HTTP_CUBE.levels.find((l) => l.dims.length === 0);
  if (!level) return 0;
  const prefix = JSON.stringify([project ?? '']).slice(0, -1) + ',';
  const keys = db.prepare(`SELECT id, key FROM ${HTTP_CUBE.seriesTable}`).raw().all() as Array<[number, string]>;
  const wanted = new Set(keys.filter(([, k]) => project === undefined || k.startsWith(prefix)).map(([id]) => id));
  const perSlot = new Float64Array(HTTP_CUBE.spec.blockSlots);
  for (const row of level.table.all(db)) if (wanted.has(row.series)) sumMeasure(row.data, MEASURE_REQUESTS, 0, () => perSlot);
  return perSlot.reduce((a, b) => a + b, 0);
}
