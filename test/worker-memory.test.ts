import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { projectRoot } from '../src/paths.js';
import { ReadPool } from '../src/store/sqlite/read-pool.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { WORKER_CACHE_KIB, WORKER_RESOURCE_LIMITS } from '../src/store/sqlite/worker-memory.js';
import { WriteThread } from '../src/store/sqlite/write-thread.js';
import { tempDir } from './helpers/tmp.js';

/** The store's worker threads (compiled: npm test builds first) on a real SQLite file. */
const compiled = (name: string): URL => new URL(`file://${join(projectRoot(), 'dist', 'src', 'store', 'sqlite', name)}`);
const T0 = Date.UTC(2026, 10, 20, 0, 0, 0);
let tmp: ReturnType<typeof tempDir> | undefined;
const open: Array<{ close: () => Promise<void> }> = [];
beforeAll(() => {
  for (const f of ['read-worker.js', 'write-worker.js']) if (!existsSync(compiled(f))) throw new Error('run `npm run build` before this test');
});
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
  tmp?.remove();
});

it('a store connection takes the page cache size it is given; without one, the build default', async () => {
  tmp = tempDir();
  const small = new SqliteStore(join(tmp.dir, 'a.db'), { cacheKiB: WORKER_CACHE_KIB });
  const plain = new SqliteStore(join(tmp.dir, 'b.db'));
  open.push(small, plain);
  expect(small['db'].pragma('cache_size', { simple: true })).toBe(-WORKER_CACHE_KIB);
  expect(plain['db'].pragma('cache_size', { simple: true })).toBe(-16000);
});

it('the write thread starts with the store, with the workers\' memory limits, and writes', async () => {
  tmp = tempDir();
  const file = join(tmp.dir, 'livestats.db');
  const store = new SqliteStore(file, { writer: (f) => new WriteThread(f, compiled('write-worker.js')) });
  await store.init();
  open.push(store);
  const worker = (store['writer'] as WriteThread)['worker'] as Worker | undefined;
  // Started before any batch was given.
  expect(worker).toBeDefined();
  expect(worker?.resourceLimits?.maxYoungGenerationSizeMb).toBe(WORKER_RESOURCE_LIMITS.maxYoungGenerationSizeMb);
  await store.write({
    id: 'b1', samples: [], tasks: [], checkpoints: [{ key: 'cp', value: '1' }],
    counts: [{ project: 'p', domain: 'd.com', minute: T0, region: 'GD', isp: 'CMCC', code: 200, count: 3, bytes: 30 }],
  });
  expect(await store.getCheckpoint('cp')).toBe('1');
  // The same thread wrote it.
  expect((store['writer'] as WriteThread)['worker']).toBe(worker);
});

it('read workers run with the workers\' memory limits', async () => {
  tmp = tempDir();
  const file = join(tmp.dir, 'livestats.db');
  const store = new SqliteStore(file);
  await store.init();
  open.push(store);
  const pool = new ReadPool(file, { size: 1, workerUrl: compiled('read-worker.js') });
  open.push(pool);
  expect(await pool.trafficDomains('p')).toEqual([]);
  const slots = pool['slots'] as Array<{ worker: Worker }>;
  expect(slots).toHaveLength(1);
  expect(slots[0]?.worker.resourceLimits?.maxYoungGenerationSizeMb).toBe(WORKER_RESOURCE_LIMITS.maxYoungGenerationSizeMb);
});
