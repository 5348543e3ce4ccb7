// The ClickHouse write path fills each table's materialized views at once (issue 24: the ingest acknowledgement):
// every insert carries parallel_view_processing = 1 unless --clickhouse-parallel-views off, and a view that fails
// still fails its insert, so the batch is retried and counted once at every level.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServeConfig } from '../src/config.js';
import { createStore } from '../src/store/index.js';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import type { TrafficRow } from '../src/store/traffic.js';
import type { CountRow } from '../src/store/types.js';
import { startClickHouseIn, type ClickHouseServer } from './harness/clickhouse.js';
import { requireTools } from './helpers/system-tools.js';
import { batch } from './store-conformance.js';

requireTools('clickhouse-server');

const MIN = 60_000;
const HOUR = 3_600_000;
const H0 = (Math.floor(Date.now() / HOUR) - 30) * HOUR;
const LEVELS = ['http_counts_all', 'http_counts_region', 'http_counts_isp'];

const counts = (domain: string, n = 90): CountRow[] => Array.from({ length: n }, (_, i) => ({
  project: 'p1', domain, minute: H0 + (i % 90) * MIN, region: i % 2 ? 'GD' : 'SH', isp: i % 3 ? 'CMCC' : 'CUCC', code: i % 4 ? 200 : 404, count: 1 + i, bytes: 100 + i,
}));
const traffic = (domain: string): TrafficRow[] => Array.from({ length: 24 }, (_, i) => ({
  project: 'p1', domain, slot: H0 + (i % 12) * 300_000, app: 'live', stream: `s${i % 3}`, protocol: 'flv', region: 'GD', isp: 'CMCC', ipType: 'v4',
  requests: 1 + i, bytes: 1000 + i,
}));

describe('ClickHouse inserts fill their materialized views at once (parallel_view_processing)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'livestats-ch-views-'));
  let server: ClickHouseServer;
  beforeAll(async () => {
    server = await startClickHouseIn(dir, { queryLog: true });
  });
  afterAll(async () => {
    await server?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const sumOf = async (db: string, t: string, column = 'count'): Promise<number> =>
    Number((await server.sql(`SELECT sum(${column}) FROM ${db}.${t} WHERE markers = 0`)).trim());

  /** parallel_view_processing as each INSERT into `db`'s tables carried it ('' for none), by table (finished or failed). */
  async function parallelViews(db: string): Promise<Map<string, Set<string>>> {
    await server.sql('SYSTEM FLUSH LOGS');
    const text = await server.sql(`SELECT extract(query, 'INSERT INTO [^.]+\\\\.([^ (]+)') AS t,
        arrayStringConcat(arrayFilter((v, n) -> n = 'parallel_view_processing', Settings.Values, Settings.Names)) AS pv
      FROM system.query_log WHERE type IN (2, 4) AND startsWith(query, 'INSERT') AND query LIKE '%${db}%' FORMAT TabSeparated`);
    const out = new Map<string, Set<string>>();
    for (const line of text.split('\n')) {
      if (!line) continue;
      const [t, pv] = line.split('\t') as [string, string];
      out.set(t, (out.get(t) ?? new Set()).add(pv));
    }
    return out;
  }

  it('every insert of a write carries it by default, none with parallelViews false; the rows land the same', async () => {
    for (const [db, parallel] of [['views_on', undefined], ['views_off', false]] as const) {
      const store = new ClickHouseStore({ url: server.url(db), hourBlocks: false, ...(parallel === false ? { parallelViews: false } : {}) });
      try {
        await store.init();
        await store.write(batch({ counts: counts('a.example'), traffic: traffic('a.example'), checkpoints: [{ key: 'batch:p1:x', value: '1' }] }));
      } finally {
        await store.close();
      }
    }
    const on = await parallelViews('views_on');
    const off = await parallelViews('views_off');
    for (const t of ['`http_counts_bytes`', '`traffic_streams`', '`traffic_domains`', '`checkpoints`']) {
      expect(on.get(t), t).toEqual(new Set(['1']));
      expect(off.get(t), t).toEqual(new Set(['']));
    }
    const total = counts('a.example').reduce((s, r) => s + r.count, 0);
    for (const db of ['views_on', 'views_off']) {
      for (const t of ['http_counts_bytes', ...LEVELS]) expect(await sumOf(db, t), `${db}.${t}`).toBe(total);
      expect(await sumOf(db, 'traffic_domains', 'bytes')).toBe(traffic('a.example').reduce((s, r) => s + r.bytes, 0));
      // The stamp views ran too: one stamp row per hour written, rows counted without the markers.
      expect(Number((await server.sql(`SELECT sum(rows) FROM ${db}.http_counts_stamps`)).trim())).toBeGreaterThan(0);
      expect(Number((await server.sql(`SELECT sum(rows) FROM ${db}.traffic_stamps`)).trim())).toBeGreaterThan(0);
    }
    expect(Number((await server.sql('SELECT sum(rows) FROM views_on.http_counts_stamps')).trim()))
      .toBe(Number((await server.sql('SELECT sum(rows) FROM views_off.http_counts_stamps')).trim()));
  });

  it('a view that fails still fails the insert, and the retried batch is counted once at every level', async () => {
    const db = 'views_boom';
    const store = new ClickHouseStore({ url: server.url(db), hourBlocks: false });
    try {
      await store.init();
      await server.sql(`CREATE MATERIALIZED VIEW ${db}.http_counts_b_boom TO ${db}.http_counts_all AS
        SELECT project, domain, minute, code, batch, count, markers, bytes FROM ${db}.http_counts_bytes WHERE throwIf(domain = 'boom.example') = 0`);
      const rows = [...counts('a.example'), ...counts('boom.example', 3)];
      const b = batch({ counts: rows });
      await expect(store.write(b)).rejects.toThrow(/throwIf|boom/);
      await server.sql(`DROP TABLE ${db}.http_counts_b_boom`);
      await store.write(b);
      const total = rows.reduce((s, r) => s + r.count, 0);
      for (const t of ['http_counts_bytes', ...LEVELS]) expect(await sumOf(db, t), t).toBe(total);
    } finally {
      await store.close();
    }
    expect((await parallelViews(db)).get('`http_counts_bytes`')).toEqual(new Set(['1']));
  });

  it('--clickhouse-parallel-views (default on) reaches the store', async () => {
    const url = { store: 'clickhouse', 'clickhouse-url': 'http://h:8123/db' };
    expect(resolveServeConfig(url, {}).clickhouseParallelViews).toBe('on');
    expect(resolveServeConfig({ ...url, 'clickhouse-parallel-views': 'off' }, {}).clickhouseParallelViews).toBe('off');
    expect(resolveServeConfig(url, { LIVESTATS_CLICKHOUSE_PARALLEL_VIEWS: 'off' }).clickhouseParallelViews).toBe('off');
    const base = { store: 'clickhouse' as const, data: '', clickhouseUrl: 'http://h:8123/db', clickhouseCluster: '', clickhouseHourBlocksMib: 0 };
    const on = createStore(base);
    const off = createStore({ ...base, clickhouseParallelViews: 'off' });
    try {
      if (!(on instanceof ClickHouseStore) || !(off instanceof ClickHouseStore)) throw new Error('not the ClickHouse store');
      expect(on.options.parallelViews).toBeUndefined();
      expect(off.options.parallelViews).toBe(false);
    } finally {
      await on.close();
      await off.close();
    }
  });
});
