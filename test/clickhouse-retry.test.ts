import { describe, expect, it } from 'vitest';
import { Aggregator } from '../src/ingest/aggregator.js';
import { CHUNK_ROWS } from '../src/store/clickhouse/batch.js';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import type { CountRow, HttpCodesFilter, Store } from '../src/store/types.js';
import { PACKED_CODES, PACKED_GEOS, packedRequests, type PackedCells, type ProjectCells } from '../src/store/packed.js';
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
/** Packed cells of 3 domains over a day: (slot, geo, code) keys that repeat within and across packed batches; traffic cells of 2 streams a domain. */
function packedCells(n: number, seed: number): PackedCells {
  let s = seed + 1;
  const rand = (k: number): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return Math.floor((s / 4294967296) * k);
  };
  const slotDomains: string[] = [];
  const slotMinutes: number[] = [];
  for (let d = 0; d < 3; d++) {
    for (let m = 0; m < 1440; m++) {
      slotDomains.push(`d${d}.example`);
      slotMinutes.push(T0 - DAY + m * MIN);
    }
  }
  const keys = Int32Array.from({ length: n }, () => (rand(slotDomains.length) * PACKED_GEOS + rand(12)) * PACKED_CODES + [200, 206, 404, 500][rand(4)]!);
  const tuples = [0, 1, 2].flatMap((d) => [[`d${d}.example`, 'live', 'a'], [`d${d}.example`, 'live', 'b']]);
  return {
    slotDomains, slotMinutes, keys, counts: Float64Array.from({ length: n }, () => 1 + rand(3)), bytes: Float64Array.from({ length: n }, () => rand(100_000)),
    traffic: {
      domains: tuples.map((t) => t[0] as string), apps: tuples.map((t) => t[1] as string), streams: tuples.map((t) => t[2] as string),
      tuple: Int32Array.from({ length: n }, () => rand(tuples.length)), slot: Float64Array.from({ length: n }, () => T0 - DAY + rand(288) * 300_000),
      geo: Uint8Array.from({ length: n }, () => rand(12)), protocol: Uint8Array.from({ length: n }, () => rand(3)), ipType: Uint8Array.from({ length: n }, () => rand(3)),
      requests: Float64Array.from({ length: n }, () => 1 + rand(2)), bytes: Float64Array.from({ length: n }, () => rand(1_000_000)),
    },
  };
}

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

  // The parse workers' packed cells (the store takes them as they are: writesPacked, packed-rows.ts), several packed
  // batches whose keys repeat, more than two chunks of counts and of traffic rows: a retry is exact.
  it('a batch of packed cells retried after landed, lost and refused inserts is counted exactly once', async () => {
    const store = await open(true);
    expect(store.writesPacked).toBe(true);
    const packed: ProjectCells[] = [0, 1, 2].map((p) => ({ project: 'p1', cells: packedCells(30_000, p) }));
    const b = batch({ packed });
    const requests = packed.reduce((n, p) => n + packedRequests(p.cells), 0);
    const seen = new Map<string, number>();
    env.proxy.policy = (sql) => {
      const table = /^INSERT INTO \S*?(http_counts_bytes|traffic_streams)\b/.exec(sql)?.[1];
      if (table === undefined) return 'pass';
      const k = (seen.get(table) ?? 0) + 1;
      seen.set(table, k);
      return k === 1 ? 'pass' : k === 2 ? 'drop-response' : 'refuse';
    };
    await expect(store.write(b)).rejects.toThrow();
    const domains = ['d0.example', 'd1.example', 'd2.example'];
    const landed = await total(store, domains);
    expect(landed).toBeGreaterThan(0);
    expect(landed).toBeLessThan(requests);
    env.proxy.policy = () => 'pass';
    await store.write(b);
    expect(await total(store, domains)).toBe(requests);
    const traffic = await store.trafficSeries({
      project: 'p1', domains, app: undefined, stream: undefined, protocol: undefined, regions: [], isps: [], ipType: undefined,
      slotMs: 86_400_000, from: T0 - DAY, to: T0 + DAY,
    });
    const bytes = packed.reduce((n, p) => n + (p.cells.traffic?.bytes ?? new Float64Array(0)).reduce((a, v) => a + v, 0), 0);
    expect([...traffic].reduce((a, v) => a + v, 0)).toBe(bytes);
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
