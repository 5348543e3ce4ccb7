import type Database from 'better-sqlite3';
import { AUDIENCE_PROTOCOLS } from '../../src/store/audience.js';
import { addSessionViewers } from '../../src/store/audience-flv.js';
import { decodeBlock, encodeBlockTo, type CellColumns } from '../../src/store/blocks/codec.js';
import { ByteWriter } from '../../src/store/blocks/varint.js';
import { toV13Layout } from './audience-v13.js';
import { AUDIENCE_DOMAINS, AUDIENCE_STREAMS_V13, M_CLOSES, M_OPENS, V11_MEASURES } from '../../src/store/sqlite/audience-layout.js';

const SESSION_KEYS = [AUDIENCE_PROTOCOLS.indexOf('flv'), AUDIENCE_PROTOCOLS.indexOf('rtmp')];

/**
 * The audience cubes' blocks rewritten in place as schema v11 wrote them (four measures; FLV/RTMP
 * viewers a count per minute, each minute a session overlaps a cell), written independently of
 * migration 12 (which goes the other way): the FLV/RTMP viewers are the stored opens and closes
 * prefix-summed over the block. Marks migration 12 as not applied. The per-stream cube goes back to
 * the v13 layout first (toV13Layout: a v11 file has no key level).
 */
export function toV11Blocks(db: Database.Database): void {
  toV13Layout(db);
  for (const cube of [AUDIENCE_DOMAINS, AUDIENCE_STREAMS_V13]) {
    for (const level of cube.levels) {
      for (const [id, data] of db.prepare(`SELECT id, data FROM ${level.table.name}`).raw().all() as Array<[number, Uint8Array]>) {
        const { slots, cells } = decodeBlock(data);
        const rows = new Map<number, number[]>(); // key * slots + slot -> 4 measures
        for (let i = 0; i < cells.count; i++) {
          const k = (cells.keys[i] as number) * slots + (cells.slots[i] as number);
          rows.set(k, [0, 1, 2, 3].map((m) => (cells.values[m] as Float64Array)[i] as number));
        }
        for (const key of SESSION_KEYS) {
          const opens = new Float64Array(slots);
          const closes = new Float64Array(slots);
          for (let i = 0; i < cells.count; i++) {
            if (cells.keys[i] !== key) continue;
            opens[cells.slots[i] as number] = (cells.values[M_OPENS] as Float64Array)[i] as number;
            closes[cells.slots[i] as number] = (cells.values[M_CLOSES] as Float64Array)[i] as number;
          }
          const v = new Float64Array(slots);
          addSessionViewers(v, opens, closes, 0);
          for (let s = 0; s < slots; s++) {
            const k = key * slots + s;
            const r = rows.get(k);
            if (r) r[0] = (r[0] as number) + (v[s] as number);
            else if ((v[s] as number) > 0) rows.set(k, [v[s] as number, 0, 0, 0]);
          }
        }
        const list = [...rows].filter(([, r]) => r.some((x) => x > 0)).sort((a, b) => a[0] - b[0]);
        const c: CellColumns = {
          count: list.length, keys: Int32Array.from(list, ([k]) => Math.floor(k / slots)), slots: Uint16Array.from(list, ([k]) => k % slots),
          values: Array.from({ length: V11_MEASURES }, (_, m) => Float64Array.from(list, ([, r]) => r[m] as number)),
        };
        const w = new ByteWriter();
        encodeBlockTo(slots, c, w);
        db.prepare(`UPDATE ${level.table.name} SET data = ? WHERE id = ?`).run(w.finish(), id);
      }
    }
  }
  db.exec('DELETE FROM schema_migrations WHERE version = 12');
}
