import type Database from 'better-sqlite3';
import { decodeBlock, encodeBlock, type CellColumns } from '../../src/store/blocks/codec.js';
import { AUDIENCE_KEY_RADIX, AUDIENCE_STREAMS, AUDIENCE_STREAMS_V13 } from '../../src/store/sqlite/audience-layout.js';

/**
 * The per-stream audience cube's region x isp level rewritten as schema v7-v13 wrote it, written
 * independently of migration 14 (which goes the other way): each (stream, quarter-hour) block of
 * `cube_aus_key_region_isp` (key = province x carrier group x 4 + protocol) split into one block per
 * group under the v13 row ids of `cube_aus_region_isp` (key = protocol). Drops the v14 table and
 * marks migration 14 as not applied. A no-op on a file already in the v13 layout.
 */
export function toV13Layout(db: Database.Database): void {
  const to = AUDIENCE_STREAMS.levels.find((l) => l.keyDimIndex.length > 0)?.table;
  const old = AUDIENCE_STREAMS_V13.levels.find((l) => l.dimIndex.length === 2)?.table;
  if (!to || !old) throw new Error('audience layouts changed');
  if (db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?").pluck().get(to.name) === undefined) return;
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
  db.exec(`DROP TABLE ${to.name}; DELETE FROM schema_migrations WHERE version = 14;`);
}
