import type Database from 'better-sqlite3';
import { decodeBlock, encodeBlockTo, type CellColumns } from '../blocks/codec.js';
import { Cube } from '../blocks/cube.js';
import { ByteWriter } from '../blocks/varint.js';
import { AUDIENCE_BLOCK_SLOTS, AUDIENCE_DOMAINS, AUDIENCE_STREAMS_V13 } from './audience-layout.js';

/** The audience cubes' block length before schema v10: an hour of minutes. */
const V9_BLOCK_SLOTS = 60;
const ROWS_PER_READ = 2_000;

/**
 * Schema v10: the audience cubes' blocks go from an hour (60 slots) to AUDIENCE_BLOCK_SLOTS
 * minutes, so a flush re-encodes a quarter-hour block instead of an hour one (docs/storage.md).
 * Every level table is rebuilt: each stored block is split by slot into its shorter blocks, under
 * the row ids of the new layout (more block bits, fewer series bits); sums are unchanged.
 */
export function reblockAudience(db: Database.Database): void {
  const per = V9_BLOCK_SLOTS / AUDIENCE_BLOCK_SLOTS;
  if (!Number.isInteger(per) || per < 1) throw new Error('audience block length must divide an hour');
  if (per === 1) return;
  for (const cube of [AUDIENCE_DOMAINS, AUDIENCE_STREAMS_V13]) {
    const old = new Cube({ ...cube.spec, blockSlots: V9_BLOCK_SLOTS });
    cube.levels.forEach((level, l) => {
      const from = (old.levels[l] as (typeof old.levels)[number]).table;
      const to = level.table;
      const exists = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?").pluck().get(to.name) !== undefined;
      if (!exists) {
        db.exec(to.ddl());
        return;
      }
      const moved = `${to.name}_v9`;
      db.exec(`ALTER TABLE ${to.name} RENAME TO ${moved}`);
      db.exec(to.ddl());
      const read = db.prepare(`SELECT id, data FROM ${moved} WHERE id > ? ORDER BY id LIMIT ${ROWS_PER_READ}`).raw();
      const write = db.prepare(`INSERT INTO ${to.name} (id, data) VALUES (?, ?)`);
      const out = new ByteWriter(1 << 12);
      let after = -1;
      for (;;) {
        const rows = read.all(after) as Array<[number, Uint8Array]>;
        for (const [id, data] of rows) {
          const { series, grp, block } = from.parts(id);
          const { cells } = decodeBlock(data);
          for (let q = 0; q < per; q++) {
            const part: CellColumns = { count: 0, keys: new Int32Array(cells.count), slots: new Uint16Array(cells.count), values: cells.values.map(() => new Float64Array(cells.count)) };
            for (let i = 0; i < cells.count; i++) {
              const slot = cells.slots[i] as number;
              if (Math.floor(slot / AUDIENCE_BLOCK_SLOTS) !== q) continue;
              const j = part.count++;
              part.keys[j] = cells.keys[i] as number;
              part.slots[j] = slot - q * AUDIENCE_BLOCK_SLOTS;
              for (let m = 0; m < cells.values.length; m++) (part.values[m] as Float64Array)[j] = (cells.values[m] as Float64Array)[i] as number;
            }
            if (part.count === 0) continue;
            out.reset();
            encodeBlockTo(AUDIENCE_BLOCK_SLOTS, part, out);
            write.run(to.id(series, grp, block * per + q), out.finish());
          }
        }
        if (rows.length < ROWS_PER_READ) break;
        after = (rows[rows.length - 1] as [number, Uint8Array])[0];
      }
      db.exec(`DROP TABLE ${moved}`);
    });
  }
}
