// The ClickHouse store's portraits of closed days (src/store/clickhouse/portrait-days.ts, issue 24): a whole
// domain's portrait of a closed UTC day kept in the node's memory and checked by one read of the audience day
// stamps (migration 017: all four columns). Every such portrait must equal the SQL answer of a store without blocks on the same
// database: once kept, after another node's late write into the day (into each table a portrait reads), while
// two nodes write and a third reads, and after retried writes whose first attempts changed no stamp at all
// (the retry's bump rows must reach the day stamps: ClickHouseAudience.bumpStamps inserts them there too).
import { describe, expect, it } from 'vitest';
import type { AudienceCells, PortraitDay, PortraitFilter } from '../src/store/audience.js';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import type { WriteBatch } from '../src/store/types.js';
import { D, DOMAIN, drained, randomSessions, STREAMS } from './helpers/audience-naive.js';
import { markUnacknowledged, schemaBefore, seededRandom, untilFromBlocks, useBlockStores, withoutStampView } from './helpers/block-stores.js';
import { requireTools } from './helpers/system-tools.js';
import { batch } from './store-conformance.js';

requireTools('clickhouse-server');

const M = 60_000;
const H = 3_600_000;
const DAY = 24 * H;
const OTHER = 'other.example.com';

const st = useBlockStores('portrait_days');
const { rnd } = seededRandom(24);
let seed = 100;

/** FLV/RTMP sessions (opens and closes) on DOMAIN around day D (test/helpers/audience-naive.ts). */
const sessions = (n: number): WriteBatch => batch({ audience: [{ project: 'p1', cells: drained(randomSessions(n, ++seed)) }] });

/**
 * `n` plays on DOMAIN's streams and OTHER in minutes of [from, from + hours): counted viewers and bytes (the
 * cells), HLS viewers, and the day's users; `parts` keeps only some of the three.
 */
function plays(n: number, from = D, hours = 30, parts: { cells?: boolean; hls?: boolean; users?: boolean } = { cells: true, hls: true, users: true }): WriteBatch {
  const tuples: Array<[string, string, string]> = [...STREAMS.map((s): [string, string, string] => [DOMAIN, 'live', s]), [OTHER, 'live', 's0']];
  const c = { tuple: [] as number[], minute: [] as number[], protocol: [] as number[], geo: [] as number[], sessions: [] as number[], bytes: [] as number[], requests: [] as number[] };
  const v = { tuple: [] as number[], minute: [] as number[], geo: [] as number[], ip: [] as string[] };
  const u = { tuple: [] as number[], day: [] as number[], ip: [] as string[] };
  for (let i = 0; i < n; i++) {
    const t = Math.floor(rnd() * tuples.length);
    const minute = from + Math.floor(rnd() * hours * 60) * M;
    const ip = `10.${seed % 200}.${Math.floor(rnd() * 4)}.${Math.floor(rnd() * 50)}`;
    if (parts.cells) {
      c.tuple.push(t); c.minute.push(minute); c.protocol.push(1); c.geo.push(Math.floor(rnd() * 3) * 5);
      c.sessions.push(0); c.bytes.push(1 + Math.floor(rnd() * 1e6)); c.requests.push(1 + Math.floor(rnd() * 3));
    }
    if (parts.hls) {
      v.tuple.push(t); v.minute.push(minute); v.geo.push(0); v.ip.push(ip);
    }
    if (parts.users) {
      u.tuple.push(t); u.day.push(Math.floor(minute / DAY) * DAY); u.ip.push(ip);
    }
  }
  seed++;
  const cells: AudienceCells = {
    domains: tuples.map((x) => x[0]), apps: tuples.map((x) => x[1]), streams: tuples.map((x) => x[2]),
    tuple: Int32Array.from(c.tuple), minute: Float64Array.from(c.minute), protocol: Uint8Array.from(c.protocol), geo: Uint8Array.from(c.geo),
    sessions: Float64Array.from(c.sessions), playMs: new Float64Array(c.tuple.length), bytes: Float64Array.from(c.bytes), requests: Float64Array.from(c.requests),
    hlsTuple: Int32Array.from(v.tuple), hlsMinute: Float64Array.from(v.minute), hlsGeo: Uint8Array.from(v.geo), hlsIp: v.ip,
    userTuple: Int32Array.from(u.tuple), userDay: Float64Array.from(u.day), userIp: u.ip,
  };
  return batch({ audience: [{ project: 'p1', cells }] });
}

const portrait = (day: number, domain = DOMAIN): PortraitFilter => ({ project: 'p1', domain, stream: undefined, day });
const PORTRAITS: PortraitFilter[] = [D - DAY, D, D + DAY].flatMap((day) => [DOMAIN, OTHER].map((domain) => portrait(day, domain)));
const days = (): { fromBlocks: number; bySql: number } => {
  const s = st.cached.portraitDays?.stats;
  if (!s) throw new Error('the cached store keeps no portraits of days');
  return s;
};
/** Asks the cached store until the portrait comes from its memory of the day; returns it. */
const kept = (f: PortraitFilter): Promise<PortraitDay> => untilFromBlocks(days(), () => st.cached.streamPortrait(f), 'portrait days');

/** Every portrait, from the node's memory of its day, equal to SQL. */
async function expectKeptSameAsSql(): Promise<void> {
  for (const f of PORTRAITS) expect(await kept(f), JSON.stringify(f)).toEqual(await st.sql.streamPortrait(f));
}

/** After `write` (by another node), the next portrait of day D is made again (not from memory) and equals SQL, which it changed. */
async function expectRecomputedAfter(write: () => Promise<void>): Promise<void> {
  const f = portrait(D);
  const old = await kept(f);
  await write();
  const want = await st.sql.streamPortrait(f);
  expect(want).not.toEqual(old);
  const fromMemory = days().fromBlocks;
  expect(await st.cached.streamPortrait(f)).toEqual(want);
  expect(days().fromBlocks).toBe(fromMemory);
  expect(await kept(f)).toEqual(want);
}

describe('ClickHouse portraits of closed days', () => {
  it('keeps a whole domain\'s portrait of a closed day, equal to SQL, and makes it again after another node writes into the day, whatever it writes', async () => {
    await st.cached.write(sessions(300));
    await st.writer.write(plays(800));
    await st.cached.write(plays(800));
    await expectKeptSameAsSql();
    // A stream's portrait is never kept: by the blocks and SQL, as before.
    const s1 = { ...portrait(D), stream: 's1' };
    const asked = days().fromBlocks + days().bySql;
    expect(await st.cached.streamPortrait(s1)).toEqual(await st.sql.streamPortrait(s1));
    expect(days().fromBlocks + days().bySql).toBe(asked);
    // Late writes into the closed day D by another node, one table at a time.
    await expectRecomputedAfter(() => st.writer.write(plays(40, D + 5 * H, 1, { cells: true })));
    await expectRecomputedAfter(() => st.writer.write(plays(40, D + 6 * H, 1, { hls: true })));
    await expectRecomputedAfter(() => st.writer.write(plays(40, D + 7 * H, 1, { users: true })));
    await expectRecomputedAfter(() => st.writer.write(sessions(60)));
    await expectKeptSameAsSql();
  }, 240_000);

  it('stays exact while two nodes write into closed days and a third reads', async () => {
    await expectKeptSameAsSql();
    const writes = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? st.cached : st.writer).write(i % 3 === 0 ? sessions(40) : plays(100)));
    const reads = Array.from({ length: 20 }, (_, i) => st.cached.streamPortrait(PORTRAITS[i % PORTRAITS.length] as PortraitFilter));
    await Promise.all([...writes, ...reads]);
    await expectKeptSameAsSql();
  }, 240_000);

  it('a retry whose first attempt changed no stamp at all makes the day\'s portrait stale: its bump rows reach the day stamps', async () => {
    // Counted viewers and bytes: the first attempt lands with neither the hour view (014) nor the day view (017) of audience_cells.
    await expectRecomputedAfter(async () => {
      const b = plays(60, D + 9 * H, 1, { cells: true });
      await withoutStampView(st, 14, 'audience_stamps_from_cells', () =>
        withoutStampView(st, 17, 'audience_day_stamps_from_cells', () => st.writer.write(b)));
      markUnacknowledged(st.writer, b.id);
      await st.writer.write(b);
    });
    // New users of day D, both attempts without the users views (as when a replicated table deduplicates the retry, views included).
    await expectRecomputedAfter(async () => {
      const b = plays(30, D + 10 * H, 1, { users: true });
      await withoutStampView(st, 14, 'audience_users_stamps_from_users', () =>
        withoutStampView(st, 17, 'audience_day_stamps_from_users', async () => {
          await st.writer.write(b);
          markUnacknowledged(st.writer, b.id);
          await st.writer.write(b);
        }));
    });
    await expectKeptSameAsSql();
  }, 240_000);

  it('a database written before migration 017 gets a day stamp for each older day (its hours\' sum and its users stamp), and its portraits are kept exactly after it', async () => {
    const db = 'portrait_days_upgrade';
    await schemaBefore(st.server, db, 17);
    // Its audience, as an earlier build wrote it: cells (014's view stamps their hours) and users (their day stamps) of two days.
    for (const day of [D, D + DAY]) {
      const m0 = day / M;
      await st.server.sql(`INSERT INTO ${db}.audience_cells (project, domain, minute, app, stream, protocol, region, isp, batch, viewers, bytes, requests, play_ms, markers) VALUES `
        + Array.from({ length: 50 }, (_, i) => `('p1', '${DOMAIN}', ${m0 + i * 7}, 'live', 's1', 'flv', 'GD', 'CTCC', '', ${1 + (i % 3)}, ${1000 * (i + 1)}, 2, 60000, 0)`).join(', '));
      await st.server.sql(`INSERT INTO ${db}.audience_users (project, domain, day, stream, ip) VALUES `
        + Array.from({ length: 20 }, (_, i) => `('p1', '${DOMAIN}', ${day / DAY}, 's1', '10.1.0.${i}')`).join(', '));
    }
    const cached = new ClickHouseStore({ url: st.server.url(db) });
    const sql = new ClickHouseStore({ url: st.server.url(db), hourBlocks: false });
    try {
      await cached.init();
      await sql.init();
      // The backfill: each day's (rows, tags) from its hour stamps (50 rows), its (user_rows, user_tags) its users stamp (20 rows).
      const csv = (q: string): Promise<string> => st.server.sql(`${q} FORMAT CSV`);
      expect((await csv(`SELECT day, sum(rows), sum(user_rows) FROM ${db}.audience_day_stamps GROUP BY day ORDER BY day`)).trim())
        .toBe(`${D / DAY},50,20\n${D / DAY + 1},50,20`);
      expect(await csv(`SELECT day, sum(user_rows), sum(user_tags) FROM ${db}.audience_day_stamps GROUP BY day ORDER BY day`))
        .toBe(await csv(`SELECT hour, sum(rows), sum(tags) FROM ${db}.audience_users_stamps GROUP BY hour ORDER BY hour`));
      for (const day of [D, D + DAY]) {
        const want = await sql.streamPortrait(portrait(day));
        expect(want.users).toBe(20);
        expect(await untilFromBlocks(cached.portraitDays?.stats, () => cached.streamPortrait(portrait(day)), 'portrait days')).toEqual(want);
      }
      // A write after the upgrade (017's views) makes day D's portrait again.
      const old = await cached.streamPortrait(portrait(D));
      await sql.write(plays(30, D + 3 * H, 1));
      const want = await sql.streamPortrait(portrait(D));
      expect(want).not.toEqual(old);
      expect(await cached.streamPortrait(portrait(D))).toEqual(want);
    } finally {
      await cached.close();
      await sql.close();
    }
  }, 240_000);
});
