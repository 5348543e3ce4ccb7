// The users series' stamps read (src/store/clickhouse/day-stamps.ts readDayStampGrid, stamp-rows.ts; issue 24) on a
// real clickhouse-server: the stored columns only (no GROUP BY, no function computed by the server), each stamp row
// as stored, added up in node. Its grid must be the one ClickHouse's own sums give (sum(rows), sum(tags) mod 2^64
// in halves, GROUP BY (project, domain, day or hour): the read before) while the stamp tables' rows are not merged
// (merges stopped: every insert a part of its own), with tags whose sums wrap past 2^64, a repair's row taking rows
// back (stored as 2^64 - k), names TabSeparated escapes, and for the reads of one (project, domain) (no names sent)
// and of several (names sent).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChEndpoint } from '../src/store/clickhouse/client.js';
import { readDayStampGrid, type DayStampGrid } from '../src/store/clickhouse/day-stamps.js';
import { quote } from '../src/store/clickhouse/sql.js';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import { parseClickHouseUrls, type Endpoint } from '../src/store/clickhouse/url.js';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { seededRandom } from './helpers/block-stores.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('clickhouse-server');

const U64 = 1n << 64n;
const DAY0 = 20_000;
const PROJECTS = ['p1', 'p\t2'];
const DOMAINS = ['a.example', 'b\\c.example', "c'd.example"];

let server: ClickHouseServer;
beforeAll(async () => {
  server = await startClickHouse();
});
afterAll(async () => {
  await server?.destroy();
});

const { rnd, pick } = seededRandom(24);
/** A random UInt64 (two random 32-bit halves), some near 2^64 so the sums wrap. */
const u64 = (): bigint => (rnd() < 0.3 ? U64 - 1n - BigInt(Math.floor(rnd() * 1000)) : (BigInt(Math.floor(rnd() * 2 ** 32)) << 32n) + BigInt(Math.floor(rnd() * 2 ** 32)));

/** The grid of the read before (ClickHouse's sum() by cell), in the cells of `g`. */
async function bySum(sql: (q: string) => Promise<string>, db: string, g: DayStampGrid, projects: string[], domains: string[]): Promise<object> {
  const size = g.rows.length;
  const want = { rows: new Array<number>(size).fill(0), hi: new Array<number>(size).fill(0), lo: new Array<number>(size).fill(0) };
  const owners = `project IN (${projects.map((p) => quote(p)).join(', ')}) AND domain IN (${domains.map((d) => quote(d)).join(', ')})`;
  const sums = 'toString(sum(rows)), intDiv(sum(tags), 4294967296), sum(tags) % 4294967296';
  const text = await sql(`SELECT project, domain, day - ${g.dayFrom / 24} AS u, ${sums} FROM ${db}.audience_day_stamps
      WHERE ${owners} AND day >= ${g.dayFrom / 24} AND day < ${g.hourFrom / 24} GROUP BY project, domain, u FORMAT JSONCompact`)
    + await sql(`SELECT project, domain, ${g.days} + hour - ${g.hourFrom} AS u, ${sums} FROM ${db}.audience_stamps
      WHERE ${owners} AND hour >= ${g.hourFrom} AND hour < ${g.hourFrom + g.hours - g.days} GROUP BY project, domain, u FORMAT JSONCompact`);
  for (const part of text.split(/\n(?=\{)/)) {
    for (const [p, d, u, rows, hi, lo] of (JSON.parse(part) as { data: Array<[string, string, number, string, string, string]> }).data) {
      const cell = ((g.projects.get(p) as number) * g.domains.size + (g.domains.get(d) as number)) * g.hours + Number(u);
      want.rows[cell] = Number(rows);
      want.hi[cell] = Number(hi);
      want.lo[cell] = Number(lo);
    }
  }
  return want;
}

describe('the day stamp grid read raw', () => {
  it('gives ClickHouse\'s sums over rows not merged: tags wrapping past 2^64, a repair\'s row taking rows back, names escaped, one (project, domain) or several', async () => {
    const db = 'day_stamp_grid';
    const store = new ClickHouseStore({ url: server.url(db), hourBlocks: false });
    await store.init();
    const endpoint = new ChEndpoint(parseClickHouseUrls(server.url(db)).endpoints[0] as Endpoint);
    try {
      for (const t of ['audience_day_stamps', 'audience_stamps']) await server.sql(`SYSTEM STOP MERGES ${db}.${t}`);
      const rowsSoFar = new Map<string, bigint>();
      /** The tags inserted into each day cell, added up without wrapping. */
      const tagsSoFar = new Map<string, bigint>();
      // 12 inserts of day stamps (days DAY0..DAY0+3) and hour stamps (the hours of DAY0+4), each a part of its own.
      for (let k = 0; k < 12; k++) {
        const days: string[] = [];
        const hours: string[] = [];
        for (let i = 0; i < 20; i++) {
          const p = pick(PROJECTS);
          const d = pick(DOMAINS);
          const day = DAY0 + Math.floor(rnd() * 4);
          const key = `${p}/${d}/${day}`;
          const before = rowsSoFar.get(key) ?? 0n;
          // Rows: what an insert adds, or a repair's row taking some back (2^64 - k, as repairDayStamps' bitNot(x) + 1).
          const rows = before > 0n && rnd() < 0.25 ? U64 - (BigInt(Math.floor(rnd() * Number(before))) + 1n) : BigInt(1 + Math.floor(rnd() * 500));
          rowsSoFar.set(key, (before + rows) % U64);
          const tags = u64();
          tagsSoFar.set(key, (tagsSoFar.get(key) ?? 0n) + tags);
          days.push(`(${quote(p)}, ${quote(d)}, ${day}, ${rows.toString()}, ${tags.toString()}, 0, 0)`);
          hours.push(`(${quote(p)}, ${quote(d)}, ${(DAY0 + 4) * 24 + Math.floor(rnd() * 20)}, ${1 + Math.floor(rnd() * 500)}, ${u64().toString()})`);
        }
        await server.sql(`INSERT INTO ${db}.audience_day_stamps (project, domain, day, rows, tags, user_rows, user_tags) VALUES ${days.join(', ')}`);
        await server.sql(`INSERT INTO ${db}.audience_stamps (project, domain, hour, rows, tags) VALUES ${hours.join(', ')}`);
      }
      // The rows of a cell are in several parts: the read adds them up itself.
      expect(Number(await server.sql(`SELECT count() FROM system.parts WHERE database = '${db}' AND table = 'audience_day_stamps' AND active`))).toBeGreaterThan(10);
      // A repair's row is there, not merged: the grid's rows are right only when it is taken back mod 2^64.
      expect(Number(await server.sql(`SELECT count() FROM ${db}.audience_day_stamps WHERE rows > 1000000`))).toBeGreaterThan(0);
      // And the tags of some cells add up past 2^64 (2^65 even: wrapped more than once).
      expect([...tagsSoFar.values()].some((t) => t >= 2n * U64)).toBe(true);
      const dayLimit = (DAY0 + 4) * 24;
      const from = DAY0 * 24 + 5;
      const to = dayLimit + 20;
      const read = (projects: string[], domains: string[]): Promise<DayStampGrid> =>
        readDayStampGrid(endpoint, `${db}.audience_stamps`, `${db}.audience_day_stamps`, projects, domains, from, to, dayLimit);
      const cells = (g: DayStampGrid): object => ({ rows: [...g.rows], hi: [...g.tagsHi], lo: [...g.tagsLo] });
      const sql = (q: string): Promise<string> => server.sql(q);
      for (const [projects, domains] of [[PROJECTS, DOMAINS], [['p\t2'], DOMAINS], [['p1'], ["c'd.example"]], [PROJECTS, ['b\\c.example']]] as Array<[string[], string[]]>) {
        const g = await read(projects, domains);
        expect([g.days, g.hours]).toEqual([4, 24]);
        expect(cells(g), JSON.stringify([projects, domains])).toEqual(await bySum(sql, db, g, projects, domains));
        expect(g.rows.some((r) => r > 0)).toBe(true);
      }
    } finally {
      await store.close();
      await endpoint.close();
    }
  }, 120_000);
});
