// The ClickHouse store's traffic blocks (src/store/clickhouse/traffic-blocks.ts, issue 24): closed hours
// of the traffic cube's per-domain totals kept in memory, checked against their stamps (migration 009).
// Every series from blocks must equal the SQL series of a store without blocks on the same database, at
// every slot length and with edges inside hours, also after a late write into a closed hour by another
// node, while two writers write, and after a retried batch whose first attempt landed without its stamp.
// Closed UTC days are checked by one day stamp per (domain, day) and answered from day blocks, then from
// group blocks (the day blocks of every asked domain added up, while the day's kept stamps stand): exact
// too while another node writes into one hour of such a day. The blocks' bytes live in a worker thread
// (traffic-block-worker.ts), which adds them up and renders the detail bodies: the same bytes as the SQL
// answer's; a worker that dies takes its blocks with it (answers by SQL until they are built again).
import { describe, expect, it } from 'vitest';
import type { IpType } from '../src/contract/traffic/values.js';
import type { Isp, Region } from '../src/contract/values.js';
import type { TrafficFilter, TrafficRow } from '../src/store/traffic.js';
import { batch } from './store-conformance.js';
import { builtStoreUrl, daySums, expectChildReportsAndExits, markUnacknowledged, seededRandom, untilFromBlocks, useBlockStores, withoutStampView } from './helpers/block-stores.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('clickhouse-server');

const SLOT = 300_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Whole days two days ago: three closed days of traffic, from a day boundary. */
const D0 = (Math.floor(Date.now() / DAY) - 4) * DAY;
const DOMAINS = ['a.example.com', 'b.example.com'];
const REGIONS_USED: Region[] = ['GD', 'SH'];
const ISPS_USED: Isp[] = ['CMCC', 'OTHER'];

const st = useBlockStores('traffic_blocks');
const { rnd, pick } = seededRandom(7);

function rows(n: number, from = D0, hours = 72): TrafficRow[] {
  return Array.from({ length: n }, () => ({
    project: 'p1', domain: pick(DOMAINS), app: 'live', stream: pick(['s1', 's2']), protocol: pick(['flv', 'hls', 'other'] as const),
    region: pick(REGIONS_USED), isp: pick(ISPS_USED), ipType: pick(['v4', 'v6'] as IpType[]),
    slot: from + Math.floor(rnd() * hours * 12) * SLOT, requests: 1 + Math.floor(rnd() * 9), bytes: 1 + Math.floor(rnd() * 1e9),
  }));
}

const WINDOWS: Array<[string, Partial<TrafficFilter>]> = [
  ['3 days, 300 s', { slotMs: SLOT, from: D0, to: D0 + 3 * DAY }],
  ['3 days, 3600 s', { slotMs: HOUR, from: D0, to: D0 + 3 * DAY }],
  ['3 days, 1 day', { slotMs: DAY, from: D0, to: D0 + 3 * DAY }],
  ['edges inside hours, 300 s', { slotMs: SLOT, from: D0 + 25 * SLOT, to: D0 + 2 * DAY + 7 * SLOT }],
  ['one domain', { domains: [DOMAINS[0] as string] }],
];
const filter = (more: Partial<TrafficFilter>): TrafficFilter => ({
  project: 'p1', domains: DOMAINS, app: undefined, stream: undefined, protocol: undefined, regions: [], isps: [], ipType: undefined,
  slotMs: HOUR, from: D0, to: D0 + 3 * DAY, ...more,
});

/** Asks the cached store until a series comes from its blocks (built in the background); returns it. */
const fromBlocks = (f: TrafficFilter): Promise<number[]> => untilFromBlocks(st.cached.trafficBlocks?.stats, async () => [...(await st.cached.trafficSeries(f))], 'traffic blocks');

const bySql = async (f: TrafficFilter): Promise<number[]> => [...(await st.sql.trafficSeries(f))];
const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

function trafficBlocks(): NonNullable<typeof st.cached.trafficBlocks> {
  const blocks = st.cached.trafficBlocks;
  if (!blocks) throw new Error('the store has no traffic blocks');
  return blocks;
}

describe('ClickHouse traffic blocks', () => {
  it('answers the totals from blocks exactly as SQL does, also after a late write into a closed hour by another node', async () => {
    await st.cached.write(batch({ traffic: rows(3000) }));
    await st.writer.write(batch({ traffic: rows(3000) }));
    for (const [name, more] of WINDOWS) {
      const f = filter(more);
      expect(await fromBlocks(f), name).toEqual(await bySql(f));
    }
    // A filter other than totals is answered by SQL, as before.
    const gd = filter({ regions: ['GD'] });
    expect([...(await st.cached.trafficSeries(gd))]).toEqual(await bySql(gd));
    const late = rows(20, D0 + 30 * HOUR, 1);
    await st.writer.write(batch({ traffic: late }));
    const f = filter({});
    const expected = await bySql(f);
    const partly = st.cached.trafficBlocks?.stats.partly ?? 0;
    expect([...(await st.cached.trafficSeries(f))]).toEqual(expected);
    expect(st.cached.trafficBlocks?.stats.partly).toBe(partly + 1);
    expect(await fromBlocks(f)).toEqual(expected);
  }, 180_000);

  it('stays exact while two writers write into closed hours and a third node reads', async () => {
    const f = filter({ slotMs: SLOT });
    await fromBlocks(f);
    const writes = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? st.cached : st.writer).write(batch({ traffic: rows(100) })));
    const reads = Array.from({ length: 10 }, () => st.cached.trafficSeries(f));
    await Promise.all([...writes, ...reads]);
    for (const [name, more] of WINDOWS) {
      const g = filter(more);
      const expected = await bySql(g);
      expect([...(await st.cached.trafficSeries(g))], name).toEqual(expected);
      expect(await fromBlocks(g), name).toEqual(expected);
    }
  }, 180_000);

  it('a retry whose first attempt landed without its stamp (the view failed) makes the blocks of its hours stale', async () => {
    const f = filter({});
    await fromBlocks(f);
    const b = batch({ traffic: rows(50) });
    await withoutStampView(st, 16, 'traffic_stamps_from_domains_v2', () => st.writer.write(b));
    markUnacknowledged(st.writer, b.id);
    await st.writer.write(b);
    const expected = await bySql(f);
    expect([...(await st.cached.trafficSeries(f))]).toEqual(expected);
    expect(await fromBlocks(f)).toEqual(expected);
    // The day stamps (015's view ran, 009's did not) differed from their hours' sums, and were set back to them (day-stamps-backfill.ts).
    const { fromHours, days } = await daySums(st.server, st.database, 'traffic_stamps', 'traffic_day_stamps', 'domain');
    expect(days).toBe(fromHours);
  }, 180_000);
  it('a stamp that changes only in the low bits of a tags sum above 2^53 makes a block stale (stamps read as numbers stay exact)', async () => {
    const f = filter({});
    const expected = await bySql(f);
    expect(await fromBlocks(f)).toEqual(expected);
    const hour = D0 / HOUR + 5;
    // A bump row as a retried write adds it: into the project's day stamps (018), the hour stamps and the day stamps (015) alike.
    const stamp = async (tags: string): Promise<void> => {
      await st.server.sql(`INSERT INTO ${st.database}.traffic_project_day_stamps (project, day, rows, tags) VALUES ('p1', ${Math.floor(hour / 24)}, 0, ${tags})`);
      await st.server.sql(`INSERT INTO ${st.database}.traffic_day_stamps (project, domain, day, rows, tags)
        VALUES ('p1', '${DOMAINS[0] as string}', ${Math.floor(hour / 24)}, 0, ${tags})`);
      await st.server.sql(`INSERT INTO ${st.database}.traffic_stamps (project, domain, hour, rows, tags)
        VALUES ('p1', '${DOMAINS[0] as string}', ${hour}, 0, ${tags})`);
    };
    // A tags sum far above 2^53 (a double cannot tell it from the sum + 1), then blocks built on it.
    await stamp('18446744073709551000');
    const stats = st.cached.trafficBlocks?.stats;
    const partly = stats?.partly ?? 0;
    expect([...(await st.cached.trafficSeries(f))]).toEqual(expected);
    expect(stats?.partly).toBe(partly + 1);
    expect(await fromBlocks(f)).toEqual(expected);
    // The sum + 1: that hour's block is stale (read by SQL, counted as partly).
    await stamp('1');
    const before = stats?.partly ?? 0;
    expect([...(await st.cached.trafficSeries(f))]).toEqual(expected);
    expect(stats?.partly).toBe(before + 1);
  }, 180_000);

  it('answers closed days from day blocks (one stamp per domain and day) exactly while another node writes into one hour of a day', async () => {
    const days = st.cached.trafficBlocks?.dayStats;
    const hourNow = Math.floor(Date.now() / HOUR);
    // Yesterday and today's closed hours too: the second window ends in hours read one by one (from the day limit on).
    await st.writer.write(batch({ traffic: rows(500, D0 + 3 * DAY, hourNow - (D0 + 3 * DAY) / HOUR) }));
    const windows = [filter({ slotMs: SLOT }), filter({ slotMs: SLOT, from: D0 + 2 * DAY + 5 * HOUR, to: hourNow * HOUR })];
    for (const f of windows) expect(await fromBlocks(f)).toEqual(await bySql(f));
    const used = days?.used ?? 0;
    for (const f of windows) expect(await fromBlocks(f)).toEqual(await bySql(f));
    // 3 days x 2 domains, then 2 days x 2 domains: whole days from day blocks.
    expect((days?.used ?? 0) - used).toBeGreaterThanOrEqual(10);
    // Asked again with nothing written: each day's blocks of both domains as one group block (their sum, made in the worker).
    // (Once every hour block of those days is built: asked until a group block answers, at most 60 s.) The second
    // window's: the first's days are those the retry above wrote into, whose coarse stamps hold its first attempt's
    // rows while their hour stamps never got them, so they are never kept (coarse-stamps.ts) and never grouped.
    for (const f of windows.slice(1)) {
      const expected = await bySql(f);
      for (const deadline = Date.now() + 60_000; ;) {
        const grouped = days?.grouped ?? 0;
        expect(await fromBlocks(f)).toEqual(expected);
        if ((days?.grouped ?? 0) > grouped) break;
        if (Date.now() > deadline) throw new Error('no answer from group blocks within 60 s');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    // Another node writes into the day before today, answered by a group block until now: its coarse stamp moves, so
    // the next answer reads its fine stamps again and does not take the group: SQL's answer at once.
    const g1 = windows[1] as TrafficFilter;
    await st.writer.write(batch({ traffic: rows(5, D0 + 3 * DAY + 6 * HOUR, 1) }));
    expect([...(await st.cached.trafficSeries(g1))]).toEqual(await bySql(g1));
    const f = windows[0] as TrafficFilter;
    // Hour 6 of the second day, written by another node: acknowledged before the read arrives, so in its answer at once.
    const hour = D0 + 30 * HOUR;
    for (let i = 0; i < 3; i++) {
      await st.writer.write(batch({ traffic: rows(5, hour, 1) }));
      const expected = await bySql(f);
      expect([...(await st.cached.trafficSeries(f))]).toEqual(expected);
      expect(await fromBlocks(f)).toEqual(expected);
    }
    // Reads while the other node writes into that hour; then the answers, from blocks again, are SQL's.
    const writes = Array.from({ length: 6 }, () => st.writer.write(batch({ traffic: rows(5, hour, 1) })));
    const reads = Array.from({ length: 6 }, () => st.cached.trafficSeries(f));
    await Promise.all([...writes, ...reads]);
    for (const g of windows) {
      const expected = await bySql(g);
      expect([...(await st.cached.trafficSeries(g))]).toEqual(expected);
      expect(await fromBlocks(g)).toEqual(expected);
    }
  }, 180_000);

  it('renders the traffic and bandwidth detail bodies in the worker: the bytes of the SQL answer; a sent body buffer goes back to the worker', async () => {
    const blocks = trafficBlocks();
    for (const kind of ['traffic', 'bandwidth'] as const) {
      for (const [name, more] of WINDOWS) {
        const f = filter(more);
        const want = text(await st.sql.trafficDetailBody(f, kind));
        const answers = blocks.workerAnswers;
        const body = await untilFromBlocks(blocks.stats, () => st.cached.trafficDetailBody(f, kind), 'traffic blocks');
        expect(text(body), `${kind}, ${name}`).toBe(want);
        expect(blocks.workerAnswers, `${kind}, ${name}: rendered by the worker`).toBeGreaterThan(answers);
      }
    }
    const f = filter({ slotMs: SLOT });
    const want = text(await st.sql.trafficDetailBody(f, 'bandwidth'));
    const body = await untilFromBlocks(blocks.stats, () => st.cached.trafficDetailBody(f, 'bandwidth'), 'traffic blocks');
    // Sent: its buffer is moved (the view is detached) and goes to the worker with the next answer, rendered into again.
    st.cached.releaseBody(body);
    expect(body.byteLength).toBe(0);
    expect(blocks.spareCount).toBe(1);
    const again = await untilFromBlocks(blocks.stats, () => st.cached.trafficDetailBody(f, 'bandwidth'), 'traffic blocks');
    expect(blocks.spareCount).toBe(0);
    expect(text(again)).toBe(want);
    // A body the worker did not render (by SQL) is left alone.
    const other = await st.sql.trafficDetailBody(f, 'bandwidth');
    st.cached.releaseBody(other);
    expect(other.byteLength).toBeGreaterThan(0);
    expect(blocks.spareCount).toBe(0);
  }, 180_000);

  it('a worker that dies takes every block with it: answers by SQL meanwhile, then from blocks built again in a new worker', async () => {
    const blocks = trafficBlocks();
    const f = filter({ slotMs: SLOT });
    const want = await bySql(f);
    expect(await fromBlocks(f)).toEqual(want);
    await blocks.stopWorker();
    const deadline = Date.now() + 60_000;
    while (blocks.workerRunning && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(blocks.workerRunning).toBe(false);
    // No block is left: the next answer is the SQL answer (and starts the builds, in a new worker).
    const sqlAnswers = blocks.stats.bySql;
    expect([...(await st.cached.trafficSeries(f))]).toEqual(want);
    expect(blocks.stats.bySql).toBe(sqlAnswers + 1);
    expect(await fromBlocks(f)).toEqual(want);
    expect(blocks.workerRunning).toBe(true);
    const body = await untilFromBlocks(blocks.stats, () => st.cached.trafficDetailBody(f, 'traffic'), 'traffic blocks');
    expect(text(body)).toBe(text(await st.sql.trafficDetailBody(f, 'traffic')));
  }, 180_000);

  // The worker is ref'd only while an answer is awaited from it: a node whose answers came from the
  // worker, its store left open, must still exit by itself; and it must not exit while its only pending
  // work is an answer awaited from the worker (code 13), which a worker unref'd then would let happen.
  it('a running traffic-block worker does not keep its process alive, nor lets it exit mid-answer', async () => {
    await expectChildReportsAndExits(`console.log('started');
      const { ClickHouseStore } = await import(${JSON.stringify(builtStoreUrl)});
      console.log('imported');
      const node = new ClickHouseStore({ url: ${JSON.stringify(st.server.url(st.database))} });
      await node.init();
      const f = ${JSON.stringify(filter({ slotMs: SLOT }))};
      const deadline = Date.now() + 60_000;
      let queries = 0;
      while (node.trafficBlocks.workerAnswers < 3 && Date.now() < deadline) {
        await node.trafficDetailBody(f, 'bandwidth');
        queries++;
        await new Promise((r) => setTimeout(r, 50));
      }
      console.log('after', queries, 'queries:', JSON.stringify(node.trafficBlocks.stats));
      console.log('built', node.trafficBlocks.workerAnswers);`);
  }, 300_000);
});
