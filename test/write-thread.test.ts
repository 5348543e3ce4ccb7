import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { projectRoot } from '../src/paths.js';
import { totalRequests } from '../src/store/sqlite/reads.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { WriteThread, WriteThreadError } from '../src/store/sqlite/write-thread.js';
import type { CountRow, WriteBatch } from '../src/store/types.js';
import { tempDir } from './helpers/tmp.js';

/** The write thread runs the compiled worker (npm test builds first) on a real SQLite file. */
const workerUrl = new URL(`file://${join(projectRoot(), 'dist', 'src', 'store', 'sqlite', 'write-worker.js')}`);
const T0 = Date.UTC(2026, 10, 20, 0, 0, 0);
let tmp: ReturnType<typeof tempDir> | undefined;
beforeAll(() => {
  if (!existsSync(workerUrl)) throw new Error('run `npm run build` before this test');
});
afterEach(() => tmp?.remove());

const batch = (id: string, n: number, extra: Partial<WriteBatch> = {}): WriteBatch => ({
  id, samples: [], tasks: [], checkpoints: [{ key: `cp:${id}`, value: id }],
  counts: Array.from({ length: n }, (_, i): CountRow => ({
    project: 'p', domain: `d${i % 3}.com`, minute: T0 + (i % 90) * 60_000, region: 'GD', isp: 'CMCC', code: 200, count: 1, bytes: 10,
  })),
  ...extra,
});

it('writes batches in a thread of its own, in order, each with its checkpoint; a refused batch fails alone with its reason', async () => {
  tmp = tempDir();
  const file = join(tmp.dir, 'livestats.db');
  const store = new SqliteStore(file, { writer: (f) => new WriteThread(f, workerUrl) });
  await store.init();
  const writes = Array.from({ length: 20 }, (_, b) => store.write(batch(`b${b}`, 100)));
  const bad = batch('bad', 5);
  (bad.counts[2] as { region: string }).region = 'XX';
  const refused = store.write(bad);
  const after = store.write(batch('after', 7));
  await Promise.all(writes);
  await expect(refused).rejects.toThrow(new WriteThreadError('unknown region/isp XX/CMCC', undefined));
  await after;
  // The main connection sees what the thread committed: counts and checkpoints together, nothing of the refused batch.
  expect(totalRequests(store['db'], 'p')).toBe(20 * 100 + 7);
  expect(await store.getCheckpoint('cp:b19')).toBe('b19');
  expect(await store.getCheckpoint('cp:after')).toBe('after');
  expect(await store.getCheckpoint('cp:bad')).toBeUndefined();
  const f = { project: 'p', domains: ['d0.com'], regions: [], isps: [], fromMinute: T0, toMinute: T0 + 90 * 60_000 };
  expect((await store.queryHttpCodes(f)).reduce((a, c) => a + c.count, 0)).toBe(20 * 34 + 3);
  await store.close();
  await expect(store.write(batch('late', 1))).rejects.toThrow('write thread closed');
});
