import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/tmp.js';
import { SqliteStore } from '../store/sqlite/store.js';
import type { Store, WriteBatch } from '../store/types.js';
import { BatchRejectedError, markNotApplied, StoreUnavailableError } from '../health/store-faults.js';
import { Aggregator, DATA_FAULT_ATTEMPTS, PROBE_CHECKPOINT, type AccessRecord, type Refusal } from './aggregator.js';

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

// A data fault: the store fails every write that carries project "bad" (as a write of a value it
// cannot store would), and takes every other write. Injected into the real SQLite store; the real
// poison (bytes past 2^53) through every way in is in test/blast-radius.test.ts.
const poisoned = (inner: Store, kind: string, ids: string[] = []): Store =>
  Object.assign(Object.create(inner) as Store, {
    kind,
    write: async (b: WriteBatch) => {
      ids.push(b.id);
      if (b.counts.some((r) => r.project === 'bad')) throw new RangeError('varint out of range: 18014398509481982');
      await inner.write(b);
    },
  });

const totalOf = async (project: string): Promise<number> =>
  (await store.queryHttpCodes({ project, domains: ['a.com'], regions: [], isps: [], fromMinute: T - 3_600_000, toMinute: T + 3_600_000 }))
    .reduce((n, c) => n + c.count, 0);

it('one project\'s rejected data refuses only that project: the rest of the flush is stored, the store stays ok', async () => {
  const agg = new Aggregator(poisoned(store, 'sqlite'));
  const refusals: Refusal[] = [];
  agg.onRefused((r) => refusals.push(r));
  agg.add(rec({ project: 'good' }), 3);
  agg.checkpoint('batch:g', 'G', 'good');
  agg.add(rec({ project: 'bad' }), 2);
  agg.checkpoint('batch:b', 'B', 'bad');
  agg.checkpoint('other', 'O'); // names no project: goes only where every part went
  const good = agg.committed('good');
  const bad = agg.committed('bad');
  const all = agg.committed();
  await agg.flush(); // resolves: a data fault is not an outage
  await expect(good).resolves.toBeUndefined();
  await expect(bad).rejects.toBeInstanceOf(BatchRejectedError);
  await expect(all).rejects.toBeInstanceOf(BatchRejectedError);
  expect(await totalOf('good')).toBe(3);
  expect(await totalOf('bad')).toBe(0);
  expect(await store.getCheckpoint('batch:g')).toBe('G');
  expect(await store.getCheckpoint('batch:b')).toBeUndefined();
  expect(await store.getCheckpoint('other')).toBeUndefined();
  expect(refusals).toEqual([
    { reason: 'store_error', records: 2, checkpointKeys: ['batch:b'], rejected: { checkpoints: [{ key: 'batch:b', value: 'B' }] } },
    { reason: 'store_error', records: 0, checkpointKeys: ['other'], rejected: { checkpoints: [{ key: 'other', value: 'O' }] } },
  ]);
  expect(agg.health.snapshot()).toMatchObject({ status: 'ok', outages: 0 });
  expect(agg.stats()).toMatchObject({ pendingBatches: 0, pendingRecords: 0, rejectedRecords: 2, refusedRecords: 2 });
  // Later writes of both projects go on; the bad one is rejected again, never retried forever.
  agg.add(rec({ project: 'good' }), 4);
  agg.add(rec({ project: 'bad' }), 1);
  const later = agg.committed('good');
  await agg.flush();
  await expect(later).resolves.toBeUndefined();
  expect(await totalOf('good')).toBe(7);
  expect(agg.stats()).toMatchObject({ pendingBatches: 0, rejectedRecords: 3 });
});

it('a batch of one project that the store rejects is retried a few times, then rejected alone', async () => {
  const ids: string[] = [];
  const agg = new Aggregator(poisoned(store, 'sqlite', ids));
  agg.add(rec({ project: 'bad' }), 2);
  await expect(agg.commit('bad')).rejects.toBeInstanceOf(BatchRejectedError);
  expect(new Set(ids).size).toBe(1 + DATA_FAULT_ATTEMPTS); // the batch's attempts and a probe after each
  expect(ids.filter((id) => id === ids[0])).toHaveLength(DATA_FAULT_ATTEMPTS);
  agg.add(rec({ project: 'good' }), 1);
  await agg.commit('good');
  expect(await totalOf('good')).toBe(1);
  expect(agg.health.ok).toBe(true);
});

it('a batch in doubt that the store rejects for its data is dropped after its window instead of blocking every tenant', async () => {
  const agg = new Aggregator(poisoned(store, 'clickhouse'), { inDoubtDataFaultMs: 300 });
  agg.add(rec({ project: 'bad' }), 2);
  agg.add(rec({ project: 'good' }), 5);
  const good = agg.committed('good');
  await agg.flush();
  // In doubt: it cannot be split (its id must stay), so both projects' data is refused with it.
  await expect(good).rejects.toBeInstanceOf(BatchRejectedError);
  agg.add(rec({ project: 'good' }), 6);
  await agg.commit('good');
  expect(await totalOf('good')).toBe(6);
  expect(agg.stats()).toMatchObject({ pendingBatches: 0, rejectedRecords: 7 });
});

it('a write failure that a probe write shares is an outage: everything is refused, as before', async () => {
  const failures = { n: 2 };
  const agg = new Aggregator(failing(store, 'sqlite', failures, [], () => new Error('disk I/O error')));
  agg.add(rec({ project: 'good' }), 3);
  agg.add(rec({ project: 'bad' }), 2);
  await expect(agg.commit('good')).rejects.toBeInstanceOf(StoreUnavailableError);
  expect(agg.health.snapshot()).toMatchObject({ status: 'degraded', reason: 'store_error' });
  expect(agg.stats()).toMatchObject({ refusedRecords: 5, rejectedRecords: 0 });
});

it('keeps every carousel sample storable, whatever its source: not a whole number >= 0 is 0, past 2^53 - 1 saturates', async () => {
  const agg = new Aggregator(store);
  agg.addSample({ project: 'p', taskId: 't', second: T, videoFps: Number.NaN, videoKbps: 2 ** 60, audioFps: -3, audioKbps: 1.6 });
  agg.add(rec(), 2); // the same flush: stored too
  await agg.flush();
  expect(await store.querySamples({ project: 'p', taskId: 't', from: T, to: T + 1000 })).toEqual([
    { second: T, videoFps: 0, videoKbps: Number.MAX_SAFE_INTEGER, audioFps: 0, audioKbps: 2 },
  ]);
  expect(await total(store)).toBe(2);
});
