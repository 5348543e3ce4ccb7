import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { AudienceCounter } from '../src/ingest/audience/audience-counter.js';
import { packGeo } from '../src/ingest/geo/names.js';
import type { Isp, Region } from '../src/contract/values.js';
import type { AudienceCells, UsersFilter } from '../src/store/audience.js';
import { sqliteMigrationVersions } from '../src/store/sqlite/migrate.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { audienceOf, D, DOMAIN, FORMAT, LINES } from './fixtures/audience-log.js';
import { foldAudienceDeltas, toV13Layout } from './helpers/audience-v13.js';
import { tempDir } from './ingest-helpers.js';
import { batch } from './store-conformance.js';

/**
 * Schema v14: the per-stream audience cube's region x isp level keeps the province x carrier group
 * in the cell key (`cube_aus_key_region_isp`: one block per stream and quarter-hour) instead of the
 * row id (`cube_aus_region_isp` up to v13: one block per stream, group and quarter-hour). A flush
 * touching a stream's cells in many groups re-encodes one block, not one per group. Migration 14
 * moves a v13 file's blocks in place with every answer unchanged.
 */
const dir = tempDir('migration-v14');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const M = 60_000;
const H = 3_600_000;
const GEOS: Array<[Region, Isp]> = [['GD', 'CTCC'], ['BJ', 'CMCC'], ['SH', 'CUCC'], ['ZJ', 'OTHER'], ['GD', 'CMCC'], ['OT', 'OTHER']];
const FLV = 0;
const RTMP = 2;

/** FLV and RTMP sessions over streams s1..s3 of `live`, every stream in every group of GEOS, across quarter-hours and the hour; HLS viewers in each group. */
function cells(round: number): AudienceCells {
  const c = new AudienceCounter();
  for (let t = 0; t < 3; t++) {
    GEOS.forEach(([region, isp], g) => {
      const geo = packGeo(region, isp);
      for (let k = 0; k < 4; k++) {
        const end = D + 10 * H + (7 + 11 * k + g * 3 + t) * M + 1_000 * (g + 1);
        c.session(t, k % 3 === 2 ? RTMP : FLV, geo, end, (3 + 9 * k + g + round) * M + 500, 1000 * (k + 1));
      }
      for (let m = 0; m < 5; m++) {
        const minute = Math.floor((D + 10 * H + (12 + 9 * m + t) * M) / M);
        for (let v = 0; v <= g; v++) c.viewer(t, minute, `10.${t}.${g}.${v + round * 10}`, geo);
        c.line(t, 1, geo, minute, 700);
      }
    });
  }
  return c.drain([DOMAIN, DOMAIN, DOMAIN], ['live', 'live', 'live'], ['s1', 's2', 's3']);
}

const users = (f: Partial<UsersFilter> = {}): UsersFilter => ({
  project: 'p1', domain: DOMAIN, app: undefined, stream: undefined, protocol: undefined, regions: [], isps: [], slotMs: M, from: D + 9 * H + 45 * M, to: D + 12 * H, ...f,
});

const FILTERS: Array<Partial<UsersFilter>> = [
  {}, { regions: ['GD'] }, { regions: ['BJ', 'SH'] }, { isps: ['CMCC'] }, { regions: ['GD'], isps: ['CTCC', 'OTHER'] }, { regions: ['HK'] },
  { protocol: 'flv', regions: ['GD'] }, { protocol: 'hls', isps: ['OTHER'] }, { protocol: 'rtmp', regions: ['ZJ', 'GD'] },
];

async function answers(s: SqliteStore): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const [i, f] of FILTERS.entries()) {
    out[`domain${i}`] = [...await s.usersSeries(users(f))];
    for (const stream of ['s1', 's2', 's3']) out[`${stream}/${i}`] = [...await s.usersSeries(users({ ...f, app: 'live', stream }))];
    out[`app${i}`] = [...await s.usersSeries(users({ ...f, app: 'live' }))];
    out[`peaks${i}`] = [...await s.usersSeries(users({ ...f, stream: 's2', slotMs: 5 * M, from: D + 9 * H + 45 * M }))];
  }
  out.playInfo = await Promise.all([10 * 60, 10 * 60 + 14, 10 * 60 + 15, 10 * 60 + 40, 11 * 60 + 1].map((m) => s.playInfo({ project: 'p1', domains: [], minute: D + m * M })));
  out.portraits = await Promise.all([undefined, 's1', 's2', 's3'].map((stream) => s.streamPortrait({ project: 'p1', domain: DOMAIN, stream, day: D })));
  return out;
}

const dbOf = (store: SqliteStore): Database.Database => store['db'] as Database.Database;
const tables = (db: Database.Database): string[] =>
  db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE 'cube_aus_%' ORDER BY name").pluck().all() as string[];
const rows = (db: Database.Database, table: string): Array<[number, Buffer]> => db.prepare(`SELECT id, data FROM ${table} ORDER BY id`).raw().all() as Array<[number, Buffer]>;

it('keeps one block per stream and quarter-hour for every province and carrier, and filters by them', async () => {
  const store = new SqliteStore(join(dir, 'layout.db'));
  await store.init();
  await store.write(batch({ audience: [{ project: 'p1', cells: cells(0) }] }));
  const db = dbOf(store);
  expect(tables(db)).toEqual(['cube_aus_all', 'cube_aus_key_region_isp', 'cube_aus_series']);
  // As many blocks as the total level: one per (stream, quarter-hour), not one per (stream, group, quarter-hour).
  const keyed = rows(db, 'cube_aus_key_region_isp');
  expect(keyed.map(([id]) => id)).toEqual(rows(db, 'cube_aus_all').map(([id]) => id));
  expect(keyed.length).toBeLessThan(3 * 12);
  // Cells add up across streams: the three streams' answers under each filter make the domain's (its own cube, row-id groups).
  const all = (await answers(store)) as Record<string, number[]>;
  for (let i = 0; i < FILTERS.length; i++) {
    const sum = (all[`s1/${i}`] as number[]).map((v, j) => v + (all[`s2/${i}`] as number[])[j]! + (all[`s3/${i}`] as number[])[j]!);
    expect(sum).toEqual(all[`domain${i}`]);
    expect(all[`app${i}`]).toEqual(all[`domain${i}`]);
  }
  // A province with nobody: zeros; GD is two groups of GEOS, so its filter is more than one group's.
  expect((all['s1/5'] as number[]).every((v) => v === 0)).toBe(true);
  expect(Math.max(...(all['s1/1'] as number[]))).toBeGreaterThan(Math.max(...(all['s1/4'] as number[])));
  // Retention deletes the key level's blocks with the others.
  await store.deleteAudienceBefore(D + 24 * H);
  expect(rows(db, 'cube_aus_key_region_isp')).toEqual([]);
  expect([...await store.usersSeries(users({ app: 'live', stream: 's1', regions: ['GD'] }))].every((v) => v === 0)).toBe(true);
  await store.close();
});

it('upgrades a v13 file in place: the same blocks and answers, and exact writes after it', async () => {
  const file = join(dir, 'upgrade.db');
  let store = new SqliteStore(file);
  await store.init();
  await store.write(batch({ audience: audienceOf(FORMAT, LINES).audience }));
  await store.write(batch({ audience: [{ project: 'p1', cells: cells(0) }] }));
  await store.write(batch({ audience: [{ project: 'p1', cells: cells(1) }] }));
  const before = await answers(store);
  // Later writes went to deltas (schema v18); a v13 file held them in its blocks.
  expect(rows(dbOf(store), 'cube_aus_key_region_isp').some(([id]) => id % 2 === 1)).toBe(true);
  dbOf(store).transaction(() => foldAudienceDeltas(dbOf(store)))();
  const blocks = rows(dbOf(store), 'cube_aus_key_region_isp');
  expect(blocks.every(([id]) => id % 2 === 0)).toBe(true);
  expect(await answers(store)).toEqual(before);
  // Back to the v13 layout: a block per (stream, group, quarter-hour), migration 14 not applied.
  dbOf(store).transaction(() => toV13Layout(dbOf(store)))();
  expect(tables(dbOf(store))).toEqual(['cube_aus_all', 'cube_aus_region_isp', 'cube_aus_series']);
  expect(rows(dbOf(store), 'cube_aus_region_isp').length).toBeGreaterThan(blocks.length * 3);
  await store.close();

  store = new SqliteStore(file);
  await store.init();
  expect(dbOf(store).prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all()).toEqual(sqliteMigrationVersions());
  expect(tables(dbOf(store))).toEqual(['cube_aus_all', 'cube_aus_key_region_isp', 'cube_aus_series']);
  // The same blocks, byte for byte, as the writer made them.
  expect(rows(dbOf(store), 'cube_aus_key_region_isp')).toEqual(blocks);
  expect(await answers(store)).toEqual(before);
  // Written after the upgrade: round 1's sessions again (its HLS viewers are known, so they add nothing).
  await store.write(batch({ audience: [{ project: 'p1', cells: cells(1) }] }));
  await store.close();

  // The same three writes into a file that never was v13.
  const fresh = new SqliteStore(join(dir, 'fresh.db'));
  await fresh.init();
  await fresh.write(batch({ audience: audienceOf(FORMAT, LINES).audience }));
  for (const round of [0, 1, 1]) await fresh.write(batch({ audience: [{ project: 'p1', cells: cells(round) }] }));
  store = new SqliteStore(file);
  await store.init();
  expect(await answers(store)).toEqual(await answers(fresh));
  // Which rows are blocks and which deltas follows each file's writes; the cells they sum to do not.
  for (const s of [store, fresh]) dbOf(s).transaction(() => foldAudienceDeltas(dbOf(s)))();
  expect(rows(dbOf(store), 'cube_aus_key_region_isp')).toEqual(rows(dbOf(fresh), 'cube_aus_key_region_isp'));
  await store.close();
  await fresh.close();
});
