import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/tmp.js';
import { ISPS, REGIONS } from '../../contract/values.js';
import { HTTP_CUBE } from './layout.js';
import { SqliteStore } from './store.js';
import { sqliteMigrationVersions } from './migrate.js';

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
  expect(db.prepare('SELECT version FROM schema_migrations').pluck().all()).toEqual(sqliteMigrationVersions());
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
  await store.close();
});

it('stores bytes beside requests in every level', async () => {
  tmp = tempDir();
  const store = new SqliteStore(join(tmp.dir, 'x.db'));
  await store.init();
  await store.write({
    id: 'b', samples: [], tasks: [], checkpoints: [],
    counts: [
      { project: 'p', domain: 'a.com', minute: T, region: 'GD', isp: 'CMCC', code: 200, count: 2, bytes: 5_000_000_000 },
      { project: 'p', domain: 'a.com', minute: T, region: 'BJ', isp: 'CMCC', code: 200, count: 1, bytes: 7 },
      { project: 'p', domain: 'a.com', minute: T + 60_000, region: 'BJ', isp: 'CTCC', code: 404, count: 1 },
    ],
  });
  await store.close();
  const db = new Database(join(tmp.dir, 'x.db'), { readonly: true });
  const bytes = (filter: number[][]): number => {
    const col = new Float64Array(60);
    HTTP_CUBE.sum(db, { series: [1], filter, fromSlot: T / 60_000, toSlot: T / 60_000 + 60, measure: 1, column: () => col });
    return col.reduce((a, b) => a + b, 0);
  };
  expect(bytes([[], []])).toBe(5_000_000_007);
  expect(bytes([[REGIONS.indexOf('GD')], []])).toBe(5_000_000_000);
  expect(bytes([[], [ISPS.indexOf('CMCC')]])).toBe(5_000_000_007);
  expect(bytes([[REGIONS.indexOf('BJ')], [ISPS.indexOf('CTCC')]])).toBe(0);
  db.close();
});

it('retention deletes whole blocks before the cutoff, keeps the block holding it', async () => {
  tmp = tempDir();
  const store = new SqliteStore(join(tmp.dir, 'x.db'));
  await store.init();
  const H = 3_600_000;
  const counts = [];
  for (let h = 0; h < 6; h++) {
    for (let d = 0; d < 40; d++) counts.push({ project: 'p', domain: `d${d}.com`, minute: T - h * H, region: 'GD' as const, isp: 'CMCC' as const, code: 200, count: 1 });
  }
  await store.write({ id: 'b', samples: [], tasks: [], checkpoints: [], counts });
  const domains = Array.from({ length: 10 }, (_, d) => `d${d}.com`);
  const q = { project: 'p', domains, regions: [], isps: [], fromMinute: T - 6 * H, toMinute: T + H };
  expect((await store.queryHttpCodes(q)).length).toBe(6);
  await store.deleteBefore(T - 2 * H + 60_000);
  expect((await store.queryHttpCodes(q)).map((c) => c.minute)).toEqual([T - 2 * H, T - H, T]);
  await store.close();
});
