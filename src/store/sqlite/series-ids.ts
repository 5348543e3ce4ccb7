import type Database from 'better-sqlite3';
import type { Cube } from '../blocks/cube.js';
import { cachedStatement } from '../blocks/table.js';
import { HTTP_CUBE } from './layout.js';

/**
 * Series ids of the SQLite cubes (docs/storage.md, "Series ids"). A cube's row ids leave a fixed
 * number of bits to the series (23 for the playback cube: 8,388,607 ids); ids are given in order
 * (highest + 1) and, for the playback cube, reclaimed with retention: a series whose newest block
 * (`last_block`, kept by every write) is older than the retention cutoff has no data left, so its
 * row is deleted and its id goes to `cube_hc_free`, from which new series take ids once the
 * highest id is reached. An id that cannot be given is not an error: the caller drops the name's
 * cells (the ingest paths drop such lines earlier, as id_space_full; see src/ingest/name-limits.ts).
 */

/** meta key bumped by every reclamation: connections that cache name -> id forget them when it changes. */
export const SERIES_GENERATION_KEY = 'hc_series_generation';
export const HC_FREE_TABLE = 'cube_hc_free';

/**
 * Test hook (not a setting): LIVESTATS_TEST_MAX_SERIES_ID lowers the playback cube's id space so
 * that tests reach its end with a handful of domains instead of 8 million.
 */
function testLimit(): number {
  const raw = process.env.LIVESTATS_TEST_MAX_SERIES_ID;
  if (raw === undefined || !/^\d+$/.test(raw)) return Infinity;
  return Math.max(1, Number(raw));
}

/** The highest series id a cube can store (every level's row ids must hold it). */
export function seriesLimit(cube: Cube): number {
  let max = Infinity;
  for (const l of cube.levels) max = Math.min(max, l.table.maxSeries);
  return cube === HTTP_CUBE ? Math.min(max, testLimit()) : max;
}

export function seriesGeneration(db: Database.Database): string {
  return (cachedStatement(db, 'SELECT value FROM meta WHERE key = ?').pluck().get(SERIES_GENERATION_KEY) as string | undefined) ?? '0';
}

/**
 * The id of a tuple, created when new (inside the caller's write transaction): the next id after
 * the highest, else (playback cube) a reclaimed one; undefined when the cube has none left.
 */
export function allocateSeries(db: Database.Database, cube: Cube, tuple: readonly string[], limit: number): number | undefined {
  const key = JSON.stringify(tuple);
  const known = cachedStatement(db, `SELECT id FROM ${cube.seriesTable} WHERE key = ?`).pluck().get(key) as number | undefined;
  if (known !== undefined) return known;
  const highest = (cachedStatement(db, `SELECT max(id) FROM ${cube.seriesTable}`).pluck().get() as number | null) ?? 0;
  if (highest < limit) {
    cachedStatement(db, `INSERT INTO ${cube.seriesTable} (id, key) VALUES (?, ?)`).run(highest + 1, key);
    // The highest series may have been reclaimed: its id is in use again.
    if (cube === HTTP_CUBE) cachedStatement(db, `DELETE FROM ${HC_FREE_TABLE} WHERE id = ?`).run(highest + 1);
    return highest + 1;
  }
  if (cube !== HTTP_CUBE) return undefined;
  for (;;) {
    const id = cachedStatement(db, `SELECT id FROM ${HC_FREE_TABLE} WHERE id <= ? ORDER BY id LIMIT 1`).pluck().get(limit) as number | undefined;
    if (id === undefined) return undefined;
    cachedStatement(db, `DELETE FROM ${HC_FREE_TABLE} WHERE id = ?`).run(id);
    // A free id is never in use, but a file written by hand (or an older build) could disagree: skip it then.
    if (cachedStatement(db, `INSERT OR IGNORE INTO ${cube.seriesTable} (id, key) VALUES (?, ?)`).run(id, key).changes === 1) return id;
  }
}

/** Ids left for new series of a cube (below its limit, plus reclaimed ones). */
export function seriesLeft(db: Database.Database, cube: Cube): number {
  const limit = seriesLimit(cube);
  const highest = (cachedStatement(db, `SELECT max(id) FROM ${cube.seriesTable}`).pluck().get() as number | null) ?? 0;
  const free = cube === HTTP_CUBE
    ? cachedStatement(db, `SELECT count(*) FROM ${HC_FREE_TABLE} WHERE id <= ?`).pluck().get(Math.min(limit, highest)) as number
    : 0;
  return Math.max(0, limit - highest) + free;
}

/**
 * Records the newest block written per playback series (inside the write transaction). `known`
 * is what this connection knows is committed, so a series is updated once per new block; what
 * is updated goes to `fresh` (the caller adds it to `known` once the transaction committed).
 */
export function touchLastBlocks(
  db: Database.Database, blocks: ReadonlyMap<number, number>, known: ReadonlyMap<number, number>, fresh: Map<number, number>,
): void {
  const update = cachedStatement(db, `UPDATE ${HTTP_CUBE.seriesTable} SET last_block = max(coalesce(last_block, -1), ?) WHERE id = ?`);
  for (const [series, block] of blocks) {
    if (Math.max(known.get(series) ?? -1, fresh.get(series) ?? -1) >= block) continue;
    update.run(block, series);
    fresh.set(series, block);
  }
}

/**
 * Schema v6: the playback series table gets `last_block` (filled from the stored blocks) and the
 * free-id table.
 */
export function migrateSeriesReuse(db: Database.Database): void {
  const columns = (db.prepare(`PRAGMA table_info(${HTTP_CUBE.seriesTable})`).all() as Array<{ name: string }>).map((c) => c.name);
  if (!columns.includes('last_block')) db.exec(`ALTER TABLE ${HTTP_CUBE.seriesTable} ADD COLUMN last_block INTEGER`);
  db.exec(`CREATE TABLE IF NOT EXISTS ${HC_FREE_TABLE} (id INTEGER PRIMARY KEY)`);
  const total = HTTP_CUBE.levels.find((l) => l.dims.length === 0);
  if (!total) return;
  const newest = new Map<number, number>();
  for (const row of db.prepare(`SELECT id FROM ${total.table.name}`).pluck().iterate()) {
    const { series, block } = total.table.parts(row as number);
    if ((newest.get(series) ?? -1) < block) newest.set(series, block);
  }
  const set = db.prepare(`UPDATE ${HTTP_CUBE.seriesTable} SET last_block = ? WHERE id = ?`);
  for (const [series, block] of newest) set.run(block, series);
}

/**
 * One slice of reclamation (inside the caller's IMMEDIATE transaction): of the up to `limit`
 * playback series after id `after`, frees those whose newest block is before `beforeBlock`.
 */
export function reclaimSlice(db: Database.Database, after: number, beforeBlock: number, limit: number): { scanned: number; freed: number; last: number } {
  const rows = cachedStatement(db, `SELECT id, last_block FROM ${HTTP_CUBE.seriesTable} WHERE id > ? ORDER BY id LIMIT ?`)
    .raw().all(after, limit) as Array<[number, number | null]>;
  let freed = 0;
  const drop = cachedStatement(db, `DELETE FROM ${HTTP_CUBE.seriesTable} WHERE id = ?`);
  const free = cachedStatement(db, `INSERT OR IGNORE INTO ${HC_FREE_TABLE} (id) VALUES (?)`);
  for (const [id, last] of rows) {
    if (last !== null && last >= beforeBlock) continue;
    drop.run(id);
    free.run(id);
    freed++;
  }
  if (freed > 0) {
    const next = String(Number(seriesGeneration(db)) + 1);
    cachedStatement(db, 'INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(SERIES_GENERATION_KEY, next);
  }
  return { scanned: rows.length, freed, last: rows.length > 0 ? (rows[rows.length - 1] as [number, number | null])[0] : after };
}
