import type Database from 'better-sqlite3';
import type { BlockTable } from '../blocks/table.js';
import { HTTP_CUBE, SAMPLES } from './layout.js';
import { TRAFFIC_DOMAINS, TRAFFIC_STREAMS } from './traffic-layout.js';

/**
 * Schema v4: block tables keyed by one packed row id (block, series, group) instead of three
 * columns with a unique index and a block index (docs/storage.md): a third less space for the
 * keys, one b-tree lookup per block, retention by rowid range. Blobs are copied unchanged.
 * Runs inside the migration's transaction; a value outside the new key space fails it (rolled back).
 */
export function migrateBlockKeys(db: Database.Database): void {
  const cubes = [HTTP_CUBE, TRAFFIC_DOMAINS, TRAFFIC_STREAMS];
  for (const table of [...cubes.flatMap((c) => c.levels.map((l) => l.table)), SAMPLES]) rekey(db, table);
}

function rekey(db: Database.Database, table: BlockTable): void {
  const columns = (db.prepare(`PRAGMA table_info(${table.name})`).all() as Array<{ name: string }>).map((c) => c.name);
  if (columns.length === 0) {
    db.exec(table.ddl());
    return;
  }
  if (!columns.includes('series')) return; // already in the packed layout (created by migration 2 or 3 of this build)
  const range = db.prepare(`SELECT min(series), max(series), min(grp), max(grp), min(block), max(block) FROM ${table.name}`).raw().get() as Array<number | null>;
  if (range[0] !== null) {
    // id() throws for anything outside the key space, naming the table and the value.
    table.id(range[1] as number, range[3] as number, range[5] as number);
    table.id(range[0] as number, range[2] as number, range[4] as number);
  }
  const tmp = `${table.name}_v4`;
  db.exec(`DROP TABLE IF EXISTS ${tmp}; CREATE TABLE ${tmp} (id INTEGER PRIMARY KEY, data BLOB NOT NULL);`);
  const unitBlock = table.id(0, 0, 1);
  const unitSeries = table.id(1, 0, 0);
  db.prepare(`INSERT INTO ${tmp} (id, data) SELECT block * ? + series * ? + grp, data FROM ${table.name} ORDER BY block, series, grp`)
    .run(unitBlock, unitSeries);
  db.exec(`DROP TABLE ${table.name}; ALTER TABLE ${tmp} RENAME TO ${table.name};`);
}
