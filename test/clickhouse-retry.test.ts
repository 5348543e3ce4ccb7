import { describe, expect, it } from 'vitest';
import { Aggregator } from '../src/ingest/aggregator.js';
import { CHUNK_ROWS } from '../src/store/clickhouse/batch.js';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import type { CountRow, HttpCodesFilter, Store } from '../src/store/types.js';
import { useClickHouseBehindProxy } from './helpers/clickhouse-proxy.js';
import { batch, cell } from './store-conformance.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('clickhouse-server');

const MIN = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 20);

const all = (domains: string[]): HttpCodesFilter => ({
  project: 'p1', domains, regions: [], isps: [], fromMinute: T0 - DAY, toMinute: T0 + 2 * DAY,
});
const total = async (store: Store, domains: string[]): Promise<number> =>
  (await store.queryHttpCodes(all(domains))).reduce((n, r) => n + r.count, 0);

/** Retried writes are applied exactly once, whatever part of the earlier attempt landed. */
describe('ClickHouse retry safety', () => {
  const env = useClickHouseBehindProxy();
  let db = 0;

  const open = async (viaProxy: boolean): Promise<ClickHouseStore> => {
    const base = viaProxy ? env.proxy.url.replace('http://', 'http://default:@') : `http://default:@127.0.0.1:${env.ch.httpPort}`;
    const store = new ClickHouseStore({ url: `${base}/retry_${++db}` });
    env.proxy.policy = () => 'pass';
    await store.init();
    return store;
  };

  it('a write whose insert committed but whose answer was lost is not applied twice', async () => {
    const store = await open(true);
    const b = batch({ counts: [cell(T0, 200, 5), cell(T0 + DAY, 404, 7, { domain: 'b.example' })], checkpoints: [{ key: 'k', value: '1' }] });
    env.proxy.policy = (body) => (body.startsWith('INSERT') && body.includes('http_counts') ? 'drop-response' : 'pass');
    const before = env.proxy.dropped;
    await expect(store.write(b)).rejects.toThrow();
    expect(env.proxy.dropped).toBe(before + 1);
    env.proxy.policy = () => 'pass';
    await store.write(b);
    expect(await total(store, ['a.example.com', 'b.example'])).toBe(5 + 7);
    expect(await store.getCheckpoint('k')).toBe('1');
    await store.close();
  });

  it('a retry after a failure re-inserts only the chunks and groups that did not land', async () => {
    const store = await open(true);
    const counts: CountRow[] = [];
    const n = 2 * CHUNK_ROWS + 5_000;
    for (let i = 0; i < n; i++) {
      counts.push(cell(T0 - DAY + (i % 2880) * MIN, 200 + (i % 50), 1, { domain: `d${i % 5}.example` }));
    }
    const b = batch({ counts });
    let inserts = 0;
    // First chunk lands and is answered, second lands but the answer is lost, third never arrives.
    env.proxy.policy = (body) => {
      if (!body.startsWith('INSERT') || !body.includes('http_counts')) return 'pass';
      inserts++;
      return inserts === 1 ? 'pass' : inserts === 2 ? 'drop-response' : 'refuse';
    };
    await expect(store.write(b)).rejects.toThrow();
    const domains = [0, 1, 2, 3, 4].map((i) => `d${i}.example`);
    expect(await total(store, domains)).toBe(2 * CHUNK_ROWS);
    env.proxy.policy = () => 'pass';
    await store.write(b);
    expect(await total(store, domains)).toBe(n);
    await store.close();
  });

  it('a ClickHouse restart mid-ingest: batches in doubt are retried once, the rest is refused, nothing doubled', async () => {
    const store = await open(false);
    const aggregator = new Aggregator(store, { flushIntervalMs: 50 });
    aggregator.start();
    let fed = 0;
    const feed = (k: number): void => {
      for (let i = 0; i < 200; i++, fed++) {
        aggregator.add({ project: 'p1', domain: 'live.example', time: T0 + ((k * 200 + i) % 600) * 1000, region: 'GD', isp: 'CMCC', code: 200 + (i % 3) });
      }
    };
    const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 20));
    for (let k = 0; k < 20; k++, await tick()) feed(k);
    await env.ch.stop(true); // SIGKILL while flushes are running
    for (let k = 20; k < 40; k++, await tick()) feed(k);
    expect(aggregator.stats().failedFlushes).toBeGreaterThan(0);
    await env.ch.start();
    for (let k = 40; k < 60; k++, await tick()) feed(k);
    await aggregator.stop(8);
    const stats = aggregator.stats();
    expect(stats.pendingBatches).toBe(0);
    // Refused records were reported to their writers (the HTTP intake answers 503 for them);
    // everything else is stored exactly once.
    expect(stats.refusedRecords).toBeGreaterThan(0);
    expect(stats.refusedRecords).toBeLessThan(fed);
    expect(await total(store, ['live.example'])).toBe(fed - stats.refusedRecords);
    await store.close();
  });
});
