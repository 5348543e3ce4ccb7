import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { HTTP_CUBE, SAMPLES } from '../src/store/sqlite/layout.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import type { CountRow } from '../src/store/types.js';
import { tempDir } from './helpers/tmp.js';

/**
 * A schema v2 file (block tables with series, grp, block columns, a unique key index and a block
 * index, as livestats v2 created them) upgraded to v3 (one packed rowid per block).
 */
const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 20, 3, 0, 0);
let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(() => tmp?.remove());

const V2_DDL = (name: string): string => `CREATE TABLE ${name} (id INTEGER PRIMARY KEY, series INTEGER NOT NULL, grp INTEGER NOT NULL,
  block INTEGER NOT NULL, data BLOB NOT NULL);
CREATE UNIQUE INDEX ${name}_key ON ${name} (series, grp, block);
CREATE INDEX ${name}_block ON ${name} (block);`;

/** Writes data with this build, then turns the block tables back into the v2 layout, blobs unchanged. */
async function makeV2(file: string): Promise<{ answers: unknown[]; tables: string[] }> {
  const store = new SqliteStore(file);
  await store.init();
  const counts: CountRow[] = [];
  for (let m = 0; m < 150; m++) {
    for (const [region, isp] of [['GD', 'CMCC'], ['SH', 'CUCC'], ['BJ', 'CTCC']] as const) {
      counts.push({ project: 'p', domain: `d${m % 3}.com`, minute: T0 + m * MIN, region, isp, code: 200 + (m % 4), count: 1 + m, bytes: m * 1000 });
    }
  }
  const samples = Array.from({ length: 1300 }, (_, s) => ({ project: 'p', taskId: 't', second: T0 + s * 1000, videoFps: 25, videoKbps: s, audioFps: 43, audioKbps: 128 }));
  await store.write({ id: 'b1', counts, samples, tasks: [], checkpoints: [{ key: 'k', value: 'v' }] });
  const answers = await readAll(store);
  await store.close();
  const db = new Database(file);
  const tables = [...HTTP_CUBE.levels.map((l) => l.table), SAMPLES];
  db.transaction(() => {
    for (const t of tables) {
      const rows = [...t.all(db)];
      db.exec(`DROP TABLE ${t.name}; ${V2_DDL(t.name)}`);
      const put = db.prepare(`INSERT INTO ${t.name} (series, grp, block, data) VALUES (?, ?, ?, ?)`);
      for (const r of rows) put.run(r.series, r.grp, r.block, r.data);
    }
    db.prepare('DELETE FROM schema_migrations WHERE version = 3').run();
  })();
  db.close();
  return { answers, tables: tables.map((t) => t.name) };
}

async function readAll(store: SqliteStore): Promise<unknown[]> {
  const f = { project: 'p', domains: ['d0.com', 'd1.com', 'd2.com'], regions: [], isps: [], fromMinute: T0, toMinute: T0 + 150 * MIN };
  return [
    await store.queryHttpCodes(f), await store.queryHttpCodes({ ...f, regions: ['GD'] }), await store.queryHttpCodes({ ...f, isps: ['CUCC'] }),
    await store.queryHttpCodes({ ...f, regions: ['SH', 'BJ'], isps: ['CUCC', 'CTCC'] }),
    await store.querySamples({ project: 'p', taskId: 't', from: T0, to: T0 + 1300_000 }), await store.getCheckpoint('k'),
  ];
}

const columnsOf = (db: Database.Database, table: string): string[] =>
  (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name);

it('upgrades a v2 file in place: block tables re-keyed by one packed rowid, every answer unchanged', async () => {
  tmp = tempDir();
  const file = join(tmp.dir, 'livestats.db');
  const { answers, tables } = await makeV2(file);
  const before = new Database(file, { readonly: true });
  expect(columnsOf(before, 'cube_hc_all')).toEqual(['id', 'series', 'grp', 'block', 'data']);
  before.close();
  const store = new SqliteStore(file);
  await store.init();
  expect(await readAll(store)).toEqual(answers);
  expect((answers[0] as unknown[]).length).toBeGreaterThan(100);
  await store.close();
  const db = new Database(file, { readonly: true });
  expect(db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all()).toEqual([1, 2, 3]);
  for (const t of tables) expect(columnsOf(db, t)).toEqual(['id', 'data']);
  const indexes = db.prepare("SELECT tbl_name FROM sqlite_schema WHERE type = 'index'").pluck().all() as string[];
  expect(indexes.filter((t) => tables.includes(t))).toEqual([]);
  db.close();
});

it('a v2 file with a series id beyond the new key space stays at v2, unchanged, and the error says why', async () => {
  tmp = tempDir();
  const file = join(tmp.dir, 'livestats.db');
  await makeV2(file);
  const db = new Database(file);
  db.prepare('UPDATE cube_hc_all SET series = ? WHERE id = (SELECT min(id) FROM cube_hc_all)').run(2 ** 40);
  const rows = db.prepare('SELECT count(*) FROM cube_hc_all').pluck().get();
  db.close();
  const store = new SqliteStore(file);
  await expect(store.init()).rejects.toThrow(
    `${file}: schema migration 3 (block keys) failed and was rolled back; the database is unchanged at version 2: cube_hc_all: series id ${2 ** 40} beyond ${HTTP_CUBE.levels[3]?.table.maxSeries}`,
  );
  await store.close();
  const after = new Database(file, { readonly: true });
  expect(columnsOf(after, 'cube_hc_all')).toEqual(['id', 'series', 'grp', 'block', 'data']);
  expect(after.prepare('SELECT count(*) FROM cube_hc_all').pluck().get()).toBe(rows);
  expect(after.prepare('SELECT max(version) FROM schema_migrations').pluck().get()).toBe(2);
  after.close();
});
