import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DENSE, denseDomain, generateDense, type DenseSpec, type DenseStats } from '../bench/query/dense.js';
import { denseStream } from '../bench/query/dense-traffic.js';
import { ISPS, REGIONS } from '../src/contract/values.js';
import { HTTP_CUBE } from '../src/store/sqlite/layout.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import type { TrafficFilter } from '../src/store/traffic.js';
import { tempDir } from './ingest-helpers.js';

/**
 * The dense bench dataset's traffic cube (bench/query/dense-traffic.ts), on a small spec: on the
 * httpcodes days its bytes per (domain, region/isp filter, 5 minutes) are exactly the httpcodes
 * cube's; it reaches back its own number of days; streams have Zipf popularity.
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SPEC: DenseSpec = {
  ...DENSE, days: 1, domains: 3, top: 1, tasks: 0,
  traffic: { ...DENSE.traffic, days: 3, streamDays: 1, streams: 6, tailStreams: 2 },
};
const ANCHOR = Math.floor(Date.now() / HOUR) * HOUR - 5 * HOUR;
const dir = tempDir('dense-traffic');
let store: SqliteStore;
let stats: DenseStats;

beforeAll(async () => {
  store = new SqliteStore(join(dir, 'livestats.db'));
  await store.init();
  stats = generateDense(store, SPEC, ANCHOR);
}, 120_000);
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const base: TrafficFilter = {
  project: SPEC.project, domains: [], app: undefined, stream: undefined, protocol: undefined, regions: [], isps: [], ipType: undefined,
  slotMs: 300_000, from: ANCHOR - DAY, to: ANCHOR,
};

/** The httpcodes cube's bytes of a domain per 5 minutes over the httpcodes day. */
function httpBytes(domain: string, filter: [number[], number[]]): number[] {
  const series = HTTP_CUBE.seriesId(store['db'], [SPEC.project, domain], false) as number;
  const minutes = new Float64Array(DAY / 60_000);
  HTTP_CUBE.sum(store['db'], { series: [series], filter, fromSlot: (ANCHOR - DAY) / 60_000, toSlot: ANCHOR / 60_000, measure: 1, column: () => minutes });
  return Array.from({ length: minutes.length / 5 }, (_, i) => minutes.subarray(i * 5, i * 5 + 5).reduce((a, b) => a + b, 0));
}

it('has on the httpcodes day exactly the httpcodes bytes per domain and 5 minutes, with and without filters', async () => {
  for (let d = 1; d <= SPEC.domains; d++) {
    const domain = denseDomain(d);
    expect([...(await store.trafficSeries({ ...base, domains: [domain] }))]).toEqual(httpBytes(domain, [[], []]));
    const gdCmcc = await store.trafficSeries({ ...base, domains: [domain], regions: ['GD'], isps: ['CMCC'] });
    expect([...gdCmcc]).toEqual(httpBytes(domain, [[REGIONS.indexOf('GD')], [ISPS.indexOf('CMCC')]]));
  }
  expect(stats.trafficRequests).toBeGreaterThan(stats.requests);
});

it('covers its own days before the httpcodes days, for every domain', async () => {
  const daily = await store.trafficByDomain({ ...base, slotMs: DAY, from: ANCHOR - 3 * DAY, to: ANCHOR });
  expect([...daily.keys()].sort()).toEqual([1, 2, 3].map(denseDomain));
  for (const series of daily.values()) expect([...series].every((b) => b > 0)).toBe(true);
});

it('writes streams on the stream days only, by Zipf popularity, and protocol filters split them', async () => {
  const s = (k: number, from = ANCHOR - DAY, protocol?: 'flv' | 'hls'): Promise<Float64Array> =>
    store.trafficSeries({ ...base, domains: [denseDomain(1)], ...denseStream(SPEC.traffic, k), protocol, slotMs: DAY, from, to: from + DAY });
  const first = (await s(1))[0] as number;
  const last = (await s(6))[0] as number;
  expect(first).toBeGreaterThan(3 * last);
  expect(last).toBeGreaterThan(0);
  expect((await s(1, ANCHOR - 2 * DAY))[0]).toBe(0);
  expect(((await s(1, ANCHOR - DAY, 'flv'))[0] as number) + ((await s(1, ANCHOR - DAY, 'hls'))[0] as number)).toBe(first);
  expect(stats.trafficStreamCells).toBeGreaterThan(0);
  expect(stats.trafficBytesPerDay).toBeGreaterThan(0);
});
