import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/tmp.js';
import { SqliteStore } from './store.js';

const T = Date.UTC(2026, 0, 1, 10, 0, 0);
let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(() => tmp?.remove());

it('creates the schema with migrations once, in WAL mode, and reopens cleanly', async () => {
  tmp = tempDir();
  const file = join(tmp.dir, 'nested', 'livestats.db');
  const a = new SqliteStore(file);
  await a.init();
  await a.init();
  await a.close();
  const b = new SqliteStore(file);
  await b.init();
  await b.close();
  const db = new Database(file, { readonly: true });
  expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
  expect(db.prepare('SELECT version FROM schema_migrations').pluck().all()).toEqual([1]);
  db.close();
});

it('keeps the region/isp-free rollup equal to the detail rows it summarizes', async () => {
  tmp = tempDir();
  const store = new SqliteStore(join(tmp.dir, 'x.db'));
  await store.init();
  const regions = ['GD', 'BJ', 'SH'] as const;
  const isps = ['CMCC', 'CTCC'] as const;
  for (let round = 0; round < 3; round++) {
    await store.write({
      id: String(round), samples: [], tasks: [], checkpoints: [],
      counts: regions.flatMap((region, r) => isps.map((isp, i) => ({
        project: 'p', domain: 'a.com', minute: T + ((r + i) % 2) * 60_000, region, isp, code: 200 + round, count: r + i + 1,
      }))),
    });
  }
  const q = { project: 'p', domains: ['a.com'], fromMinute: T, toMinute: T + 120_000 };
  const rollup = await store.queryHttpCodes({ ...q, regions: [], isps: [] });
  const detail = await store.queryHttpCodes({ ...q, regions: [...regions], isps: [...isps] });
  const key = (c: { minute: number; code: number }) => `${c.minute}/${c.code}`;
  const sort = (xs: typeof rollup) => [...xs].sort((x, y) => key(x).localeCompare(key(y)));
  expect(sort(rollup)).toEqual(sort(detail));
  expect(rollup.reduce((n, c) => n + c.count, 0)).toBe(3 * (1 + 2 + 2 + 3 + 3 + 4));
  // Region-only and isp-only filters use the detail rows.
  expect((await store.queryHttpCodes({ ...q, regions: ['GD'], isps: [] })).reduce((n, c) => n + c.count, 0)).toBe(3 * (1 + 2));
  expect((await store.queryHttpCodes({ ...q, regions: [], isps: ['CTCC'] })).reduce((n, c) => n + c.count, 0)).toBe(3 * (2 + 3 + 4));
  await store.deleteBefore(T + 60_000);
  expect((await store.queryHttpCodes({ ...q, regions: [], isps: [] })).every((c) => c.minute === T + 60_000)).toBe(true);
  await store.close();
});
