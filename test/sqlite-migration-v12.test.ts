import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { AudienceCounter } from '../src/ingest/audience/audience-counter.js';
import { packGeo } from '../src/ingest/geo/names.js';
import type { UsersFilter } from '../src/store/audience.js';
import { blockInfo, decodeBlock, encodeBlock } from '../src/store/blocks/codec.js';
import { ByteWriter } from '../src/store/blocks/varint.js';
import { sessionsBlock } from '../src/store/sqlite/audience-sessions-migration.js';
import { AUDIENCE_STREAMS } from '../src/store/sqlite/audience-layout.js';
import { sqliteMigrationVersions } from '../src/store/sqlite/migrate.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { audienceOf, D, DOMAIN, FORMAT, LINES } from './fixtures/audience-log.js';
import { toV11Blocks } from './helpers/audience-v11.js';
import { tempDir } from './ingest-helpers.js';
import { batch } from './store-conformance.js';

/**
 * Schema v12: the audience cubes' FLV/RTMP viewers go from a count per minute (v11: a cell in every
 * minute a session covers) to opens and closes with a base at each quarter-hour
 * (src/store/audience-flv.ts). Migration 12 rewrites a v11 file's blocks in place: every answer
 * unchanged, and writes after it add exactly.
 */
const dir = tempDir('migration-v12');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const M = 60_000;
const H = 3_600_000;

it('turns a v11 block into opens and closes: FLV and RTMP keys only, bytes and play ms kept', () => {
  // Key 0 (flv): viewers 3, 3, 5, 2, 0 ... in slots 0-3, bytes at slot 1; key 1 (hls) kept as it is;
  // key 2 (rtmp): 1 viewer in slots 13 and 14 (open at the block's end).
  const v11 = encodeBlock(15, {
    count: 7, keys: Int32Array.from([0, 0, 0, 0, 1, 2, 2]), slots: Uint16Array.from([0, 1, 2, 3, 4, 13, 14]),
    values: [[3, 3, 5, 2, 4, 1, 1], [0, 700, 0, 0, 9, 0, 0], [0, 2, 0, 0, 1, 0, 0], [180_000, 170_000, 300_000, 90_000, 240_000, 30_000, 60_000]].map((v) => Float64Array.from(v)),
  });
  const out = new ByteWriter();
  sessionsBlock(v11, out);
  const { slots, cells } = decodeBlock(out.finish());
  expect(slots).toBe(15);
  const rows = Array.from({ length: cells.count }, (_, i) => [cells.keys[i], cells.slots[i], ...cells.values.map((v) => v[i])]);
  // [key, slot, viewers, bytes, requests, play ms, opens, closes]
  expect(rows).toEqual([
    [0, 0, 0, 0, 0, 180_000, 3, 0],
    [0, 1, 0, 700, 2, 170_000, 0, 0],
    [0, 2, 0, 0, 0, 300_000, 2, 0],
    [0, 3, 0, 0, 0, 90_000, 0, 3],
    [0, 4, 0, 0, 0, 0, 0, 2],
    [1, 4, 4, 9, 1, 240_000, 0, 0],
    [2, 13, 0, 0, 0, 30_000, 1, 0],
    [2, 14, 0, 0, 0, 60_000, 0, 0],
  ]);
});

it('upgrades a v11 file in place: the same answers, fewer FLV cells, and exact writes after it', async () => {
  const file = join(dir, 'a.db');
  let store = new SqliteStore(file);
  await store.init();
  // The hand-computed log (sessions across minutes, the hour and UTC midnight; HLS viewers) and a
  // few long sessions (hours, across quarter-hours) in a second batch.
  await store.write(batch({ audience: audienceOf(FORMAT, LINES).audience }));
  const counter = new AudienceCounter();
  const long: Array<[number, number]> = [[D + 14 * H + 7_000, 5 * H + 3_000], [D + 13 * H, 2 * H], [D + 12 * H + 30_000, 40 * M], [D + 15 * H + 1, 6 * H]];
  for (const [end, ms] of long) counter.session(0, 0, packGeo('GD', 'CTCC'), end, ms, 100);
  await store.write(batch({ audience: [{ project: 'p1', cells: counter.drain([DOMAIN], ['live'], ['s1']) }] }));
  const users = (f: Partial<UsersFilter> = {}): UsersFilter => ({
    project: 'p1', domain: DOMAIN, app: undefined, stream: undefined, protocol: undefined, regions: [], isps: [], slotMs: M, from: D + 7 * H + 3 * M, to: D + 25 * H, ...f,
  });
  const answers = async (s: SqliteStore): Promise<unknown> => ({
    all: [...await s.usersSeries(users())],
    peaks: [...await s.usersSeries(users({ slotMs: 5 * M, from: D + 7 * H }))],
    flvGd: [...await s.usersSeries(users({ protocol: 'flv', regions: ['GD'] }))],
    s1: [...await s.usersSeries(users({ app: 'live', stream: 's1' }))],
    playInfo: await Promise.all([10 * 60, 10 * 60 + 1, 11 * 60, 13 * 60 + 29, 14 * 60 + 15, 20 * 60 + 59].map((m) => s.playInfo({ project: 'p1', domains: [], minute: D + m * M }))),
    portraits: await Promise.all([undefined, 's1', 's2'].flatMap((stream) => [D, D + 24 * H].map((day) => s.streamPortrait({ project: 'p1', domain: DOMAIN, stream, day })))),
  });
  const before = await answers(store);
  const db = (): import('better-sqlite3').Database => store['db'] as import('better-sqlite3').Database;
  const level = AUDIENCE_STREAMS.levelFor([[], []]);
  const cells = (): number => (db().prepare(`SELECT data FROM ${level.table.name}`).pluck().all() as Uint8Array[]).reduce((n, b) => n + blockInfo(b).cells, 0);
  const v12Cells = cells();
  // Back to a v11 file: FLV viewers a count in every minute a session covers.
  db().transaction(() => toV11Blocks(db()))();
  const v11Cells = cells();
  expect(v11Cells).toBeGreaterThan(360); // the long sessions (09:00 to 15:00 in one cell): one cell per minute covered
  await store.close();

  store = new SqliteStore(file);
  await store.init();
  expect(db().prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all()).toEqual(sqliteMigrationVersions());
  expect(await answers(store)).toEqual(before);
  expect(cells()).toBeLessThanOrEqual(v12Cells);
  expect(cells() * 4).toBeLessThan(v11Cells);
  // Written after the upgrade: the same sessions again add exactly (every figure but the distinct users doubles).
  await store.write(batch({ audience: [{ project: 'p1', cells: (() => {
    const c = new AudienceCounter();
    for (const [end, ms] of long) c.session(0, 0, packGeo('GD', 'CTCC'), end, ms, 100);
    return c.drain([DOMAIN], ['live'], ['s1']);
  })() }] }));
  const after = [...await store.usersSeries(users({ app: 'live', stream: 's1', from: D + 12 * H, to: D + 21 * H + 15 * M }))];
  const s1Before = (before as { s1: number[] }).s1.slice((12 * H - 7 * H - 3 * M) / M, (21 * H + 15 * M - 7 * H - 3 * M) / M);
  // Minutes 12:00-21:14 hold only the long sessions (the log's s1 sessions are around 10:00 and midnight), so each count doubles.
  expect(after).toEqual(s1Before.map((v) => 2 * v));
  await store.close();
});
