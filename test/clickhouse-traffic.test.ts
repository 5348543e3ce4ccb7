import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChEndpoint } from '../src/store/clickhouse/client.js';
import { migrateClickHouse } from '../src/store/clickhouse/schema.js';
import { streamsInsert, chunkTraffic } from '../src/store/clickhouse/traffic-batch.js';
import { ClickHouseTraffic } from '../src/store/clickhouse/traffic.js';
import { parseClickHouseUrls } from '../src/store/clickhouse/url.js';
import type { TrafficFilter } from '../src/store/traffic.js';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { requireTools } from './helpers/system-tools.js';
import { InMemoryTrafficStandIn } from './helpers/traffic-stand-in.js';
import { trafficRandom } from './helpers/traffic-random.js';

requireTools('clickhouse-server');

/**
 * The ClickHouse traffic cube (not yet wired into ClickHouseStore.write) against a real
 * clickhouse-server: every read answers what the in-memory reference semantics of the test
 * stand-in answer for the same rows, for random rows and random filters; a retried write is
 * applied exactly once, also after a partial landing.
 */
let server: ClickHouseServer;
let n = 0;
beforeAll(async () => {
  server = await startClickHouse();
});
afterAll(async () => {
  await server?.destroy();
});

async function cube(): Promise<{ traffic: ClickHouseTraffic; endpoint: ChEndpoint; database: string }> {
  const database = `traffic_${++n}`;
  const target = parseClickHouseUrls(server.url(database));
  const endpoint = new ChEndpoint(target.endpoints[0] as (typeof target.endpoints)[number]);
  await migrateClickHouse(endpoint, { database });
  return { traffic: new ClickHouseTraffic(endpoint, { database }), endpoint, database };
}

const T0 = Date.UTC(2028, 2, 1);
const random = trafficRandom(T0);
const randomRows = random.rows;
const randomFilter = random.filter;

describe('ClickHouse traffic cube', () => {
  it('answers like the reference for random rows and filters (per stream and rollup tables)', async () => {
    const { traffic } = await cube();
    const rows = randomRows(3000);
    const reference = new InMemoryTrafficStandIn().add(...rows);
    await traffic.write('b1', rows.slice(0, 1500), false);
    await traffic.write('b2', rows.slice(1500), false);
    expect(await traffic.trafficDomains('p1')).toEqual(await reference.trafficDomains('p1'));
    let nonZero = 0;
    for (let i = 0; i < 60; i++) {
      const f = randomFilter();
      if ((await reference.trafficSeries(f)).some((v) => v > 0)) nonZero++;
      expect({ f, series: [...(await traffic.trafficSeries(f))] }).toEqual({ f, series: [...(await reference.trafficSeries(f))] });
      const got = Object.fromEntries([...(await traffic.trafficByDomain(f))].map(([d, s]) => [d, [...s]]));
      const want = Object.fromEntries([...(await reference.trafficByDomain(f))].map(([d, s]) => [d, [...s]]));
      expect({ f, got }).toEqual({ f, got: want });
    }
    expect(nonZero).toBeGreaterThan(20); // the filters select real traffic, not only empty windows
  });

  it('applies a retried batch exactly once, also when part of it had landed', async () => {
    const { traffic, endpoint, database } = await cube();
    const rows = randomRows(500).map((r) => ({ ...r, project: 'p1' }));
    const total = rows.reduce((s, r) => s + r.bytes, 0);
    const all: TrafficFilter = {
      project: 'p1', domains: [], app: undefined, stream: undefined, protocol: undefined, regions: [], isps: [], ipType: undefined,
      slotMs: 86_400_000, from: T0, to: T0 + 2 * 86_400_000,
    };
    const domains = ['a.com', 'b.com', 'c.com'];
    const perApp = (app: string): TrafficFilter => ({ ...all, domains, app });
    const appTotal = (app: string): number => rows.filter((r) => r.app === app).reduce((s, r) => s + r.bytes, 0);
    // A first attempt that landed the first group of the first chunk in the per-stream table, then failed.
    const chunk = chunkTraffic('b1', rows)[0];
    if (!chunk || chunk.groups.length < 2) throw new Error('expected a chunk of several groups');
    const first = streamsInsert(`${database}.traffic_streams`, chunk, chunk.groups.slice(0, 1));
    await endpoint.exec(first.statement, { body: first.body });
    await traffic.write('b1', rows, true);
    await traffic.write('b1', rows, true); // and once more
    const sum = (a: Float64Array): number => a.reduce((s, v) => s + v, 0);
    expect(sum(await traffic.trafficSeries(all))).toBe(total);
    expect(sum(await traffic.trafficSeries(perApp('live')))).toBe(appTotal('live'));
    expect(sum(await traffic.trafficSeries(perApp('app2')))).toBe(appTotal('app2'));
    await traffic.write('b2', rows, false); // a new batch counts again
    expect(sum(await traffic.trafficSeries(all))).toBe(2 * total);
  });
});
