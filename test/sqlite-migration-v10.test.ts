import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { decodeBlock, encodeBlockTo, type CellColumns } from '../src/store/blocks/codec.js';
import { Cube } from '../src/store/blocks/cube.js';
import { decodeIpSet, encodeIpSet, mergeIpSet } from '../src/store/blocks/ip-set.js';
import { ByteWriter } from '../src/store/blocks/varint.js';
import { AUDIENCE_BLOCK_SLOTS, AUDIENCE_DOMAINS, AUDIENCE_STREAMS_V13 } from '../src/store/sqlite/audience-layout.js';
import type { PortraitFilter, UsersFilter } from '../src/store/audience.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { sqliteMigrationVersions } from '../src/store/sqlite/migrate.js';
import { USER_CHUNK_SHIFT, USER_CHUNKS } from '../src/store/sqlite/audience-sets.js';
import { audienceOf, D, DOMAIN, FORMAT } from './fixtures/audience-log.js';
import { batch } from './store-conformance.js';
import { tempDir } from './ingest-helpers.js';
import { toV11Blocks } from './helpers/audience-v11.js';

/**
 * Schema v10: the audience cube's exact IPv4 sets as delta-varint blobs (aud_hls_v4, aud_users_v4)
 * instead of one row per address (aud_hls, aud_users of v7, which keep the other addresses).
 * A v9 file (its sets as rows, as the v9 writer left them) is upgraded in place with every count
 * unchanged, and the upgraded sets stay exact: a retried batch counts nothing, new addresses count once.
 */
const dir = tempDir('migration-v10');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const H = 3_600_000;
const M = 60_000;
const msec = (t: number): string => (t / 1000).toFixed(3);
const hls = (ip: string, t: number, stream: string): string => `${ip} ${msec(t)} 0.100 200 100 ${DOMAIN} "GET /live/${stream}.m3u8 HTTP/1.1"`;
/** n HLS viewers (addresses spread over the whole IPv4 space, some v6) of two streams over three minutes, starting at viewer `from`. */
function viewers(from: number, n: number): string[] {
  const out: string[] = [];
  for (let i = from; i < from + n; i++) {
    const v4 = (i * 2_654_435_761) % 2 ** 32;
    const ip = i % 50 === 0 ? `2001:db8::${i.toString(16)}` : [v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255].join('.');
    for (let m = 0; m < 3; m++) out.push(hls(ip, D + 10 * H + m * M + (i % 50) * 1000, `s${i % 2}`));
  }
  return out;
}
const write = async (store: SqliteStore, lines: string[]): Promise<void> => {
  await store.write(batch({ audience: audienceOf(FORMAT, lines).audience }));
};
const users = (f: Partial<UsersFilter> = {}): UsersFilter => ({
  project: 'p1', domain: DOMAIN, app: undefined, stream: undefined, protocol: undefined, regions: [], isps: [],
  slotMs: M, from: D + 10 * H, to: D + 10 * H + 5 * M, ...f,
});
const portrait = (stream?: string): PortraitFilter => ({ project: 'p1', domain: DOMAIN, stream, day: D });
async function answers(store: SqliteStore): Promise<unknown> {
  return {
    flv: [...(await store.usersSeries(users({ protocol: 'flv', from: D + 9 * H, to: D + 12 * H })))],
    gd: [...(await store.usersSeries(users({ regions: ['GD'], from: D + 9 * H, to: D + 12 * H })))],
    playInfo: await store.playInfo({ project: 'p1', domains: [], minute: D + 10 * H }),
    portrait: await store.streamPortrait(portrait('s1')),
    all: [...(await store.usersSeries(users()))],
    s1: [...(await store.usersSeries(users({ app: 'live', stream: 's1' })))],
    day: (await store.streamPortrait(portrait())).users,
    dayS0: (await store.streamPortrait(portrait('s0'))).users,
  };
}


/** The audience cubes' level tables rewritten as v9 wrote them: hour blocks (60 slots) under the v9 row ids (after toV11Blocks: the v13 layout). */
function toHourBlocks(db: import('better-sqlite3').Database): void {
  const per = 60 / AUDIENCE_BLOCK_SLOTS;
  for (const cube of [AUDIENCE_DOMAINS, AUDIENCE_STREAMS_V13]) {
    const old = new Cube({ ...cube.spec, blockSlots: 60 });
    cube.levels.forEach((level, l) => {
      const hourTable = (old.levels[l] as (typeof old.levels)[number]).table;
      const byHour = new Map<number, Array<[number, number, number[]]>>();
      for (const [id, data] of db.prepare(`SELECT id, data FROM ${level.table.name}`).raw().all() as Array<[number, Uint8Array]>) {
        const { series, grp, block } = level.table.parts(id);
        const { cells } = decodeBlock(data);
        const hourId = hourTable.id(series, grp, Math.floor(block / per));
        const list = byHour.get(hourId) ?? [];
        byHour.set(hourId, list);
        for (let i = 0; i < cells.count; i++) {
          list.push([cells.keys[i] as number, (block % per) * AUDIENCE_BLOCK_SLOTS + (cells.slots[i] as number), cells.values.map((v) => v[i] as number)]);
        }
      }
      db.exec(`DELETE FROM ${level.table.name}`);
      for (const [id, list] of byHour) {
        list.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        const c: CellColumns = { count: list.length, keys: Int32Array.from(list, (x) => x[0]), slots: Uint16Array.from(list, (x) => x[1]), values: [0, 1, 2, 3].map((m) => Float64Array.from(list, (x) => x[2][m] as number)) };
        const w = new ByteWriter();
        encodeBlockTo(60, c, w);
        db.prepare(`INSERT INTO ${level.table.name} (id, data) VALUES (?, ?)`).run(id, w.finish());
      }
    });
  }
}

it('the blob codec round-trips ascending sets and merges exactly', () => {
  const set = [0, 1, 2, 127, 128, 16_383, 16_384, 2 ** 31, 2 ** 32 - 2, 2 ** 32 - 1];
  expect([...decodeIpSet(encodeIpSet(set))]).toEqual(set);
  expect(encodeIpSet([10, 11, 12]).length).toBe(3);
  expect(() => encodeIpSet([5, 5])).toThrow(RangeError);
  expect(() => encodeIpSet([2 ** 32])).toThrow(RangeError);
  expect(() => decodeIpSet(Uint8Array.from([0x80]))).toThrow(/truncated/);
  const { merged, fresh } = mergeIpSet(Float64Array.from([3, 9, 20]), Float64Array.from([1, 9, 25]));
  expect([...merged]).toEqual([1, 3, 9, 20, 25]);
  expect([...fresh]).toEqual([1, 0, 1]);
});

it('upgrades a v9 file (sets as rows, hour blocks) in place: the same answers, the same sets, and exact after it', async () => {
  const file = join(dir, 'a.db');
  let store = new SqliteStore(file);
  await store.init();
  await write(store, viewers(0, 400));
  await write(store, viewers(300, 200)); // 100 of them again, across batches
  // FLV sessions across quarter-hours and the hour (10:00 and 11:00 blocks), from two provinces.
  await write(store, [0, 1, 2, 3, 4, 5].map((i) => `${i % 2 === 0 ? '1.1.1.1' : '2.2.2.2'} ${msec(D + 10 * H + (20 + i * 11) * M + 7_000)} ${(60 * (10 + i * 7)).toFixed(3)} 200 5000 ${DOMAIN} "GET /live/s1.flv HTTP/1.1"`));
  const before = await answers(store);
  expect(before).toMatchObject({ day: 502, dayS0: 250 });
  const db = (): import('better-sqlite3').Database => store['db'] as import('better-sqlite3').Database;
  const blobs = (table: string): Array<[number, number, number[]]> =>
    (db().prepare(`SELECT * FROM ${table} ORDER BY 1, 2`).raw().all() as Array<[number, number, Uint8Array]>).map(([a, b, ips]) => [a, b, [...decodeIpSet(ips)]]);
  const hlsSets = blobs('aud_hls_v4');
  const userSets = blobs('aud_users_v4');
  expect(hlsSets.length).toBeGreaterThan(0);
  // Back to a v9 file: the IPv4 sets as rows of aud_hls / aud_users, no v10 tables, migration 10 not applied.
  db().transaction(() => {
    const hlsRow = db().prepare('INSERT INTO aud_hls (minute, sid, ip) VALUES (?, ?, ?)');
    for (const [minute, sid, ips] of hlsSets) for (const ip of ips) hlsRow.run(minute, sid, ip);
    const userRow = db().prepare('INSERT INTO aud_users (day, uid, ip) VALUES (?, ?, ?)');
    for (const [day, part, ips] of userSets) for (const ip of ips) userRow.run(day, Math.floor(part / USER_CHUNKS), ip);
    db().exec('DROP TABLE aud_hls_v4; DROP TABLE aud_users_v4; DELETE FROM schema_migrations WHERE version = 10;');
    toV11Blocks(db()); // and v11's FLV viewers (a count per minute), as v9 kept them too
    toHourBlocks(db());
  })();
  const v6Rows = db().prepare('SELECT count(*) FROM aud_hls WHERE typeof(ip) = \'text\'').pluck().get() as number;
  expect(v6Rows).toBeGreaterThan(0);
  await store.close();

  store = new SqliteStore(file);
  await store.init();
  expect(db().prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all()).toEqual(sqliteMigrationVersions());
  expect(blobs('aud_hls_v4')).toEqual(hlsSets);
  expect(blobs('aud_users_v4')).toEqual(userSets);
  // Only the addresses that are not IPv4 are left as rows.
  expect(db().prepare('SELECT count(*) FROM aud_hls').pluck().get()).toBe(v6Rows);
  expect(db().prepare('SELECT count(*) FROM aud_users WHERE typeof(ip) != \'text\'').pluck().get()).toBe(0);
  for (const [, part, ips] of userSets) for (const ip of ips) expect(Math.floor(ip / 2 ** USER_CHUNK_SHIFT)).toBe(part % USER_CHUNKS);
  expect(await answers(store)).toEqual(before);
  await store.close();

  // A new process (no cache of what is stored): a retried batch adds nothing, 50 new viewers count once.
  store = new SqliteStore(file);
  await store.init();
  await write(store, viewers(0, 400));
  // Its lines' bytes and requests count again (a new batch id: new lines to the store); no viewer or user does.
  const viewerCounts = (a: unknown): unknown => ({ ...(a as object), playInfo: undefined, portrait: undefined });
  expect(viewerCounts(await answers(store))).toEqual(viewerCounts(before));
  await write(store, viewers(450, 100));
  const after = (await answers(store)) as { all: number[]; day: number };
  expect(after.day).toBe(552);
  expect(after.all.slice(0, 3)).toEqual((before as { all: number[] }).all.slice(0, 3).map((v) => v + 50));
  // Retention takes the sets with the cells: nothing of the day is left, and a late line counts anew.
  await store.deleteAudienceBefore(D + 24 * H);
  for (const t of ['aud_hls_v4', 'aud_users_v4', 'aud_hls', 'aud_users']) expect(db().prepare(`SELECT count(*) FROM ${t}`).pluck().get()).toBe(0);
  await store.close();
});
