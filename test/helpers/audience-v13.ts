import type Database from 'better-sqlite3';
import { decodeBlock, encodeBlock, type CellColumns } from '../../src/store/blocks/codec.js';
import { AUDIENCE_KEY_RADIX, AUDIENCE_STREAMS, AUDIENCE_STREAMS_V13 } from '../../src/store/sqlite/audience-layout.js';

/**
 * The per-stream key level's deltas (schema v18) summed into their blocks, as one block written at
 * once holds them (cells in (key, slot) order): what a file before v18 held for the same lines.
 * Written independently of src/store/blocks/delta-write.ts (a map of cells, then a sort).
 */
export function foldAudienceDeltas(db: Database.Database): void {
  const level = AUDIENCE_STREAMS.levels.find((l) => l.keyDimIndex.length > 0);
  const step = level?.deltaStep;
  if (!level || step === undefined) throw new Error('audience layouts changed');
  const table = level.table;
  const read = db.prepare(`SELECT data FROM ${table.name} WHERE id = ?`).pluck();
  for (const [id, delta] of db.prepare(`SELECT id, data FROM ${table.name}`).raw().all() as Array<[number, Uint8Array]>) {
    if (table.parts(id).grp < step) continue;
    const block = read.get(id - step) as Uint8Array | undefined;
    const sums = new Map<number, number[]>();
    let slots = 0;
    for (const data of block === undefined ? [delta] : [block, delta]) {
      const d = decodeBlock(data);
      slots = d.slots;
      for (let i = 0; i < d.cells.count; i++) {
        const at = (d.cells.keys[i] as number) * d.slots + (d.cells.slots[i] as number);
        const v = sums.get(at) ?? d.cells.values.map(() => 0);
        sums.set(at, v.map((x, m) => x + ((d.cells.values[m] as Float64Array)[i] as number)));
      }
    }
    const order = [...sums.keys()].sort((a, b) => a - b);
    const measures = table.measures;
    const c: CellColumns = {
      count: order.length,
      keys: Int32Array.from(order, (at) => Math.floor(at / slots)),
      slots: Uint16Array.from(order, (at) => at % slots),
      values: Array.from({ length: measures }, (_, m) => Float64Array.from(order, (at) => (sums.get(at) as number[])[m] as number)),
    };
    db.prepare(`INSERT INTO ${table.name} (id, data) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data`).run(id - step, encodeBlock(slots, c));
    db.prepare(`DELETE FROM ${table.name} WHERE id = ?`).run(id);
  }
}

/**
 * The per-stream audience cube's region x isp level rewritten as schema v7-v13 wrote it, written
 * independently of migration 14 (which goes the other way): each (stream, quarter-hour) block of
 * `cube_aus_key_region_isp` (key = province x carrier group x 4 + protocol) split into one block per
 * group under the v13 row ids of `cube_aus_region_isp` (key = protocol). Drops the v14 table and
 * marks migration 14 as not applied (and 18: v13 had no deltas; they are folded first). A no-op on a
 * file already in the v13 layout.
 */
export function toV13Layout(db: Database.Database): void {
  const to = AUDIENCE_STREAMS.levels.find((l) => l.keyDimIndex.length > 0)?.table;
  const old = AUDIENCE_STREAMS_V13.levels.find((l) => l.dimIndex.length === 2)?.table;
  if (!to || !old) throw new Error('audience layouts changed');
  if (db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?").pluck().get(to.name) === undefined) return;
  foldAudienceDeltas(db);
  db.exec(old.ddl());
  const insert = db.prepare(`INSERT INTO ${old.name} (id, data) VALUES (?, ?)`);
  for (const [id, data] of db.prepare(`SELECT id, data FROM ${to.name}`).raw().all() as Array<[number, Uint8Array]>) {
    const { series, block } = to.parts(id);
    const { slots, cells } = decodeBlock(data);
    const byGroup = new Map<number, number[]>();
    for (let i = 0; i < cells.count; i++) {
      const g = Math.floor((cells.keys[i] as number) / AUDIENCE_KEY_RADIX);
      const list = byGroup.get(g) ?? [];
      byGroup.set(g, list);
      list.push(i);
    }
    for (const [g, list] of byGroup) {
      // Within a group, keys (protocols) and slots keep the stored order: (key, slot) ascending.
      const c: CellColumns = {
        count: list.length,
        keys: Int32Array.from(list, (i) => (cells.keys[i] as number) % AUDIENCE_KEY_RADIX),
        slots: Uint16Array.from(list, (i) => cells.slots[i] as number),
        values: cells.values.map((v) => Float64Array.from(list, (i) => v[i] as number)),
      };
      insert.run(old.id(series, g, block), encodeBlock(slots, c));
    }
  }
  db.exec(`DROP TABLE ${to.name}; DELETE FROM schema_migrations WHERE version IN (14, 18);`);
}
