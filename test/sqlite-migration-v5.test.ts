import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { REGIONS } from '../src/contract/values.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { SQLITE_SCHEMA_VERSION } from '../src/store/sqlite/migrate.js';
import { TRAFFIC_TOTALS } from '../src/store/sqlite/traffic-layout.js';
import type { TrafficFilter, TrafficRow } from '../src/store/traffic.js';
import { tempDir } from './ingest-helpers.js';

/**
 * Schema v5, the traffic totals (cube_trt_all: each domain's traffic summed over groups and cell
 * keys, in day blocks) that unfiltered traffic queries read: they must answer what the region/isp
 * levels answer, be rebuilt exactly by migration 5 from a v4 file, follow the bulk path's
 * replace semantics and go with retention.
 */
const D = 86_400_000;
const T0 = Math.floor(Date.now() / D) * D - 20 * D;
const dir = tempDir('migration-v5');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let seed = 3;
const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
const PROTOCOLS = ['flv', 'hls', 'other'] as const;
const IP_TYPES = ['v4', 'v6', 'other'] as const;
const rows = (n: number): TrafficRow[] => Array.from({ length: n }, () => {
  const protocol = PROTOCOLS[rnd(3)] as TrafficRow['protocol'];
  return {
    project: 'p1', domain: `d${rnd(4)}.com`, app: protocol === 'other' ? '' : 'live', stream: protocol === 'other' ? '' : `s${rnd(3)}`, protocol,
    region: REGIONS[rnd(REGIONS.length)] as TrafficRow['region'], isp: (['CMCC', 'CTCC', 'CUCC', 'OTHER'] as const)[rnd(4)] as TrafficRow['isp'],
    ipType: IP_TYPES[rnd(3)] as TrafficRow['ipType'], slot: T0 + rnd(12 * 288) * 300_000, requests: 1 + rnd(5), bytes: rnd(10_000_000),
  };
});
const filter = (f: Partial<TrafficFilter>): TrafficFilter => ({
  project: 'p1', domains: ['d0.com', 'd1.com', 'd2.com', 'd3.com'], app: undefined, stream: undefined, protocol: undefined, regions: [], isps: [], ipType: undefined,
  slotMs: 3_600_000, from: T0 - D, to: T0 + 13 * D, ...f,
});
/** The same sums read through a level with groups (every region named) instead of the totals. */
const viaRegions = (s: SqliteStore, f: Partial<TrafficFilter> = {}): Promise<Float64Array> => s.trafficSeries(filter({ ...f, regions: [...REGIONS] }));
const totalsRows = (s: SqliteStore): Array<{ id: number; data: Buffer }> =>
  s['db'].prepare(`SELECT id, data FROM ${(TRAFFIC_TOTALS.levels[0] as { table: { name: string } }).table.name} ORDER BY id`).all() as Array<{ id: number; data: Buffer }>;

it('unfiltered reads (the totals) answer what the region level answers; migration 5 rebuilds them from a v4 file', async () => {
  const file = join(dir, 'a.db');
  let store = new SqliteStore(file);
  await store.init();
  for (let b = 0; b < 5; b++) await store.write({ id: `b${b}`, counts: [], samples: [], tasks: [], checkpoints: [], traffic: rows(400) });
  for (const slotMs of [300_000, 3_600_000, D]) {
    // Every domain (named, or none named): the project's series; a subset: the domains' series.
    for (const domains of [undefined, [], ['d0.com', 'd2.com'], ['d3.com', 'd2.com', 'd1.com', 'd0.com', 'none.com']]) {
      const unfiltered = await store.trafficSeries(filter({ slotMs, ...(domains ? { domains } : {}) }));
      expect([...unfiltered].some((b) => b > 0)).toBe(true);
      expect([...unfiltered]).toEqual([...(await viaRegions(store, { slotMs, ...(domains ? { domains } : {}) }))]);
    }
  }
  const perDomain = await store.trafficByDomain(filter({ slotMs: 300_000 }));
  const perDomainRegions = await store.trafficByDomain(filter({ slotMs: 300_000, regions: [...REGIONS] }));
  expect(new Map([...perDomain].map(([k, v]) => [k, [...v]]))).toEqual(new Map([...perDomainRegions].map(([k, v]) => [k, [...v]])));
  const before = totalsRows(store);
  expect(before.length).toBeGreaterThan(0);
  // Back to a v4 file: no totals table, migration 5 not applied.
  store['db'].exec(`DROP TABLE cube_trt_all; DELETE FROM schema_migrations WHERE version = 5;`);
  await store.close();
  store = new SqliteStore(file);
  await store.init();
  expect(store['db'].prepare('SELECT max(version) FROM schema_migrations').pluck().get()).toBe(SQLITE_SCHEMA_VERSION);
  const after = totalsRows(store);
  expect(after.map((r) => r.id)).toEqual(before.map((r) => r.id));
  expect([...(await store.trafficSeries(filter({})))]).toEqual([...(await viaRegions(store))]);
  expect([...(await store.trafficSeries(filter({ domains: ['d1.com'] })))]).toEqual([...(await viaRegions(store, { domains: ['d1.com'] }))]);
  await store.close();
});

it('the bulk path replaces a block in the totals as in the domain cube, and retention deletes totals too', async () => {
  const store = new SqliteStore(join(dir, 'b.db'));
  await store.init();
  const block = (T0 + 6 * 3_600_000) / (72 * 300_000);
  const cells = (bytes: number) => ({
    count: 3, slot: [0, 0, 71], region: [0, 1, 2], isp: [0, 0, 3], key: [0, 4, 3], requests: [1, 2, 3], bytes: [bytes, bytes, bytes],
  });
  store.bulk(() => {
    store.bulkTraffic(['p1', 'd0.com'], block, cells(1000));
    store.bulkTraffic(['p1', 'd0.com'], block + 1, cells(10));
  });
  store.bulk(() => {
    store.bulkTraffic(['p1', 'd0.com'], block, cells(500));
    store.bulkTraffic(['p1', 'd1.com'], block, cells(1));
  });
  const f = filter({ domains: ['d0.com'], slotMs: D, from: T0, to: T0 + D });
  expect([...(await store.trafficSeries(f))]).toEqual([1530]);
  expect([...(await viaRegions(store, f))]).toEqual([1530]);
  // The project's series (every domain) follows the replacements too.
  for (const domains of [[], ['d0.com', 'd1.com']]) {
    expect([...(await store.trafficSeries({ ...f, domains }))]).toEqual([1533]);
    expect([...(await viaRegions(store, { ...f, domains }))]).toEqual([1533]);
  }
  await store.deleteTrafficBefore(T0 + 2 * D);
  expect(totalsRows(store)).toEqual([]);
  await store.close();
});
