import type Database from 'better-sqlite3';
import { AUDIENCE_PROTOCOLS } from '../audience.js';
import { decodeBlock, encodeBlockTo, type CellColumns } from '../blocks/codec.js';
import { ByteWriter } from '../blocks/varint.js';
import { AUDIENCE_BLOCK_SLOTS, AUDIENCE_DOMAINS, AUDIENCE_STREAMS_V13, M_CLOSES, M_OPENS, M_VIEWERS, V11_MEASURES } from './audience-layout.js';

const ROWS_PER_READ = 2_000;
/** Keys (protocols) whose viewers are sessions: flv and rtmp (hls stays a per-minute count). */
const SESSION_KEYS = new Set([AUDIENCE_PROTOCOLS.indexOf('flv'), AUDIENCE_PROTOCOLS.indexOf('rtmp')]);

/**
 * One v11 block (four measures; FLV/RTMP viewers as a count per minute v) in the v12 form (six
 * measures, src/store/audience-flv.ts): for FLV/RTMP keys, opens at slot 0 = v(0), and at slot k > 0
 * opens = max(0, v(k) - v(k - 1)), closes = max(0, v(k - 1) - v(k)), viewers 0; bytes, lines and play
 * ms unchanged (a day's play ms is the same sum). Other keys keep their viewers, with opens and
 * closes 0. Exported for its test.
 */
export function sessionsBlock(data: Uint8Array, out: ByteWriter): void {
  const { slots, cells } = decodeBlock(data);
  if (cells.values.length !== V11_MEASURES) throw new Error(`audience block of ${cells.values.length} measures, expected ${V11_MEASURES}`);
  const cap = cells.count + 2 * slots * SESSION_KEYS.size;
  const next: CellColumns = { count: 0, keys: new Int32Array(cap), slots: new Uint16Array(cap), values: Array.from({ length: 6 }, () => new Float64Array(cap)) };
  const put = (key: number, slot: number, vals: readonly number[]): void => {
    const j = next.count++;
    next.keys[j] = key;
    next.slots[j] = slot;
    for (let m = 0; m < vals.length; m++) (next.values[m] as Float64Array)[j] = vals[m] as number;
  };
  const value = (m: number, i: number): number => (cells.values[m] as Float64Array)[i] as number;
  for (let i = 0; i < cells.count;) {
    const key = cells.keys[i] as number;
    let end = i;
    while (end < cells.count && cells.keys[end] === key) end++;
    if (!SESSION_KEYS.has(key)) {
      for (let c = i; c < end; c++) put(key, cells.slots[c] as number, [value(0, c), value(1, c), value(2, c), value(3, c), 0, 0]);
      i = end;
      continue;
    }
    // Dense over the block's slots, then only the slots with something to keep.
    const rows = Array.from({ length: slots }, () => [0, 0, 0, 0]);
    for (let c = i; c < end; c++) {
      const r = rows[cells.slots[c] as number] as number[];
      for (let m = 0; m < V11_MEASURES; m++) r[m] = value(m, c);
    }
    let prev = 0;
    for (let s = 0; s < slots; s++) {
      const [v = 0, bytes = 0, requests = 0, playMs = 0] = rows[s] as number[];
      const opens = s === 0 ? v : Math.max(0, v - prev);
      const closes = s === 0 ? 0 : Math.max(0, prev - v);
      prev = v;
      if (opens > 0 || closes > 0 || bytes > 0 || requests > 0 || playMs > 0) put(key, s, [0, bytes, requests, playMs, opens, closes]);
    }
    i = end;
  }
  encodeBlockTo(slots, next, out);
}

/**
 * Schema v12: the audience cubes' FLV/RTMP viewers as opens and closes (docs/storage.md, "The
 * audience cube"), every block of every level rewritten in place in the migration's transaction.
 */
export function migrateAudienceSessions(db: Database.Database): void {
  if (M_VIEWERS !== 0 || M_OPENS !== 4 || M_CLOSES !== 5 || AUDIENCE_BLOCK_SLOTS !== 15) throw new Error('audience layout changed: revisit migration 12');
  const out = new ByteWriter(1 << 12);
  for (const cube of [AUDIENCE_DOMAINS, AUDIENCE_STREAMS_V13]) {
    for (const level of cube.levels) {
      const name = level.table.name;
      const exists = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?").pluck().get(name) !== undefined;
      if (!exists) {
        db.exec(level.table.ddl());
        continue;
      }
      const read = db.prepare(`SELECT id, data FROM ${name} WHERE id > ? ORDER BY id LIMIT ${ROWS_PER_READ}`).raw();
      const write = db.prepare(`UPDATE ${name} SET data = ? WHERE id = ?`);
      let after = -1;
      for (;;) {
        const rows = read.all(after) as Array<[number, Uint8Array]>;
        for (const [id, data] of rows) {
          out.reset();
          sessionsBlock(data, out);
          write.run(out.finish(), id);
        }
        if (rows.length < ROWS_PER_READ) break;
        after = (rows[rows.length - 1] as [number, Uint8Array])[0];
      }
    }
  }
}
