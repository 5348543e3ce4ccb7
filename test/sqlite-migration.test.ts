import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { ISPS, REGIONS, type Isp, type Region } from '../src/contract/values.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import type { CodeCount } from '../src/store/types.js';
import { cliPath } from './ingest-helpers.js';
import { spawnNode } from './helpers/spawn.js';
import { tempDir } from './helpers/tmp.js';
import { sqliteMigrationVersions } from '../src/store/sqlite/migrate.js';

/**
 * A v1 database made exactly as livestats v1 made it: its migration 001 (kept unchanged in
 * src/store/sqlite/migrations) and the rows its store wrote (one per cell, plus the total rollup).
 */
const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 20, 3, 0, 0);
let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(() => tmp?.remove());

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function makeV1(file: string, badRegion = false): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  db.exec(readFileSync(join(import.meta.dirname, '..', 'src', 'store', 'sqlite', 'migrations', '001_init.sql'), 'utf8'));
  db.prepare('INSERT INTO schema_migrations VALUES (1, ?, ?)').run('init', Date.now());
  const rand = prng(11);
  db.transaction(() => {
    const series = db.prepare('INSERT INTO series (project, domain) VALUES (?, ?)');
    series.run('p1', 'a.example.com');
    series.run('p1', 'b.example.com');
    series.run("p'2\u0000", 'a.example.com');
    const up = db.prepare(`INSERT INTO http_counts (series, region, isp, minute, code, count) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (series, region, isp, minute, code) DO UPDATE SET count = count + excluded.count`);
    const upTotal = db.prepare(`INSERT INTO http_counts_total (series, minute, code, count) VALUES (?, ?, ?, ?)
      ON CONFLICT (series, minute, code) DO UPDATE SET count = count + excluded.count`);
    for (let i = 0; i < 20_000; i++) {
      const s = 1 + Math.floor(rand() * 3);
      const region = REGIONS[Math.floor(rand() * 6)] as string;
      const isp = ISPS[Math.floor(rand() * 4)] as string;
      const minute = T0 / MIN + Math.floor(rand() * 3 * 60) - 30; // spans four hour blocks
      const code = [200, 206, 302, 404, 500, 503][Math.floor(rand() * 6)] as number;
      const n = 1 + Math.floor(rand() * (rand() < 0.01 ? 1e9 : 20));
      up.run(s, region, isp, minute, code, n);
      upTotal.run(s, minute, code, n);
    }
    if (badRegion) up.run(1, 'XX', 'CMCC', T0 / MIN, 200, 1);
    db.prepare('INSERT INTO carousel_tasks (project, task_id, created_at, last_sample_at) VALUES (?, ?, ?, ?)').run('p1', 'task-1', T0, T0 / 1000 + 999);
    const sample = db.prepare('INSERT INTO carousel_samples VALUES (1, ?, ?, ?, ?, ?)');
    for (let s = 0; s < 1000; s += 1 + Math.floor(rand() * 3)) sample.run(T0 / 1000 + s, 25, 1500 + s, 43, s % 7 === 0 ? 0 : 128);
    db.prepare('INSERT INTO checkpoints VALUES (?, ?, ?)').run('file:/var/log/a', '12345', Date.now());
    db.prepare('INSERT INTO meta VALUES (?, ?)').run('m', 'kept');
  })();
  db.close();
}

/** The answer v1 gave for a filter, straight from its tables (its own query logic). */
function v1Answer(db: Database.Database, project: string, domains: string[], regions: string[], isps: string[], from: number, to: number): CodeCount[] {
  const ids = domains.map((d) => db.prepare('SELECT id FROM series WHERE project = ? AND domain = ?').pluck().get(project, d)).filter((x) => x !== undefined);
  if (ids.length === 0) return [];
  const q = (n: number): string => new Array<string>(n).fill('?').join(',');
  const rows = db.prepare(`SELECT minute, code, sum(count) FROM http_counts WHERE series IN (${q(ids.length)})
    ${regions.length ? `AND region IN (${q(regions.length)})` : ''} ${isps.length ? `AND isp IN (${q(isps.length)})` : ''}
    AND minute >= ? AND minute < ? GROUP BY minute, code ORDER BY minute, code`).raw().all(...ids, ...regions, ...isps, from / MIN, to / MIN) as number[][];
  return rows.map(([minute, code, count]) => ({ minute: (minute as number) * MIN, code: code as number, count: count as number }));
}

const sorted = (r: CodeCount[]): CodeCount[] => [...r].sort((a, b) => a.minute - b.minute || a.code - b.code);

it('upgrades a v1 file in place on first open, every count, sample, checkpoint and meta value preserved', async () => {
  tmp = tempDir();
  const file = join(tmp.dir, 'livestats.db');
  makeV1(file);
  const v1 = new Database(file, { readonly: true });
  const filters: Array<[string, string[], Region[], Isp[]]> = [
    ['p1', ['a.example.com'], [], []],
    ['p1', ['a.example.com', 'b.example.com'], [], []],
    ['p1', ['a.example.com', 'b.example.com'], ['GD', 'BJ'], []],
    ['p1', ['a.example.com', 'b.example.com'], [], ['CMCC']],
    ['p1', ['b.example.com'], ['SH', 'TJ', 'OT'], ['CTCC', 'OTHER']],
    ["p'2\u0000", ['a.example.com'], [], []],
    ["p'2\u0000", ['a.example.com'], ['CQ'], ['CUCC']],
  ];
  const windows: Array<[number, number]> = [[T0 - 60 * MIN, T0 + 4 * 60 * MIN], [T0 + 17 * MIN, T0 + 95 * MIN]];
  const expected = filters.flatMap(([p, d, r, i]) => windows.map(([a, b]) => v1Answer(v1, p, d, r, i, a, b)));
  const total = v1.prepare('SELECT sum(count) FROM http_counts').pluck().get() as number;
  const v1Samples = v1.prepare('SELECT second, video_fps, video_kbps, audio_fps, audio_kbps FROM carousel_samples ORDER BY second').raw().all() as number[][];
  const gdBefore = v1.prepare(`SELECT coalesce(sum(count), 0) FROM http_counts
    WHERE series = 1 AND region = 'GD' AND isp = 'CMCC' AND minute = ? AND code = 200`).pluck().get((T0 + 17 * MIN) / MIN) as number;
  v1.close();
  expect(total).toBeGreaterThan(20_000);

  const store = new SqliteStore(file);
  await store.init();
  const got = [];
  for (const [p, d, r, i] of filters) {
    for (const [a, b] of windows) got.push(sorted(await store.queryHttpCodes({ project: p, domains: d, regions: r, isps: i, fromMinute: a, toMinute: b })));
  }
  expect(got).toEqual(expected);
  expect(got.flat().length).toBeGreaterThan(1000);
  const samples = await store.querySamples({ project: 'p1', taskId: 'task-1', from: T0, to: T0 + 1_000_000 });
  expect(samples.map((s) => [s.second / 1000, s.videoFps, s.videoKbps, s.audioFps, s.audioKbps])).toEqual(v1Samples);
  expect(await store.listTasks('p1')).toEqual([{ taskId: 'task-1', createdAt: T0, lastSampleAt: T0 + 999_000 }]);
  expect(await store.getCheckpoint('file:/var/log/a')).toBe('12345');
  expect(await store.getMeta('m')).toBe('kept');
  // New writes land on the migrated series (same ids) and add up.
  await store.write({ id: 'x', samples: [], tasks: [], checkpoints: [], counts: [
    { project: 'p1', domain: 'a.example.com', minute: T0 + 17 * MIN, region: 'GD', isp: 'CMCC', code: 200, count: 5, bytes: 10 },
  ] });
  const after = await store.queryHttpCodes({ project: 'p1', domains: ['a.example.com'], regions: ['GD'], isps: ['CMCC'], fromMinute: T0 + 17 * MIN, toMinute: T0 + 18 * MIN });
  expect(after.find((c) => c.code === 200)?.count).toBe(gdBefore + 5);
  await store.close();

  const db = new Database(file, { readonly: true });
  expect(db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all()).toEqual(sqliteMigrationVersions());
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
  expect(tables).not.toContain('http_counts');
  expect(tables).not.toContain('carousel_samples');
  db.close();
});

function snapshot(file: string): unknown {
  const db = new Database(file, { readonly: true });
  const tables = db.prepare("SELECT name, sql FROM sqlite_master ORDER BY name").raw().all() as Array<[string, string | null]>;
  const content = tables.filter(([, sql]) => sql?.startsWith('CREATE TABLE')).map(([name]) => [name, db.prepare(`SELECT * FROM "${name}"`).raw().all()]);
  db.close();
  return { tables, content };
}

it('a failed migration rolls back: the v1 file keeps its schema and rows, and the error says why', async () => {
  tmp = tempDir();
  const file = join(tmp.dir, 'livestats.db');
  makeV1(file, true);
  const before = snapshot(file);
  const store = new SqliteStore(file);
  await expect(store.init()).rejects.toThrow(
    `${file}: schema migration 2 (blocks) failed and was rolled back; the database is unchanged at version 1: ` +
      `http_counts holds an unknown region "XX" (series 1, minute ${T0 / MIN})`,
  );
  await store.close();
  expect(snapshot(file)).toEqual(before);
});

it('livestats serve refuses to start on a v1 file it cannot migrate, naming the file and the reason', async () => {
  tmp = tempDir();
  makeV1(join(tmp.dir, 'livestats.db'), true);
  const p = spawnNode([cliPath(), 'serve', '--port', '0', '--data', tmp.dir, '--log-level', 'silent']);
  expect(await p.exited).toBe(1);
  expect(p.output()).toContain('livestats serve: cannot start: ');
  expect(p.output()).toContain('schema migration 2 (blocks) failed and was rolled back; the database is unchanged at version 1: http_counts holds an unknown region "XX"');
});
