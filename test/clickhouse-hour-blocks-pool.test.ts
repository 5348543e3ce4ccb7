// The pool of hour-block workers (src/store/clickhouse/hour-blocks.ts, hour-block-worker.ts; issue 24):
// one worker builds a block into shared memory and the others adopt it, so concurrent answers are summed
// and rendered by several threads. Every answer, whichever worker gave it, must equal the SQL answer of a
// store without blocks, also after another node's late writes into closed hours (rebuilt blocks adopted).
import { describe, expect, it } from 'vitest';
import type { Isp, Region } from '../src/contract/values.js';
import type { CountRow, HttpCodesFilter } from '../src/store/types.js';
import { batch } from './store-conformance.js';
import { hourBlockWorkerUrl, requireBuiltHourBlockWorker, seededRandom, untilFromBlocks, useBlockStores } from './helpers/block-stores.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('clickhouse-server');

const MIN = 60_000;
const HOUR = 3_600_000;
const workerUrl = hourBlockWorkerUrl;
/** Three closed hours, two days ago. */
const H0 = (Math.floor(Date.now() / HOUR) - 48) * HOUR;
const REGIONS_USED: Region[] = ['GD', 'SH', 'BJ'];
const ISPS_USED: Isp[] = ['CMCC', 'CTCC'];
const DOMAINS = ['a.example.com', 'b.example.com'];

requireBuiltHourBlockWorker();
const st = useBlockStores('hour_blocks_pool', { workerUrl, workers: 2 });
const { rnd, pick } = seededRandom(5);

function cells(n: number, fromHour = H0, hours = 3): CountRow[] {
  return Array.from({ length: n }, () => ({
    project: 'p1', domain: pick(DOMAINS), minute: fromHour + Math.floor(rnd() * hours * 60) * MIN,
    region: pick(REGIONS_USED), isp: pick(ISPS_USED), code: pick([200, 404, 502]), count: 1 + Math.floor(rnd() * 50), bytes: 1000,
  }));
}

const filter = (more: Partial<HttpCodesFilter> = {}): HttpCodesFilter => ({
  project: 'p1', domains: DOMAINS, regions: ['GD', 'SH'], isps: ['CMCC'], fromMinute: H0, toMinute: H0 + 3 * HOUR, ...more,
});
const text = (b: Uint8Array): string => Buffer.from(b).toString();

/** Ten answers asked at once (one stamps read, so all are sent to the workers together): each must equal SQL's. */
async function tenAtOnce(f: HttpCodesFilter, codes: number[]): Promise<void> {
  const expected = text(await st.sql.httpCodesBody(f, codes));
  const blocks = st.cached.hourBlocks;
  if (!blocks) throw new Error('the store has no hour blocks');
  await untilFromBlocks(blocks.stats, () => st.cached.httpCodesBody(f, codes), 'hour blocks');
  const before = blocks.answersByWorker;
  const fromBlocks = blocks.stats.fromBlocks;
  const bodies = await Promise.all(Array.from({ length: 10 }, () => st.cached.httpCodesBody(f, codes)));
  for (const b of bodies) expect(text(b)).toBe(expected);
  expect(blocks.stats.fromBlocks).toBe(fromBlocks + 10);
  const after = blocks.answersByWorker;
  // Both workers answered some of them (one worker alone cannot pass this).
  expect(after.length).toBe(2);
  after.forEach((n, i) => expect(n, `worker ${i}`).toBeGreaterThan(before[i] ?? 0));
}

describe('ClickHouse hour blocks, a pool of two workers', () => {
  it('answers at once from both workers, each answer the SQL answer', async () => {
    await st.cached.write(batch({ counts: cells(3000) }));
    await st.writer.write(batch({ counts: cells(3000) }));
    await tenAtOnce(filter(), [200, 404]);
    await tenAtOnce(filter({ regions: [], isps: [] }), []);
    expect(await st.cached.queryHttpCodes(filter())).toEqual(await st.sql.queryHttpCodes(filter()));
  }, 180_000);

  it('stays exact while two writers write into closed hours: rebuilt blocks are adopted by every worker', async () => {
    const f = filter();
    await untilFromBlocks(st.cached.hourBlocks?.stats, () => st.cached.httpCodesBody(f, []), 'hour blocks');
    const built = st.cached.hourBlocks?.stats.built ?? 0;
    const writes = Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? st.cached : st.writer).write(batch({ counts: cells(200, H0 + (i % 3) * HOUR, 1) })));
    const reads: Array<Promise<unknown>> = [];
    for (let i = 0; i < 12; i++) reads.push(st.cached.httpCodesBody(f, [200, 404]));
    await Promise.all([...writes, ...reads]);
    // Every write is acknowledged: every answer now has all of them, from SQL or from the rebuilt blocks.
    expect(text(await st.cached.httpCodesBody(f, []))).toBe(text(await st.sql.httpCodesBody(f, [])));
    // From blocks again: every hour's block rebuilt (each hour was written), and adopted by both workers.
    await tenAtOnce(f, [200, 404]);
    expect(st.cached.hourBlocks?.stats.built).toBeGreaterThan(built);
  }, 180_000);

  it('a worker that dies takes the pool and its blocks with it: answers by SQL meanwhile, then from the rebuilt blocks in both workers', async () => {
    const blocks = st.cached.hourBlocks;
    if (!blocks) throw new Error('the store has no hour blocks');
    const f = filter();
    await untilFromBlocks(blocks.stats, () => st.cached.httpCodesBody(f, []), 'hour blocks');
    await blocks.stopWorker(1);
    const deadline = Date.now() + 60_000;
    while (blocks.answersByWorker.length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(blocks.answersByWorker).toEqual([]);
    // No block is left: the next answer is the SQL answer (and starts the rebuilds in a new pool).
    const bySql = blocks.stats.bySql;
    expect(text(await st.cached.httpCodesBody(f, [200, 404]))).toBe(text(await st.sql.httpCodesBody(f, [200, 404])));
    expect(blocks.stats.bySql).toBe(bySql + 1);
    await tenAtOnce(f, [200, 404]);
  }, 180_000);
});

