import type Database from 'better-sqlite3';
import { decodeBlock } from '../blocks/codec.js';
import type { CubeLevel } from '../blocks/cube.js';
import { writeLevel } from '../blocks/level-write.js';
import { AUDIENCE_KEY_RADIX, AUDIENCE_STREAMS, AUDIENCE_STREAMS_V13 } from './audience-layout.js';

/** Source rows converted per writeLevel call. */
const ROWS_PER_READ = 2_000;

const regionIspLevel = (levels: readonly CubeLevel[], inKey: boolean): CubeLevel => {
  const l = levels.find((x) => (inKey ? x.keyDimIndex.length === 2 : x.dimIndex.length === 2));
  if (!l) throw new Error('audience layout changed: revisit migration 14');
  return l;
};

/**
 * Schema v14: the per-stream audience cube's region x isp level moves from one block per (stream,
 * province x carrier, quarter-hour) (`cube_aus_region_isp`, v7-v13) to one block per (stream,
 * quarter-hour) with the province x carrier group in the cell key (`cube_aus_key_region_isp`: key =
 * group x AUDIENCE_KEY_RADIX + protocol; docs/storage.md, "The audience cube"). Every stored block's
 * cells are re-keyed and summed into their stream's block (the groups of one (stream, quarter-hour)
 * are adjacent row ids, read in id order), then the old table is dropped; in the migration's
 * transaction. The total level (`cube_aus_all`) and the domain cube are unchanged.
 */
export function migrateAudienceKeyLevel(db: Database.Database): void {
  const from = regionIspLevel(AUDIENCE_STREAMS_V13.levels, false).table;
  const level = regionIspLevel(AUDIENCE_STREAMS.levels, true);
  const to = level.table;
  // Group numbers of both layouts are the same mixed radix over (region, isp).
  if (from.slots !== to.slots || from.measures !== to.measures || level.dimIndex.length !== 0) throw new Error('audience layout changed: revisit migration 14');
  db.exec(to.ddl());
  const exists = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?").pluck().get(from.name) !== undefined;
  if (!exists) return;
  const read = db.prepare(`SELECT id, data FROM ${from.name} WHERE id > ? ORDER BY id LIMIT ${ROWS_PER_READ}`).raw();
  let after = -1;
  for (;;) {
    const rows = read.all(after) as Array<[number, Uint8Array]>;
    const decoded = rows.map(([id, data]) => ({ parts: from.parts(id), cells: decodeBlock(data).cells }));
    const n = decoded.reduce((a, d) => a + d.cells.count, 0);
    const ids = new Float64Array(n);
    const slots = new Int32Array(n);
    const keys = new Int32Array(n);
    const measures = Array.from({ length: to.measures }, () => new Float64Array(n));
    let j = 0;
    for (const { parts, cells } of decoded) {
      if (cells.values.length !== to.measures) throw new Error(`audience block of ${cells.values.length} measures, expected ${to.measures}`);
      const id = to.id(parts.series, 0, parts.block);
      for (let i = 0; i < cells.count; i++, j++) {
        const key = cells.keys[i] as number;
        if (key >= AUDIENCE_KEY_RADIX) throw new Error(`audience cell key ${key} beyond ${AUDIENCE_KEY_RADIX - 1}`);
        ids[j] = id;
        slots[j] = cells.slots[i] as number;
        keys[j] = parts.grp * AUDIENCE_KEY_RADIX + key;
        for (let m = 0; m < to.measures; m++) (measures[m] as Float64Array)[j] = (cells.values[m] as Float64Array)[i] as number;
      }
    }
    // Summed into the stored block when a stream's groups straddle two reads.
    writeLevel(db, to, { count: n, ids, slots, key: keys, measures });
    if (rows.length < ROWS_PER_READ) break;
    after = (rows[rows.length - 1] as [number, Uint8Array])[0];
  }
  db.exec(`DROP TABLE ${from.name}`);
}
