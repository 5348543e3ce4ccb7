import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { HTTP_CUBE, SAMPLES } from '../src/store/sqlite/layout.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { TRAFFIC_DOMAINS, TRAFFIC_STREAMS } from '../src/store/sqlite/traffic-layout.js';
import type { TrafficRow } from '../src/store/traffic.js';
import type { CountRow } from '../src/store/types.js';
import { tempDir } from './helpers/tmp.js';
import { sqliteMigrationVersions } from '../src/store/sqlite/migrate.js';

/**
 * A schema v2 file (block tables with series, grp, block columns, a unique key index and a block
 * index, as livestats v2 created them), and a schema v3 file (the same, plus the traffic cubes in
 * that layout, as livestats with the traffic cube created them) upgraded to v4 (one packed rowid per block).
 */
const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 20, 3, 0, 0);
let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(() => tmp?.remove());

const V2_DDL = (name: string): string => `CREATE TABLE ${name} (id INTEGER PRIMARY KEY, series INTEGER NOT NULL, grp INTEGER NOT NULL,
  block INTEGER NOT NULL, data BLOB NOT NULL);
CREATE UNIQUE INDEX ${name}_key ON ${name} (series, grp, block);
CREATE INDEX ${name}_block ON ${name} (block);`;

const TRAFFIC_TABLES = [...TRAFFIC_DOMAINS.levels, ...TRAFFIC_STREAMS.levels].map((l) => l.table);

/** Writes data with this build, then turns the block tables back into the v2 layout, blobs unchanged. */
async function makeV2(file: string): Promise<{ answers: unknown[]; traffic: unknown[]; tables: string[] }> {
  return makeOld(file, 2);
}

/**
 * Writes data with this build, then turns the block tables back into the three-column layout:
 * at version 2 without the traffic tables, at version 3 with them in that layout too.
 */
async function makeOld(file: string, version: 2 | 3): Promise<{ answers: unknown[]; traffic: unknown[]; tables: string[] }> {
  const store = new SqliteStore(file);
  await store.init();
  const counts: CountRow[] = [];
  for (let m = 0; m < 150; m++) {
    for (const [region, isp] of [['GD', 'CMCC'], ['SH', 'CUCC'], ['BJ', 'CTCC']] as const) {
      counts.push({ project: 'p', domain: `d${m % 3}.com`, minute: T0 + m * MIN, region, isp, code: 200 + (m % 4), count: 1 + m, bytes: m * 1000 });
    }
  }
  const samples = Array.from({ length: 1300 }, (_, s) => ({ project: 'p', taskId: 't', second: T0 + s * 1000, videoFps: 25, videoKbps: s, audioFps: 43, audioKbps: 128 }));
  const traffic: TrafficRow[] = [];
  for (let i = 0; i < 200; i++) {
    traffic.push({
      project: 'p', domain: `d${i % 3}.com`, app: 'live', stream: `s${i % 5}`, protocol: i % 2 === 0 ? 'flv' : 'hls',
      region: i % 3 === 0 ? 'GD' : 'SH', isp: i % 4 === 0 ? 'CMCC' : 'CUCC', ipType: i % 5 === 0 ? 'v6' : 'v4',
      slot: T0 + (i % 30) * 300_000, requests: 1 + i, bytes: 1000 * (i + 1) + i,
    });
  }
  await store.write({ id: 'b1', counts, samples, traffic, tasks: [], checkpoints: [{ key: 'k', value: 'v' }] });
  const answers = await readAll(store);
  const trafficAnswers = await readTraffic(store);
  await store.close();
  const db = new Database(file);
  const tables = [...HTTP_CUBE.levels.map((l) => l.table), SAMPLES, ...(version === 3 ? TRAFFIC_TABLES : [])];
  db.transaction(() => {
    for (const t of tables) {
      const rows = [...t.all(db)];
      db.exec(`DROP TABLE ${t.name}; ${V2_DDL(t.name)}`);
      const put = db.prepare(`INSERT INTO ${t.name} (series, grp, block, data) VALUES (?, ?, ?, ?)`);
      for (const r of rows) put.run(r.series, r.grp, r.block, r.data);
    }
    if (version === 2) {
      for (const c of [TRAFFIC_DOMAINS, TRAFFIC_STREAMS]) {
        for (const t of [c.seriesTable, ...c.levels.map((l) => l.table.name)]) db.exec(`DROP TABLE ${t}`);
      }
    }
    db.prepare('DELETE FROM schema_migrations WHERE version > ?').run(version);
  })();
  db.close();
  return { answers, traffic: trafficAnswers, tables: tables.map((t) => t.name) };
}

async function readAll(store: SqliteStore): Promise<unknown[]> {
  const f = { project: 'p', domains: ['d0.com', 'd1.com', 'd2.com'], regions: [], isps: [], fromMinute: T0, toMinute: T0 + 150 * MIN };
  return [
    await store.queryHttpCodes(f), await store.queryHttpCodes({ ...f, regions: ['GD'] }), await store.queryHttpCodes({ ...f, isps: ['CUCC'] }),
    await store.queryHttpCodes({ ...f, regions: ['SH', 'BJ'], isps: ['CUCC', 'CTCC'] }),
    await store.querySamples({ project: 'p', taskId: 't', from: T0, to: T0 + 1300_000 }), await store.getCheckpoint('k'),
  ];
}

async function readTraffic(store: SqliteStore): Promise<unknown[]> {
  const f = {
    project: 'p', domains: [], app: undefined, stream: undefined, protocol: undefined, regions: [], isps: [], ipType: undefined,
    slotMs: 300_000, from: T0, to: T0 + 30 * 300_000,
  };
  return [
    await store.trafficDomains('p'), [...await store.trafficSeries(f)], [...await store.trafficSeries({ ...f, regions: ['GD'], protocol: 'flv' })],
    [...await store.trafficSeries({ ...f, app: 'live', stream: 's2' })],
    [...(await store.trafficByDomain({ ...f, isps: ['CUCC'], slotMs: 3_600_000, to: T0 + 3_600_000 })).entries()].map(([d, v]) => [d, [...v]]),
  ];
}

const columnsOf = (db: Database.Database, table: string): string[] =>
  (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name);

it('upgrades a v2 file in place: block tables re-keyed by one packed rowid, every answer unchanged, traffic tables created', async () => {
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
  expect(db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all()).toEqual(sqliteMigrationVersions());
  for (const t of [...tables, ...TRAFFIC_TABLES.map((x) => x.name)]) expect(columnsOf(db, t)).toEqual(['id', 'data']);
  const indexes = db.prepare("SELECT tbl_name FROM sqlite_schema WHERE type = 'index'").pluck().all() as string[];
  expect(indexes.filter((t) => tables.includes(t))).toEqual([]);
  db.close();
});

it('a v2 file with a series id beyond the new key space stops at v3 (traffic tables), its blocks unchanged, and the error says why', async () => {
  tmp = tempDir();
  const file = join(tmp.dir, 'livestats.db');
  await makeV2(file);
  const db = new Database(file);
  db.prepare('UPDATE cube_hc_all SET series = ? WHERE id = (SELECT min(id) FROM cube_hc_all)').run(2 ** 40);
  const rows = db.prepare('SELECT count(*) FROM cube_hc_all').pluck().get();
  db.close();
  const store = new SqliteStore(file);
  await expect(store.init()).rejects.toThrow(
    `${file}: schema migration 4 (block keys) failed and was rolled back; the database is unchanged at version 3: cube_hc_all: series id ${2 ** 40} beyond ${HTTP_CUBE.levels[3]?.table.maxSeries}`,
  );
  await store.close();
  const after = new Database(file, { readonly: true });
  expect(columnsOf(after, 'cube_hc_all')).toEqual(['id', 'series', 'grp', 'block', 'data']);
  expect(after.prepare('SELECT count(*) FROM cube_hc_all').pluck().get()).toBe(rows);
  expect(after.prepare('SELECT max(version) FROM schema_migrations').pluck().get()).toBe(3);
  after.close();
});

it('upgrades a v3 file (traffic cubes in the three-column layout): every playback and traffic answer unchanged', async () => {
  tmp = tempDir();
  const file = join(tmp.dir, 'livestats.db');
  const { answers, traffic, tables } = await makeOld(file, 3);
  expect(traffic[0]).toEqual(['d0.com', 'd1.com', 'd2.com']);
  expect((traffic[1] as number[]).some((v) => v > 0)).toBe(true);
  expect((traffic[3] as number[]).some((v) => v > 0)).toBe(true);
  const before = new Database(file, { readonly: true });
  for (const t of TRAFFIC_TABLES) expect(columnsOf(before, t.name)).toEqual(['id', 'series', 'grp', 'block', 'data']);
  expect(before.prepare('SELECT max(version) FROM schema_migrations').pluck().get()).toBe(3);
  before.close();
  const store = new SqliteStore(file);
  await store.init();
  expect(await readAll(store)).toEqual(answers);
  expect(await readTraffic(store)).toEqual(traffic);
  await store.close();
  const db = new Database(file, { readonly: true });
  expect(db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all()).toEqual(sqliteMigrationVersions());
  for (const t of tables) expect(columnsOf(db, t)).toEqual(['id', 'data']);
  db.close();
});
