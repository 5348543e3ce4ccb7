import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Aggregator } from '../ingest/aggregator.js';
import { SqliteStore } from '../store/sqlite/store.js';
import { trafficTotals } from '../store/sqlite/traffic-reads.js';
import { tempDir } from '../../test/helpers/tmp.js';
import { Demo } from './demo.js';
import { DEMO_DOMAINS } from './traffic.js';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 23, 7, 30, 0);
const tmp = tempDir();
let store: SqliteStore;

beforeAll(async () => {
  store = new SqliteStore(join(tmp.dir, 'livestats.db'));
  await store.init();
  const aggregator = new Aggregator(store);
  const demo = new Demo({ project: 'demo', aggregator, store, now: () => NOW, backfillMs: 3 * HOUR, tickMs: 60_000 });
  await demo.start();
  await demo.backfilled();
  await demo.stop();
  await aggregator.stop();
});
afterAll(async () => {
  await store.close();
  rmSync(tmp.dir, { recursive: true, force: true });
});

const filter = { project: 'demo', domains: [], app: undefined, stream: undefined, protocol: undefined, regions: [], isps: [], ipType: undefined };

it('backfills the traffic cube too: bandwidth in every hour of the backfilled window', async () => {
  const from = NOW - 3 * HOUR;
  const hourly = await store.trafficSeries({ ...filter, slotMs: HOUR, from, to: NOW + HOUR });
  expect([...hourly].map((b) => b > 0)).toEqual([true, true, true, false]);
  const hls = await store.trafficSeries({ ...filter, domains: ['hls.example.com'], protocol: 'hls', slotMs: HOUR, from, to: NOW });
  expect([...hls].every((b) => b > 0)).toBe(true);
});

it('counts every backfilled request in both cubes', async () => {
  const counts = await store.queryHttpCodes({
    project: 'demo', domains: DEMO_DOMAINS.map(([d]) => d), regions: [], isps: [], fromMinute: NOW - 4 * HOUR, toMinute: NOW + 60_000,
  });
  const requests = counts.reduce((n, c) => n + c.count, 0);
  expect(requests).toBeGreaterThan(0);
  expect(trafficTotals(store['db'], 'demo').requests).toBe(requests);
});
