import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/tmp.js';
import { SqliteStore } from '../store/sqlite/store.js';
import type { Store, WriteBatch } from '../store/types.js';
import { markNotApplied, StoreUnavailableError } from '../health/store-faults.js';
import { Aggregator, PROBE_CHECKPOINT, type AccessRecord, type Refusal } from './aggregator.js';

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

// The store wrappers below inject write failures into the real SQLite store: the real faults
// (a full disk, a held lock, a stopped ClickHouse) are exercised end to end in test/faults-*.test.ts.
const failing = (inner: Store, kind: string, failures: { n: number }, ids: string[] = [], err = (): Error => Object.assign(new Error('disk full'), { code: 'SQLITE_FULL' })): Store =>
  Object.assign(Object.create(inner) as Store, {
    kind,
    write: async (b: WriteBatch) => {
      ids.push(b.id);
      if (failures.n-- > 0) throw err();
      await inner.write(b);
    },
  });

it('refuses everything uncommitted when an atomic write fails: never counted later, writers told', async () => {
  const failures = { n: 1 };
  const agg = new Aggregator(failing(store, 'sqlite', failures));
  const refusals: Refusal[] = [];
  agg.onRefused((r) => refusals.push(r));
  agg.add(rec(), 3);
  agg.checkpoint('follow:x', '30');
  const first = agg.commit();
  agg.add(rec(), 4); // arrives while the write runs: uncommitted too, so refused with it
  await expect(first).rejects.toBeInstanceOf(StoreUnavailableError);
  await expect(first).rejects.toThrow('store unavailable (disk_full)');
  expect(refusals).toEqual([{ reason: 'disk_full', records: 7, checkpointKeys: ['follow:x'] }]);
  expect(agg.refusals).toBe(1);
  expect(agg.health.snapshot()).toMatchObject({ status: 'degraded', reason: 'disk_full', refusedRecords: 7, failedWrites: 1 });
  expect(agg.stats()).toMatchObject({ pendingBatches: 0, pendingRecords: 0, refusedRecords: 7 });
  agg.add(rec(), 5);
  await agg.commit();
  expect(await total(store)).toBe(5);
  expect(await store.getCheckpoint('follow:x')).toBeUndefined();
  expect(agg.health.snapshot()).toMatchObject({ status: 'ok', outages: 1 });
});

it('retries a batch that may have partly landed as-is (same id) and refuses what came after it', async () => {
  const ids: string[] = [];
  const failures = { n: 3 };
  const agg = new Aggregator(failing(store, 'clickhouse', failures, ids, () => Object.assign(new Error('reset'), { code: 'ECONNRESET' })));
  agg.add(rec(), 3);
  const first = agg.commit();
  let firstDone = false;
  void first.then(() => (firstDone = true));
  await expect(agg.flush()).rejects.toThrow('store unavailable (store_unreachable)');
  agg.add(rec(), 4);
  const second = agg.commit(); // queued behind the batch in doubt, whose retry fails: refused
  await expect(second).rejects.toBeInstanceOf(StoreUnavailableError);
  expect(firstDone).toBe(false);
  expect(agg.stats().pendingBatches).toBe(1);
  await agg.flush();
  await first;
  expect(await total(store)).toBe(3);
  expect(ids).toHaveLength(4);
  expect(new Set(ids).size).toBe(1); // the batch in doubt was retried unchanged; the refused one never written
  expect(agg.stats()).toMatchObject({ pendingBatches: 0, pendingRecords: 0, failedFlushes: 3, refusedRecords: 4 });
});

it('a failed write that the store marks as not applied is refused even without transactions', async () => {
  const failures = { n: 1 };
  const agg = new Aggregator(failing(store, 'clickhouse', failures, [], () => markNotApplied(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))));
  agg.add(rec(), 3);
  await expect(agg.commit()).rejects.toThrow('store unavailable (store_unreachable)');
  expect(agg.stats()).toMatchObject({ pendingBatches: 0, refusedRecords: 3 });
});

it('while degraded and idle, probes the store so health recovers by itself', async () => {
  const failures = { n: 1 };
  const agg = new Aggregator(failing(store, 'sqlite', failures), { flushIntervalMs: 10 });
  agg.add(rec());
  await expect(agg.commit()).rejects.toThrow();
  expect(agg.health.ok).toBe(false);
  agg.start();
  const deadline = Date.now() + 5000;
  while (!agg.health.ok && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(agg.health.ok).toBe(true);
  expect(await store.getCheckpoint(PROBE_CHECKPOINT)).toMatch(/^\d+$/);
  await agg.stop();
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
