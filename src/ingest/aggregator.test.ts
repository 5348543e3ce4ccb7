import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/tmp.js';
import { SqliteStore } from '../store/sqlite/store.js';
import type { Store, WriteBatch } from '../store/types.js';
import { Aggregator, type AccessRecord } from './aggregator.js';

const T = Date.UTC(2026, 0, 1, 10, 0, 0);
const rec = (over: Partial<AccessRecord> = {}): AccessRecord => ({
  project: 'p', domain: 'a.com', time: T + 1234, region: 'GD', isp: 'CMCC', code: 200, ...over,
});
const total = async (store: Store, code?: number): Promise<number> =>
  (await store.queryHttpCodes({ project: 'p', domains: ['a.com'], regions: [], isps: [], fromMinute: T - 3_600_000, toMinute: T + 3_600_000 }))
    .filter((c) => code === undefined || c.code === code)
    .reduce((n, c) => n + c.count, 0);

let tmp: ReturnType<typeof tempDir>;
let store: SqliteStore;
beforeEach(async () => {
  tmp = tempDir();
  store = new SqliteStore(join(tmp.dir, 'x.db'));
  await store.init();
});
afterEach(async () => {
  await store.close();
  tmp.remove();
});

it('sums records per cell and writes them in one batch per flush', async () => {
  const writes: WriteBatch[] = [];
  const spy: Store = Object.assign(Object.create(store) as Store, {
    write: async (b: WriteBatch) => {
      writes.push(b);
      await store.write(b);
    },
  });
  const agg = new Aggregator(spy);
  for (let i = 0; i < 1000; i++) agg.add(rec({ code: i % 2 ? 200 : 404, time: T + (i % 60) * 1000 }));
  agg.add(rec({ time: T - 60_000 }), 5); // a late record for an earlier minute
  expect(agg.stats().pendingRecords).toBe(1005);
  await agg.flush();
  expect(writes).toHaveLength(1);
  expect(writes[0]?.counts).toHaveLength(3);
  expect(await total(store)).toBe(1005);
  expect(await total(store, 404)).toBe(500);
  await agg.flush(); // nothing new: no empty batch
  expect(writes).toHaveLength(1);
});

it('keeps a failed batch and retries it as-is (same id) before newer data', async () => {
  const ids: string[] = [];
  let fail = 2;
  const flaky: Store = Object.assign(Object.create(store) as Store, {
    write: async (b: WriteBatch) => {
      ids.push(b.id);
      if (fail-- > 0) throw new Error('store down');
      await store.write(b);
    },
  });
  const agg = new Aggregator(flaky);
  agg.add(rec(), 3);
  await expect(agg.flush()).rejects.toThrow('store down');
  agg.add(rec(), 4);
  await expect(agg.flush()).rejects.toThrow('store down');
  expect(agg.stats().pendingBatches).toBe(2);
  await agg.flush();
  expect(await total(store)).toBe(7);
  expect(ids[0]).toBe(ids[1]); // the first batch was retried unchanged
  expect(ids[2]).toBe(ids[0]);
  expect(new Set(ids).size).toBe(2);
  expect(agg.stats()).toMatchObject({ pendingBatches: 0, pendingRecords: 0, failedFlushes: 2 });
});

it('commits checkpoints with the data fed before them, latest value per key', async () => {
  const agg = new Aggregator(store);
  agg.add(rec(), 2);
  agg.checkpoint('follow:x', '10');
  agg.checkpoint('follow:x', '20');
  await agg.flush();
  expect(await store.getCheckpoint('follow:x')).toBe('20');
  expect(await total(store)).toBe(2);
});

it('keeps the latest sample per second and registers tasks', async () => {
  const agg = new Aggregator(store);
  const s = { project: 'p', taskId: 't', videoFps: 1, videoKbps: 1, audioFps: 1, audioKbps: 1 };
  agg.addSample({ ...s, second: T + 100 });
  agg.addSample({ ...s, second: T + 900, videoFps: 25 });
  agg.registerTask('p', 'empty');
  await agg.flush();
  expect(await store.querySamples({ project: 'p', taskId: 't', from: T, to: T + 1000 })).toEqual([
    { second: T, videoFps: 25, videoKbps: 1, audioFps: 1, audioKbps: 1 },
  ]);
  expect((await store.listTasks('p')).map((t) => [t.taskId, t.lastSampleAt])).toEqual([['empty', null], ['t', T]]);
});

it('serializes concurrent flushes and stop() writes what is pending', async () => {
  const agg = new Aggregator(store, { flushIntervalMs: 60_000 });
  agg.start();
  agg.add(rec());
  const a = agg.flush();
  agg.add(rec());
  const b = agg.flush();
  await Promise.all([a, b]);
  agg.add(rec(), 10);
  await agg.stop();
  expect(await total(store)).toBe(12);
});
