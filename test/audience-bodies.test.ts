import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { shapePlayInfo } from '../src/contract/audience/play-info.js';
import { renderUsers } from '../src/contract/audience/users-body.js';
import { projectRoot } from '../src/paths.js';
import type { PlayInfoFilter, UsersFilter } from '../src/store/audience.js';
import { ReadPool } from '../src/store/sqlite/read-pool.js';
import { InlineReader } from '../src/store/sqlite/reader.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { writeAudienceLog } from './audience-conformance.js';
import { audienceOf, D, DOMAIN, FORMAT } from './fixtures/audience-log.js';
import { batch } from './store-conformance.js';
import { tempDir } from './helpers/tmp.js';

/**
 * The audience answers the SQLite store renders in its read workers (usersBody, playInfoBody) are
 * byte for byte what the route renders from usersSeries / playInfo (renderUsers, JSON of
 * shapePlayInfo), over the known log, through the compiled worker (npm test builds first) and inline.
 */
const workerUrl = new URL(`file://${join(projectRoot(), 'dist', 'src', 'store', 'sqlite', 'read-worker.js')}`);
const H = 3_600_000;
const M = 60_000;
let tmp: ReturnType<typeof tempDir>;
let store: SqliteStore;
let pool: ReadPool;
let inline: InlineReader;

beforeAll(async () => {
  if (!existsSync(workerUrl)) throw new Error('run `npm run build` before this test');
  tmp = tempDir();
  const file = join(tmp.dir, 'livestats.db');
  store = new SqliteStore(file);
  await store.init();
  await writeAudienceLog(store);
  pool = new ReadPool(file, { size: 1, workerUrl });
  inline = new InlineReader(new Database(file, { readonly: true }));
});
afterAll(async () => {
  await pool?.close();
  await store?.close();
  tmp?.remove();
});

const users = (more: Partial<UsersFilter>): UsersFilter => ({
  project: 'p1', domain: DOMAIN, app: undefined, stream: undefined, protocol: undefined, regions: [], isps: [], slotMs: M, from: D + 9 * H, to: D + 12 * H, ...more,
});
const text = (b: unknown): string => Buffer.from(b as Uint8Array).toString('utf8');

it('users: the same bytes as renderUsers over usersSeries, at 60 s and 300 s and under filters', async () => {
  for (const f of [users({}), users({ slotMs: 300_000 }), users({ protocol: 'hls' }), users({ regions: ['GD'], isps: ['CMCC'] }), users({ stream: 's1' }), users({ from: D - 7 * 24 * H, to: D + 24 * H })]) {
    const slots = { slotMs: f.slotMs, from: f.from, to: f.to, count: Math.round((f.to - f.from) / f.slotMs) };
    const expected = Buffer.from(renderUsers({ slots }, await store.usersSeries(f))).toString('utf8');
    expect(expected).toContain('"value":');
    expect(text(await store.usersBody(f))).toBe(expected);
    expect(text(await pool.audience({ op: 'users-body', filter: f }))).toBe(expected);
    expect(text(await inline.audience({ op: 'users-body', filter: f }))).toBe(expected);
  }
});

it('play-info: the same bytes as JSON of shapePlayInfo over playInfo, for given domains and for all', async () => {
  let rows = 0;
  for (let m = D + 9 * H + 55 * M; m < D + 10 * H + 10 * M; m += M) {
    for (const domains of [[], [DOMAIN], [DOMAIN, 'a.example.com'], ['nope.example.com']]) {
      const f: PlayInfoFilter = { project: 'p1', domains, minute: m };
      const cells = await store.playInfo(f);
      rows += cells.length;
      const expected = JSON.stringify(shapePlayInfo({ domains, minute: m }, cells));
      expect(text(await store.playInfoBody(f))).toBe(expected);
      expect(text(await pool.audience({ op: 'play-info-body', filter: f }))).toBe(expected);
    }
  }
  expect(rows).toBeGreaterThan(0);
});

it('play-info: app and stream names with quotes, backslashes and non-ASCII come back whole (the series keys cut after the domain)', async () => {
  const t2 = tempDir();
  const s2 = new SqliteStore(join(t2.dir, 'livestats.db'));
  try {
    await s2.init();
    const lines = ['/a%22p/%E7%9B%B4%E6%92%AD-%C3%A9.flv', '/%5Capp/s%22t.m3u8', '/live/%F0%9F%98%80.flv'].map((uri, i) =>
      `1.1.1.${i + 1} ${((D + 10 * H + 30_000 + i * 1000) / 1000).toFixed(3)} 20.000 200 ${100 * (i + 1)} ${DOMAIN} "GET ${uri} HTTP/1.1"`);
    await s2.write(batch({ audience: audienceOf(FORMAT, lines).audience }));
    const cells = await s2.playInfo({ project: 'p1', domains: [DOMAIN], minute: D + 10 * H });
    expect(cells.map((c) => [c.app, c.stream, c.protocol])).toEqual([
      ['live', '😀', 'flv'], ['\\app', 's"t', 'hls'], ['a"p', '直播-é', 'flv'],
    ].sort((a, b) => (a[1] as string) < (b[1] as string) ? -1 : 1));
  } finally {
    await s2.close();
    t2.remove();
  }
});
