import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/tmp.js';
import { SqliteStore } from '../../store/sqlite/store.js';
import type { Store, WriteBatch } from '../../store/types.js';
import { Aggregator } from '../aggregator.js';
import { CellCounter } from '../cells.js';
import { SyslogBuffer } from './buffer.js';

const T = Date.UTC(2026, 0, 1, 10, 0, 0);
let tmp: ReturnType<typeof tempDir>;
let store: SqliteStore;
let failing = false;
// Write failures injected around the real SQLite store (the real full disk: test/faults-disk-full.test.ts).
let flaky: Store;
beforeEach(async () => {
  tmp = tempDir();
  store = new SqliteStore(join(tmp.dir, 'x.db'));
  await store.init();
  failing = false;
  flaky = Object.assign(Object.create(store) as Store, {
    write: async (b: WriteBatch) => {
      if (failing) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      await store.write(b);
    },
  });
});
afterEach(async () => {
  await store.close();
  tmp.remove();
});

const cells = (n: number) => {
  const c = new CellCounter();
  c.add('a.com', T, 0, 200, n);
  return c.drain();
};
const total = async (): Promise<number> =>
  (await store.queryHttpCodes({ project: 'p', domains: ['a.com'], regions: [], isps: [], fromMinute: T, toMinute: T + 60_000 }))
    .reduce((n, c) => n + c.count, 0);

it('keeps refused lines and feeds them again, once, when the store is back', async () => {
  const agg = new Aggregator(flaky);
  const buf = new SyslogBuffer(agg, 'p', 1000);
  buf.add(cells(10));
  buf.pump();
  failing = true;
  await expect(agg.flush()).rejects.toThrow();
  expect(buf.lines).toBe(10);
  buf.add(cells(5));
  buf.pump(); // degraded: nothing is fed
  expect(agg.stats().pendingRecords).toBe(0);
  failing = false;
  agg.checkpoint('probe', '1');
  await agg.flush(); // a successful write: healthy again
  buf.pump();
  await agg.flush();
  await Promise.resolve();
  expect(await total()).toBe(15);
  expect(buf.lines).toBe(0);
  expect(buf.dropped).toBe(0);
});

it('is bounded: beyond maxLines new lines are dropped and counted', async () => {
  const agg = new Aggregator(flaky);
  failing = true;
  agg.checkpoint('probe', '1');
  await expect(agg.flush()).rejects.toThrow();
  const buf = new SyslogBuffer(agg, 'p', 100);
  expect(buf.add(cells(60))).toBe(true);
  expect(buf.add(cells(60))).toBe(false);
  expect(buf.add(cells(40))).toBe(true);
  expect(buf.lines).toBe(100);
  expect(buf.dropped).toBe(60);
  failing = false;
  agg.checkpoint('probe', '2');
  await agg.flush();
  buf.pump();
  await agg.flush();
  await Promise.resolve();
  expect(await total()).toBe(100);
  expect(buf.lines).toBe(0);
});

it('drops lines the store rejects for their data (counted as rejected), never feeding them again; later lines are stored', async () => {
  // A data fault: batches carrying domain bad.com fail, every other write succeeds (the real poison,
  // bytes past 2^53 over syslog UDP, is in test/blast-radius.test.ts).
  const poisoned: Store = Object.assign(Object.create(store) as Store, {
    write: async (b: WriteBatch) => {
      if (b.packed?.some((p) => p.cells.slotDomains.includes('bad.com'))) throw new RangeError('value out of range');
      await store.write(b);
    },
  });
  const agg = new Aggregator(poisoned);
  const buf = new SyslogBuffer(agg, 'p', 1000);
  const bad = new CellCounter();
  bad.add('bad.com', T, 0, 200, 2);
  buf.add(bad.drain());
  buf.pump();
  await agg.flush(); // a data fault is not an outage: the flush goes on
  await new Promise((r) => setImmediate(r));
  expect(buf.lines).toBe(0);
  expect(buf.rejected).toBe(2);
  expect(agg.health.ok).toBe(true);
  buf.add(cells(7));
  buf.pump();
  await agg.flush();
  await new Promise((r) => setImmediate(r));
  expect(await total()).toBe(7);
  expect(buf.rejected).toBe(2);
  expect(buf.lines).toBe(0);
});
