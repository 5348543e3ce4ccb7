// The ClickHouse store's hour blocks (src/store/clickhouse/hour-blocks.ts, issue 24): closed hours of
// the request counts kept in memory, checked against their stamps. Every answer from blocks must equal
// the SQL answer of a store without blocks on the same database, also after late writes into a closed
// hour and while two writers (two stores, as two nodes) write at once.
import { describe, expect, it } from 'vitest';
import type { Isp, Region } from '../src/contract/values.js';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import type { CountRow, HttpCodesFilter } from '../src/store/types.js';
import { batch } from './store-conformance.js';
import { builtStoreUrl, expectChildReportsAndExits, markUnacknowledged, hourBlockWorkerUrl, requireBuiltHourBlockWorker, seededRandom, untilFromBlocks, useBlockStores, withoutStampView } from './helpers/block-stores.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('clickhouse-server');

const MIN = 60_000;
const HOUR = 3_600_000;
const workerUrl = hourBlockWorkerUrl;
/** Three closed hours, two days ago. */
const H0 = (Math.floor(Date.now() / HOUR) - 48) * HOUR;
const REGIONS_USED: Region[] = ['GD', 'SH', 'BJ'];
const ISPS_USED: Isp[] = ['CMCC', 'CTCC', 'OTHER'];
const CODES = [200, 404, 502];
const DOMAINS = ['a.example.com', 'b.example.com'];

requireBuiltHourBlockWorker();
const st = useBlockStores('hour_blocks', { workerUrl });
const { rnd, pick } = seededRandom(1);

function cells(n: number, fromHour = H0, hours = 3): CountRow[] {
  return Array.from({ length: n }, () => ({
    project: 'p1', domain: pick(DOMAINS), minute: fromHour + Math.floor(rnd() * hours * 60) * MIN,
    region: pick(REGIONS_USED), isp: pick(ISPS_USED), code: pick(CODES), count: 1 + Math.floor(rnd() * 50), bytes: 1000,
  }));
}

const FILTERS: Array<[string, Partial<HttpCodesFilter>]> = [
  ['no filter', {}],
  ['region GD', { regions: ['GD'] }],
  ['isp CMCC', { isps: ['CMCC'] }],
  ['region GD,SH + isp CMCC', { regions: ['GD', 'SH'], isps: ['CMCC'] }],
  ['a region with no rows', { regions: ['TW'] }],
  ['edges inside hours', { fromMinute: H0 + 17 * MIN, toMinute: H0 + 2 * HOUR + 41 * MIN }],
];
const filter = (more: Partial<HttpCodesFilter>): HttpCodesFilter => ({
  project: 'p1', domains: DOMAINS, regions: [], isps: [], fromMinute: H0, toMinute: H0 + 3 * HOUR, ...more,
});

/** Queries the cached store until an answer comes from its blocks (they are built in the background); returns it. */
const fromBlocks = (f: HttpCodesFilter): Promise<Awaited<ReturnType<ClickHouseStore['queryHttpCodes']>>> => untilFromBlocks(st.cached.hourBlocks?.stats, () => st.cached.queryHttpCodes(f), 'hour blocks');

describe('ClickHouse hour blocks', () => {
  it('answers every level from blocks exactly as SQL does, also after late writes into a closed hour', async () => {
    await st.cached.write(batch({ counts: cells(3000) }));
    await st.writer.write(batch({ counts: cells(3000) }));
    for (const [name, more] of FILTERS) {
      const f = filter(more);
      expect(await fromBlocks(f), name).toEqual(await st.sql.queryHttpCodes(f));
    }
    // A late write into a closed hour by the other node: the next answer includes it (that hour by SQL,
    // its stamp changed), and so does the answer from the rebuilt blocks.
    const late = cells(50, H0 + HOUR, 1);
    await st.writer.write(batch({ counts: late }));
    const f = filter({});
    const expected = await st.sql.queryHttpCodes(f);
    const added = late.reduce((n, c) => n + c.count, 0);
    const total = (rows: Array<{ count: number }>): number => rows.reduce((n, c) => n + c.count, 0);
    // The stale hour by SQL, the other two from their blocks.
    const partly = st.cached.hourBlocks?.stats.partly ?? 0;
    const got = await st.cached.queryHttpCodes(f);
    expect(st.cached.hourBlocks?.stats.partly).toBe(partly + 1);
    expect(got).toEqual(expected);
    expect(total(got)).toBeGreaterThanOrEqual(added);
    expect(await fromBlocks(f)).toEqual(expected);
  }, 180_000);

  it('renders the answer from blocks in the worker: the same bytes as the SQL answer, and concurrent answers share one stamps read', async () => {
    const stats = st.cached.hourBlocks?.stampStats;
    if (!stats) throw new Error('the store has no hour blocks');
    for (const [name, more] of FILTERS) {
      const f = filter(more);
      await fromBlocks(f);
      for (const codes of [[], [200, 404], [301]]) {
        const before = st.cached.hourBlocks?.stats.fromBlocks ?? 0;
        const got = Buffer.from(await st.cached.httpCodesBody(f, codes)).toString();
        expect(st.cached.hourBlocks?.stats.fromBlocks, name).toBe(before + 1);
        expect(got, `${name}, codes ${codes.join(',')}`).toBe(Buffer.from(await st.sql.httpCodesBody(f, codes)).toString());
      }
    }
    // Ten answers asked at once: one stamps read (none is in flight now: the reads above were awaited).
    const f = filter({ isps: ['CMCC'] });
    const expected = Buffer.from(await st.sql.httpCodesBody(f, [])).toString();
    const reads = stats.reads;
    const bodies = await Promise.all(Array.from({ length: 10 }, () => st.cached.httpCodesBody(f, [])));
    expect(stats.reads).toBe(reads + 1);
    for (const b of bodies) expect(Buffer.from(b).toString()).toBe(expected);
  }, 180_000);

  it('a sent answer\'s buffer goes back to a worker, which renders the next answer into it: the same bytes', async () => {
    const blocks = st.cached.hourBlocks;
    if (!blocks) throw new Error('the store has no hour blocks');
    const f = filter({});
    await fromBlocks(f);
    const sqlBody = await st.sql.httpCodesBody(f, []);
    const expected = Buffer.from(sqlBody).toString();
    const first = await st.cached.httpCodesBody(f, []);
    expect(Buffer.from(first).toString()).toBe(expected);
    const size = first.buffer.byteLength;
    const spares = blocks.spareCount;
    st.cached.releaseBody(first);
    // Moved, not copied: the sent view is detached at once, and the buffer waits for the next answer.
    expect(first.buffer.byteLength).toBe(0);
    expect(blocks.spareCount).toBe(spares + 1);
    // A buffer given twice, or a body the blocks did not render, is left alone.
    st.cached.releaseBody(first);
    st.cached.releaseBody(sqlBody);
    expect(sqlBody.byteLength).toBeGreaterThan(0);
    expect(blocks.spareCount).toBe(spares + 1);
    // The next answer (two codes: a smaller buffer of its own) is rendered into the given one.
    const expectedTwo = Buffer.from(await st.sql.httpCodesBody(f, [200, 404])).toString();
    const before = blocks.stats.fromBlocks;
    const second = await st.cached.httpCodesBody(f, [200, 404]);
    expect(blocks.stats.fromBlocks).toBe(before + 1);
    expect(blocks.spareCount).toBe(spares);
    expect(second.buffer.byteLength).toBe(size);
    expect(Buffer.from(second).toString()).toBe(expectedTwo);
  }, 180_000);

  it('stays exact while two writers write into closed hours and a third node reads', async () => {
    const f = filter({ regions: ['GD', 'SH'], isps: ['CMCC'] });
    await fromBlocks(f);
    const writes = Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? st.cached : st.writer).write(batch({ counts: cells(200) })));
    const reads: Promise<unknown>[] = [];
    for (let i = 0; i < 12; i++) reads.push(st.cached.queryHttpCodes(filter({ isps: ['CMCC'] })));
    await Promise.all([...writes, ...reads]);
    for (const [name, more] of FILTERS) {
      const g = filter(more);
      const expected = await st.sql.queryHttpCodes(g);
      expect(await st.cached.queryHttpCodes(g), name).toEqual(expected);
      expect(await fromBlocks(g), name).toEqual(expected);
    }
  }, 180_000);

  it('a retry whose first attempt landed without its stamp (the view failed) makes the blocks of its hours stale', async () => {
    const f = filter({});
    await fromBlocks(f);
    // The stamp view "fails": it is gone while the first attempt lands in the detail tables.
    const b = batch({ counts: cells(100) });
    await withoutStampView(st, 16, 'http_counts_stamps_from_bytes_v2', () => st.writer.write(b));
    // Unacknowledged as far as the writer knows (say its answer was lost): retried, the markers show it landed.
    markUnacknowledged(st.writer, b.id);
    await st.writer.write(b);
    const expected = await st.sql.queryHttpCodes(f);
    expect(await st.cached.queryHttpCodes(f)).toEqual(expected);
    expect(await fromBlocks(f)).toEqual(expected);
  }, 180_000);

  // The worker must never keep a process alive by itself: a build under way when the store closed
  // started a new worker after close(), unref'd before its 'message' listener (which refs its port
  // again), and `livestats serve` logged "stopped cleanly" and never exited. Here a node's blocks are
  // built (its worker runs) and the store is left open, in a process of its own: it must still end.
  it('a running hour-block worker does not keep its process alive', async () => {
    await st.writer.write(batch({ counts: cells(300) }));
    await expectChildReportsAndExits(`console.log('started');
      const { ClickHouseStore } = await import(${JSON.stringify(builtStoreUrl)});
      console.log('imported');
      const node = new ClickHouseStore({ url: ${JSON.stringify(st.server.url(st.database))}, hourBlocks: { workerUrl: new URL(${JSON.stringify(workerUrl.href)}) } });
      const t0 = Date.now();
      await node.init();
      console.log('init', Date.now() - t0, 'ms');
      const f = ${JSON.stringify(filter({}))};
      const deadline = Date.now() + 60_000;
      let queries = 0;
      while (node.hourBlocks.stats.built === 0 && Date.now() < deadline) {
        await node.queryHttpCodes(f);
        queries++;
        await new Promise((r) => setTimeout(r, 50));
      }
      console.log('after', queries, 'queries,', Date.now() - t0, 'ms:', JSON.stringify(node.hourBlocks.stats));
      console.log('built', node.hourBlocks.stats.built);`);
  }, 300_000);
});
