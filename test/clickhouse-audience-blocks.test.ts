// The ClickHouse store's audience blocks (src/store/clickhouse/audience-blocks.ts, play-info-blocks.ts, issue 24):
// closed hours of each domain's viewers, bytes, lines and play time, and of its play-info rows, kept in memory,
// checked against their stamps (migration 014). Every users series without filters, every whole-domain
// portrait and every play-info of listed domains from blocks (and every users answer's bytes, rendered by a
// worker thread: users-bodies.ts) must
// equal the SQL answer of a store without blocks on the same database, at 60 s and 300 s and with edges
// inside hours, also after a late write into a closed hour by another node, while two writers write, and
// after a retried batch whose first attempt landed without its stamp. The users series checks closed days by their
// day stamps (migration 017), repaired when they differ from their hours' sum, each closed day by the record of its 24
// blocks (made once while they stay, made anew when one is built again).
import { describe, expect, it } from 'vitest';
import { renderUsers } from '../src/contract/audience/users-body.js';
import { shapePlayInfo } from '../src/contract/audience/play-info.js';
import type { AudienceCells, PortraitFilter, UsersFilter } from '../src/store/audience.js';
import type { WriteBatch } from '../src/store/types.js';
import { domainKey } from '../src/store/clickhouse/block-cache.js';
import { AudienceBlocks } from '../src/store/clickhouse/audience-blocks.js';
import type { ChConnection } from '../src/store/clickhouse/client.js';
import type { SchemaNames } from '../src/store/clickhouse/schema.js';
import { assembleUsers, type UsersPart } from '../src/store/clickhouse/users-parts.js';
import { PLAY_INFO_STAMPS_HOLD_MS } from '../src/store/clickhouse/play-info-blocks.js';
import { batch } from './store-conformance.js';
import { D, DOMAIN, drained, randomSessions, STREAMS } from './helpers/audience-naive.js';
import { markUnacknowledged, seededRandom, untilFromBlocks, useBlockStores, withoutStampView } from './helpers/block-stores.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('clickhouse-server');

const M = 60_000;
const H = 3_600_000;
const DAY = 24 * H;
const OTHER = 'other.example.com';

// Without the portraits of closed days (portrait-days.ts, test/clickhouse-portrait-days.test.ts): every portrait here is made from the blocks.
const st = useBlockStores('audience_blocks', { portraitDays: false });
const { rnd, pick } = seededRandom(21);
let seed = 1;

/** FLV/RTMP sessions (opens and closes, as ingest drains them) ending from D 02:00 to D+1 06:00 (test/helpers/audience-naive.ts). */
const sessions = (n: number): WriteBatch => batch({ audience: [{ project: 'p1', cells: drained(randomSessions(n, ++seed)) }] });

/**
 * HLS viewers (client IPs from a small pool, so some repeat across batches), their bytes and lines, and
 * the day's users, on DOMAIN and OTHER, in minutes of [from, from + hours); also viewers counted per
 * minute (`sessions`), as an earlier livestats wrote FLV sessions.
 */
function hls(n: number, from = D, hours = 30): WriteBatch {
  const tuples: Array<[string, string, string]> = [...STREAMS.map((s): [string, string, string] => [DOMAIN, 'live', s]), [OTHER, 'live', 's0']];
  const add = { tuple: [] as number[], minute: [] as number[], protocol: [] as number[], geo: [] as number[], sessions: [] as number[], bytes: [] as number[], requests: [] as number[] };
  const v = { tuple: [] as number[], minute: [] as number[], geo: [] as number[], ip: [] as string[] };
  const u = { tuple: [] as number[], day: [] as number[], ip: [] as string[] };
  for (let i = 0; i < n; i++) {
    const t = Math.floor(rnd() * tuples.length);
    const minute = from + Math.floor(rnd() * hours * 60) * M;
    const geo = pick([0, 5, 9, 130]);
    const ip = `10.0.${Math.floor(rnd() * 4)}.${Math.floor(rnd() * 50)}`;
    const counted = rnd() < 0.2;
    add.tuple.push(t); add.minute.push(minute); add.protocol.push(counted ? 0 : 1); add.geo.push(geo);
    add.sessions.push(counted ? 1 + Math.floor(rnd() * 5) : 0); add.bytes.push(1 + Math.floor(rnd() * 1e6)); add.requests.push(1 + Math.floor(rnd() * 3));
    if (!counted) {
      v.tuple.push(t); v.minute.push(minute); v.geo.push(geo); v.ip.push(ip);
    }
    u.tuple.push(t); u.day.push(Math.floor(minute / DAY) * DAY); u.ip.push(ip);
  }
  const cells: AudienceCells = {
    domains: tuples.map((x) => x[0]), apps: tuples.map((x) => x[1]), streams: tuples.map((x) => x[2]),
    tuple: Int32Array.from(add.tuple), minute: Float64Array.from(add.minute), protocol: Uint8Array.from(add.protocol), geo: Uint8Array.from(add.geo),
    sessions: Float64Array.from(add.sessions), playMs: Float64Array.from(add.sessions, (s) => s * M), bytes: Float64Array.from(add.bytes),
    requests: Float64Array.from(add.requests),
    hlsTuple: Int32Array.from(v.tuple), hlsMinute: Float64Array.from(v.minute), hlsGeo: Uint8Array.from(v.geo), hlsIp: v.ip,
    userTuple: Int32Array.from(u.tuple), userDay: Float64Array.from(u.day), userIp: u.ip,
  };
  return batch({ audience: [{ project: 'p1', cells }] });
}

const users = (more: Partial<UsersFilter>): UsersFilter => ({
  project: 'p1', domain: DOMAIN, app: undefined, stream: undefined, protocol: undefined, regions: [], isps: [],
  slotMs: M, from: D - 2 * H, to: D + 32 * H, ...more,
});

const WINDOWS: Array<[string, Partial<UsersFilter>]> = [
  ['34 h at 60 s', {}],
  ['34 h at 300 s', { slotMs: 5 * M }],
  ['edges inside hours (one mid-quarter-hour), 60 s', { from: D + 7 * M, to: D + 26 * H + 43 * M }],
  ['edges inside hours, 300 s', { slotMs: 5 * M, from: D + 25 * M, to: D + 29 * H + 5 * M }],
  ['the other domain', { domain: OTHER }],
];
const PORTRAITS: PortraitFilter[] = [D - DAY, D, D + DAY].flatMap((day) => [DOMAIN, OTHER].map((domain) => ({ project: 'p1', domain, stream: undefined, day })));

const blocks = (): { fromBlocks: number; partly: number } | undefined => st.cached.audienceBlocks?.stats;
/** Asks the cached store until a series comes from its blocks (built in the background); returns it. */
const usersFromBlocks = (f: UsersFilter): Promise<number[]> => untilFromBlocks(blocks(), async () => [...(await st.cached.usersSeries(f))], 'audience blocks');
const usersBySql = async (f: UsersFilter): Promise<number[]> => [...(await st.sql.usersSeries(f))];

/** Minutes of play-info asked: quarter-hour starts and ends (the sessions' prefix sums restart), hour edges. */
const PLAY_MINUTES = [D + 2 * H + 7 * M, D + 5 * H, D + 5 * H + 14 * M, D + 5 * H + 15 * M, D + 20 * H + 44 * M, D + 23 * H + 59 * M, D + 26 * H + 30 * M];
const playBlocks = (): { fromBlocks: number } | undefined => st.cached.playInfoBlocks?.stats;

let freshDomains = 0;

/** Every window, portrait and play-info minute: from the cached store's blocks, equal to SQL. */
async function expectSameAsSql(): Promise<void> {
  let sessionRows = 0;
  for (const minute of PLAY_MINUTES) {
    const f = { project: 'p1', domains: [DOMAIN, OTHER], minute };
    const want = await st.sql.playInfo(f);
    sessionRows += want.filter((r) => r.protocol !== 'hls' && r.online > 0).length;
    expect(await untilFromBlocks(playBlocks(), () => st.cached.playInfo(f), 'play-info blocks'), new Date(minute).toISOString()).toEqual(want);
    // The answer's bytes: copied from the blocks' entries on the cached store (no SQL), from SQL's rows on the other; JSON of shapePlayInfo over SQL's rows.
    const bytes = JSON.stringify(shapePlayInfo({ domains: f.domains, minute }, want));
    const answered = st.cached.playInfoBlocks?.stats.fromBlocks ?? 0;
    expect(Buffer.from(await st.cached.playInfoBody(f)).toString('utf8'), new Date(minute).toISOString()).toBe(bytes);
    expect(st.cached.playInfoBlocks?.stats.fromBlocks).toBe(answered + 1);
    expect(Buffer.from(await st.sql.playInfoBody(f)).toString('utf8'), new Date(minute).toISOString()).toBe(bytes);
    // Domains from blocks beside one without a block (read by SQL, its block built in the background): the same bytes.
    const mixed = { ...f, domains: [...f.domains, `fresh-${++freshDomains}.example.com`] };
    const partly = st.cached.playInfoBlocks?.stats.partly ?? 0;
    expect(Buffer.from(await st.cached.playInfoBody(mixed)).toString('utf8'), new Date(minute).toISOString()).toBe(JSON.stringify(shapePlayInfo(mixed, want)));
    expect(st.cached.playInfoBlocks?.stats.partly).toBe(partly + 1);
  }
  expect(sessionRows).toBeGreaterThan(0);
  const reused = st.cached.usersBodies?.seriesStats.reused ?? 0;
  for (const [name, more] of WINDOWS) {
    const f = users(more);
    const want = await usersBySql(f);
    expect(await usersFromBlocks(f), name).toEqual(want);
    // The answer's bytes, rendered by a worker thread from the blocks (and by SQL on the store without blocks): renderUsers over SQL's series.
    const bytes = Buffer.from(renderUsers({ slots: { slotMs: f.slotMs, from: f.from, to: f.to, count: want.length } }, want));
    for (const store of [st.cached, st.sql]) {
      const rendered = store.usersBodies?.stats.workers ?? 0;
      const assembled = store.usersBodies?.stats.assembled ?? 0;
      const copied = store.audienceBlocks?.entryStats.copied ?? 0;
      const body = await store.usersBody(f);
      expect(Buffer.from(body).equals(bytes), name).toBe(true);
      // A window with a whole closed day (D) from the blocks: put together on the main thread from the day's entries
      // kept with its record and the edges rendered there (users-parts.ts); else (and by SQL) rendered by a worker.
      const wholeDay = store === st.cached && f.from <= D && f.to >= D + DAY;
      expect(store.usersBodies?.stats.workers, name).toBe(rendered + (wholeDay ? 0 : 1));
      expect(store.usersBodies?.stats.assembled, name).toBe(assembled + (wholeDay ? 1 : 0));
      if (wholeDay) expect(store.audienceBlocks?.entryStats.copied, name).toBe(copied + 1);
      store.releaseBody(body);
    }
  }
  // The answers of the same length (34 h at 60 s, the other domain) were made in the series of an earlier one, filled
  // with zeros again (users-bodies.ts): the bytes above are SQL's all the same.
  expect(st.cached.usersBodies?.seriesStats.reused).toBeGreaterThan(reused);
  for (const f of PORTRAITS) {
    const want = await st.sql.streamPortrait(f);
    expect(await untilFromBlocks(blocks(), () => st.cached.streamPortrait(f), 'audience blocks'), JSON.stringify(f)).toEqual(want);
    // The day's distinct users from the node's day counts too.
    expect(await untilFromBlocks(st.cached.audienceUsersBlocks?.stats, () => st.cached.streamPortrait(f), 'audience users blocks'), JSON.stringify(f)).toEqual(want);
  }
}

describe('ClickHouse audience blocks', () => {
  it('answers whole-domain viewers and portraits from blocks exactly as SQL does, also after a late write into a closed hour by another node', async () => {
    await st.cached.write(sessions(400));
    await st.writer.write(sessions(400));
    await st.cached.write(hls(1500));
    await st.writer.write(hls(1500));
    expect((await usersBySql(users({}))).some((v) => v > 0)).toBe(true);
    await expectSameAsSql();
    // The users series checked its closed days by their day stamps (migration 017), none needing a repair.
    expect(st.cached.audienceBlocks?.dayStats.used).toBeGreaterThan(0);
    expect(st.cached.audienceBlocks?.dayStats.repaired).toBe(0);
    // Day D (in the 34 h windows) was taken at once from its day record, not 24 blocks one by one; the record is made
    // once and kept while its 24 blocks are: answering the 34 h window again makes none.
    const days = st.cached.audienceBlocks?.dayStats ?? { whole: 0, records: 0 };
    expect(days.whole).toBeGreaterThan(0);
    const { whole, records } = days;
    expect(await usersFromBlocks(users({ slotMs: 5 * M }))).toEqual(await usersBySql(users({ slotMs: 5 * M })));
    expect([days.whole, days.records]).toEqual([whole + 1, records]);
    // A filter is answered by SQL, as before.
    for (const more of [{ protocol: 'hls' as const }, { regions: ['GD' as const] }, { stream: 's1' }]) {
      expect([...(await st.cached.usersSeries(users(more)))]).toEqual(await usersBySql(users(more)));
    }
    const s1 = { project: 'p1', domain: DOMAIN, stream: 's1', day: D };
    expect(await st.cached.streamPortrait(s1)).toEqual(await st.sql.streamPortrait(s1));
    // Every minute's play-info of that hour from blocks, so each minute's text is made and kept with its block.
    const hourMinutes = Array.from({ length: 60 }, (_, i) => ({ project: 'p1', domains: [DOMAIN, OTHER], minute: D + 5 * H + i * M }));
    const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
    const earlier: string[] = [];
    for (const q of hourMinutes) earlier.push(text(await st.cached.playInfoBody(q)));
    const texts = st.cached.playInfoBlocks?.textStats ?? { rendered: 0, kept: 0 };
    const { rendered, kept } = texts;
    expect(text(await st.cached.playInfoBody(hourMinutes[0] as (typeof hourMinutes)[0]))).toBe(earlier[0]);
    // The play-info stamps reads are shared by the clients just answered (SharedReads' hold, tested in shared-reads-hold.test.ts).
    const stampReads = (st.cached.playInfoBlocks as unknown as { cache: { stampReads: { holdMs: number } } }).cache.stampReads;
    expect(stampReads.holdMs).toBe(PLAY_INFO_STAMPS_HOLD_MS);
    expect(PLAY_INFO_STAMPS_HOLD_MS).toBeGreaterThan(0);
    // Asked again: the kept texts copied, none made again.
    expect(texts.rendered).toBe(rendered);
    expect(texts.kept).toBeGreaterThan(kept);
    // A sent answer's memory is reused by the next answer from blocks (releaseBody), whose bytes are its own; given back
    // twice it is taken once, and memory the store did not render (Node's shared pool under small Buffers) is not taken.
    const sent = await st.cached.playInfoBody(hourMinutes[0] as (typeof hourMinutes)[0]);
    st.cached.releaseBody(sent);
    st.cached.releaseBody(sent);
    const small = Buffer.from('{"x":1}');
    st.cached.releaseBody(small);
    // The same minute asked 5 times, no answer given back: one of the first ones is made in the sent answer's memory (a
    // renderer keeps at most 4 spare buffers), none shares its memory with another, each has its bytes.
    const next: Uint8Array[] = [];
    for (let i = 0; i < 5; i++) next.push(await st.cached.playInfoBody(hourMinutes[0] as (typeof hourMinutes)[0]));
    expect(next.filter((b) => b.buffer === sent.buffer)).toHaveLength(1);
    expect(new Set(next.map((b) => b.buffer)).size).toBe(next.length);
    for (const b of next) expect(text(b)).toBe(earlier[0]);
    expect(small.toString()).toBe('{"x":1}');
    // The sent answer given back once more, now that its memory is an answer still out: that memory stays with it.
    const reused = next.find((b) => b.buffer === sent.buffer) as Uint8Array;
    st.cached.releaseBody(sent);
    const later = await st.cached.playInfoBody(hourMinutes[0] as (typeof hourMinutes)[0]);
    expect(later.buffer).not.toBe(reused.buffer);
    expect(text(reused)).toBe(earlier[0]);
    st.cached.releaseBody(later);
    for (const b of next) st.cached.releaseBody(b);
    // Another node writes into a closed hour: the next answer reads that hour by SQL, then from its new block.
    await st.writer.write(hls(30, D + 5 * H, 1));
    const f = users({});
    const want = await usersBySql(f);
    const partly = blocks()?.partly ?? 0;
    expect([...(await st.cached.usersSeries(f))]).toEqual(want);
    expect(blocks()?.partly).toBe(partly + 1);
    expect(await usersFromBlocks(f)).toEqual(want);
    // The day's blocks were built again: its record was made anew from them (the old one, of the blocks replaced, forgotten).
    expect(days.records).toBeGreaterThan(records);
    // Play-info of the hour written into: SQL's bytes again once its blocks are built anew, the minutes' texts made
    // from the new blocks (the old blocks' texts, of the entries before the write, are not copied any more).
    await untilFromBlocks(playBlocks(), () => st.cached.playInfo(hourMinutes[0] as (typeof hourMinutes)[0]), 'play-info blocks');
    let changed = 0;
    for (const [i, q] of hourMinutes.entries()) {
      const want = text(await st.sql.playInfoBody(q));
      const answered = st.cached.playInfoBlocks?.stats.fromBlocks ?? 0;
      expect(text(await st.cached.playInfoBody(q)), new Date(q.minute).toISOString()).toBe(want);
      expect(st.cached.playInfoBlocks?.stats.fromBlocks).toBe(answered + 1);
      if (want !== earlier[i]) changed++;
    }
    expect(changed).toBeGreaterThan(0);
    expect(texts.rendered).toBeGreaterThanOrEqual(rendered + 2 * changed);
  }, 240_000);

  it('an answer uses the blocks its stamps read confirmed, also when a build that ends while it waits for SQL drops them', async () => {
    // Reaching into the stores' internals only to make the timing happen (a build landing exactly while an answer waits
    // for its SQL cannot be scheduled from outside); the blocks, stamps and SQL are the real ones of the first test.
    type Read = (...args: never[]) => Promise<unknown>;
    const ab = st.cached.audienceBlocks as unknown as { read: Read; byDomain: { get(key: string): Map<number, unknown> | undefined } };
    const f = users({ from: D + 7 * M, to: D + 26 * H + 43 * M });
    const want = await usersBySql(f);
    expect(await usersFromBlocks(f)).toEqual(want);
    const hours = ab.byDomain.get(domainKey('p1', DOMAIN));
    expect(hours?.size).toBeGreaterThan(0);
    const read = ab.read;
    const saved = new Map(hours);
    let waits = 0;
    // The domain's blocks leave the node (dropped for room) while the answer's SQL edges are read.
    ab.read = async function (this: unknown, ...args: never[]): Promise<unknown> {
      const r = await read.apply(this, args);
      waits++;
      hours?.clear();
      return r;
    };
    try {
      const fromBlocks = blocks()?.fromBlocks ?? 0;
      expect([...(await st.cached.usersSeries(f))]).toEqual(want);
      expect(waits).toBeGreaterThan(0);
      expect(blocks()?.fromBlocks).toBe(fromBlocks + 1);
    } finally {
      ab.read = read;
      for (const [h, b] of saved) hours?.set(h, b);
    }
    // Play-info: the current domains' blocks dropped while the stale domain's rows are read by SQL.
    const audience = (st.cached as unknown as { audience: { playInfoSql: Read } }).audience;
    const pb = st.cached.playInfoBlocks as unknown as { cache: { clear(): void } };
    const minute = PLAY_MINUTES[1] as number;
    const plain = { project: 'p1', domains: [DOMAIN, OTHER], minute };
    const rows = await st.sql.playInfo(plain);
    expect(rows.length).toBeGreaterThan(0);
    await untilFromBlocks(playBlocks(), () => st.cached.playInfo(plain), 'play-info blocks');
    const mixed = { ...plain, domains: [...plain.domains, `fresh-${++freshDomains}.example.com`] };
    const playInfoSql = audience.playInfoSql;
    let sqlReads = 0;
    audience.playInfoSql = async function (this: unknown, ...args: never[]): Promise<unknown> {
      const r = await playInfoSql.apply(this, args);
      sqlReads++;
      pb.cache.clear();
      return r;
    };
    try {
      expect(Buffer.from(await st.cached.playInfoBody(mixed)).toString('utf8')).toBe(JSON.stringify(shapePlayInfo(mixed, rows)));
      expect(sqlReads).toBe(1);
    } finally {
      audience.playInfoSql = playInfoSql;
    }
  }, 120_000);

  it('a minute whose viewers add up below 0 (FLV closes without their opens) is 0 in the series from blocks, at 60 s and 300 s, as by SQL', async () => {
    // One stream of a domain of its own: in D 03:00-04:00, 2 sessions open at 03:05; 5 closes at 03:20 (a quarter-hour without opens: -5 from there); 1 open at 03:50.
    const minutes = [D + 3 * H + 5 * M, D + 3 * H + 20 * M, D + 3 * H + 50 * M];
    const n = minutes.length;
    const cells: AudienceCells = {
      domains: ['below-zero.example'], apps: ['live'], streams: ['s0'], tuple: new Int32Array(n), minute: Float64Array.from(minutes), protocol: new Uint8Array(n).fill(1),
      geo: new Uint8Array(n), sessions: new Float64Array(n), opens: Float64Array.from([2, 0, 1]), closes: Float64Array.from([0, 5, 0]),
      playMs: new Float64Array(n), bytes: Float64Array.from([100, 100, 100]), requests: Float64Array.from([1, 1, 1]),
      hlsTuple: new Int32Array(0), hlsMinute: new Float64Array(0), hlsGeo: new Uint8Array(0), hlsIp: [],
      userTuple: new Int32Array(0), userDay: new Float64Array(0), userIp: [],
    };
    await st.writer.write(batch({ audience: [{ project: 'p1', cells }] }));
    for (const slotMs of [M, 5 * M]) {
      const f = users({ domain: 'below-zero.example', from: D, to: D + 6 * H, slotMs });
      const want = await usersBySql(f);
      const at = (ms: number): number => (ms - f.from) / slotMs;
      // SQL's slots: 2 from 03:05, 0 (not -5) from 03:20, 1 from 03:50 (0 again at 04:00: a new quarter-hour); other hours 0.
      expect([want[at(D + 3 * H + 5 * M)], want[at(D + 3 * H + 20 * M)], want[at(D + 3 * H + 50 * M)], want[at(D + 4 * H)]], String(slotMs)).toEqual([2, 0, 1, 0]);
      expect(await usersFromBlocks(f), String(slotMs)).toEqual(want);
      // The whole day D in the window: its slots copied at once from its day record, the slot below 0 still 0.
      const day = users({ domain: 'below-zero.example', from: D - H, to: D + 25 * H, slotMs });
      const whole = st.cached.audienceBlocks?.dayStats.whole ?? 0;
      const got = await usersFromBlocks(day);
      expect(got, String(slotMs)).toEqual(await usersBySql(day));
      expect(got[(D + 3 * H + 20 * M - day.from) / slotMs], String(slotMs)).toBe(0);
      expect(Object.is(got[(D + 3 * H + 20 * M - day.from) / slotMs], -0), String(slotMs)).toBe(false);
      expect(st.cached.audienceBlocks?.dayStats.whole, String(slotMs)).toBeGreaterThan(whole);
    }
  }, 120_000);

  it('stays exact while two writers write into closed hours and a third node reads', async () => {
    const f = users({ slotMs: 5 * M });
    await usersFromBlocks(f);
    const writes = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? st.cached : st.writer).write(i % 3 === 0 ? sessions(50) : hls(100)));
    const reads = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? st.cached.usersSeries(f) : st.cached.streamPortrait(PORTRAITS[2] as PortraitFilter)));
    await Promise.all([...writes, ...reads]);
    await expectSameAsSql();
  }, 240_000);

  it('a retry whose first attempt landed without its stamp (the view failed) makes the blocks of its hours stale', async () => {
    await expectSameAsSql();
    // Counted viewers and bytes only (audience_cells): the HLS rows would change the stamps through their own view.
    const b = hls(200);
    const cells = b.audience?.[0]?.cells as AudienceCells;
    const onlyCells: WriteBatch = { ...b, audience: [{ project: 'p1', cells: { ...cells, hlsTuple: new Int32Array(0), hlsMinute: new Float64Array(0), hlsGeo: new Uint8Array(0), hlsIp: [] } }] };
    await withoutStampView(st, 14, 'audience_stamps_from_cells', () => st.writer.write(onlyCells));
    markUnacknowledged(st.writer, onlyCells.id);
    await st.writer.write(onlyCells);
    const f = users({});
    const want = await usersBySql(f);
    expect([...(await st.cached.usersSeries(f))]).toEqual(want);
    const repaired = st.cached.audienceBlocks?.dayStats.repaired ?? 0;
    await expectSameAsSql();
    // The first attempt reached the day stamps (017's view ran) but not its hours' (014's was dropped): the
    // day stamp then differs from its hours' sum, and the node repaired it before answering that day from blocks.
    expect(st.cached.audienceBlocks?.dayStats.repaired).toBeGreaterThan(repaired);
    // The same for the day stamps of the users: new users of day D that landed without their stamp, then the retry.
    const u = hls(50);
    const uc = u.audience?.[0]?.cells as AudienceCells;
    const onlyUsers: WriteBatch = { ...u, audience: [{ project: 'p1', cells: { ...uc, tuple: new Int32Array(0), minute: new Float64Array(0), protocol: new Uint8Array(0),
      geo: new Uint8Array(0), sessions: new Float64Array(0), playMs: new Float64Array(0), bytes: new Float64Array(0), requests: new Float64Array(0),
      hlsTuple: new Int32Array(0), hlsMinute: new Float64Array(0), hlsGeo: new Uint8Array(0), hlsIp: [],
      userDay: uc.userDay.map(() => D), userIp: uc.userIp.map((_, i) => `10.9.0.${i}`) } }] };
    // Both attempts without the view: the retry's insert changes no stamp either, as when a replicated table deduplicates it, views included.
    await withoutStampView(st, 14, 'audience_users_stamps_from_users', async () => {
      await st.writer.write(onlyUsers);
      markUnacknowledged(st.writer, onlyUsers.id);
      await st.writer.write(onlyUsers);
    });
    const day = { project: 'p1', domain: DOMAIN, stream: undefined, day: D };
    expect(await st.cached.streamPortrait(day)).toEqual(await st.sql.streamPortrait(day));
    await expectSameAsSql();
  }, 240_000);

  it('holds the users series stamps read after one returned until the clients it answered ask again: one read for them, not two', async () => {
    // A node of its own on the same database (the cached store's connection), its hold long enough not to end on a busy machine.
    const { primary, names } = st.cached as unknown as { primary: ChConnection; names: SchemaNames };
    const ab = new AudienceBlocks(primary, names, {}, 600_000);
    try {
      const f = users({ slotMs: 5 * M });
      const ask = (): Promise<Float64Array | undefined> => ab.usersSlots('p1', DOMAIN, f.from, f.to, f.slotMs);
      // Two answers arriving together share one read.
      await Promise.all([ask(), ask()]);
      expect(ab.gridStats).toEqual({ reads: 1, queries: 2 });
      // One of the two clients asks again: its read waits for the other (it was answered by the same read)...
      const c = ask();
      await new Promise((r) => setTimeout(r, 100));
      expect(ab.gridStats.reads).toBe(1);
      // ...and goes as soon as it asks too: both in one read.
      const d = ask();
      await Promise.all([c, d]);
      expect(ab.gridStats).toEqual({ reads: 2, queries: 4 });
    } finally {
      ab.close();
    }
  }, 120_000);

  /**
   * Viewers every 10 minutes of D-1 to D+1 for a domain of its own (no other test's writes, day stamps nobody repairs
   * meanwhile), written through the store: the users filter of those three days, its series by SQL and its bytes.
   */
  const threeDays = async (domain: string): Promise<{ f: UsersFilter; want: number[]; bytes: Buffer; n: number }> => {
    const minutes = Array.from({ length: 3 * 144 }, (_, i) => D - DAY + i * 10 * M);
    const n = minutes.length;
    const cells: AudienceCells = {
      domains: [domain], apps: ['live'], streams: ['s0'], tuple: new Int32Array(n), minute: Float64Array.from(minutes), protocol: new Uint8Array(n),
      geo: new Uint8Array(n), sessions: Float64Array.from(minutes, (_, i) => 1 + ((i * 7919) % 20_000)), playMs: new Float64Array(n),
      bytes: new Float64Array(n).fill(100), requests: new Float64Array(n).fill(1),
      hlsTuple: new Int32Array(0), hlsMinute: new Float64Array(0), hlsGeo: new Uint8Array(0), hlsIp: [],
      userTuple: new Int32Array(0), userDay: new Float64Array(0), userIp: [],
    };
    await st.writer.write(batch({ audience: [{ project: 'p1', cells }] }));
    const f = users({ domain, from: D - DAY, to: D + 2 * DAY });
    const want = await usersBySql(f);
    return { f, want, bytes: Buffer.from(renderUsers({ slots: { slotMs: f.slotMs, from: f.from, to: f.to, count: want.length } }, want)), n };
  };

  it('renders a few closed days\' entries per answer at most: the next answers copy those and render a few more, the same bytes', async () => {
    // A node of its own whose answers render one day's entries at 60 s at most (1,440 slots), over three whole days.
    const { primary, names } = st.cached as unknown as { primary: ChConnection; names: SchemaNames };
    const ab = new AudienceBlocks(primary, names, {}, undefined, 1440);
    try {
      const { f, want, bytes, n } = await threeDays('entries.example');
      // Built in the background: asked without parts (no entries made) until every hour comes from the blocks.
      expect(want.filter((v) => v > 0).length).toBe(n);
      expect([...(await untilFromBlocks(ab.stats, async () => ab.usersSlots('p1', f.domain, f.from, f.to, f.slotMs) as Promise<Float64Array>, 'audience blocks'))]).toEqual(want);
      expect(ab.entryStats).toEqual({ made: 0, copied: 0 });
      for (const days of [1, 2, 3, 3]) {
        const parts: UsersPart[] = [];
        const series = await ab.usersSlots('p1', f.domain, f.from, f.to, f.slotMs, undefined, undefined, undefined, parts) as Float64Array;
        expect([...series]).toEqual(want);
        expect(parts.map((p) => p.at), String(days)).toEqual([0, 1440, 2880].slice(0, days));
        expect(ab.entryStats.made, String(days)).toBe(Math.min(days, 3));
        expect(Buffer.from(assembleUsers(f, series, parts, (n) => new ArrayBuffer(n))).equals(bytes), String(days)).toBe(true);
      }
      expect(ab.entryStats).toEqual({ made: 3, copied: 1 + 2 + 3 + 3 });
    } finally {
      ab.close();
    }
  }, 120_000);

  it('makes no closed day\'s entries it cannot keep: past the limit the day\'s slots are rendered with the answer, the same bytes', async () => {
    // A node of its own that keeps one day's entries at 60 s at most (1,440 slots of at most 64 bytes), over three whole days.
    const { primary, names } = st.cached as unknown as { primary: ChConnection; names: SchemaNames };
    const ab = new AudienceBlocks(primary, names, {}, undefined, undefined, 1440 * 64 + 100);
    try {
      const { f, want, bytes } = await threeDays('entries-cap.example');
      expect([...(await untilFromBlocks(ab.stats, async () => ab.usersSlots('p1', f.domain, f.from, f.to, f.slotMs) as Promise<Float64Array>, 'audience blocks'))]).toEqual(want);
      for (let i = 0; i < 3; i++) {
        const parts: UsersPart[] = [];
        const series = await ab.usersSlots('p1', f.domain, f.from, f.to, f.slotMs, undefined, undefined, undefined, parts) as Float64Array;
        expect([...series]).toEqual(want);
        // The first day's entries are kept; the other two would not fit, so they are never made (before: made for every answer).
        expect(parts.map((p) => p.at), String(i)).toEqual([0]);
        expect(ab.entryStats.made, String(i)).toBe(1);
        expect(Buffer.from(assembleUsers(f, series, parts, (k) => new ArrayBuffer(k))).equals(bytes), String(i)).toBe(true);
      }
    } finally {
      ab.close();
    }
  }, 120_000);
});
