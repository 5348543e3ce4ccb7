import { describe, expect, it } from 'vitest';
import { ConfigError, resolveServeConfig } from './config.js';

describe('ClickHouse settings', () => {
  it('reads --store clickhouse, --clickhouse-url and --clickhouse-cluster from flags or environment', () => {
    const c = resolveServeConfig({ store: 'clickhouse', 'clickhouse-url': 'http://u:p@h:8123/db' }, { LIVESTATS_CLICKHOUSE_CLUSTER: 'main' });
    expect([c.store, c.clickhouseUrl, c.clickhouseCluster]).toEqual(['clickhouse', 'http://u:p@h:8123/db', 'main']);
    const e = resolveServeConfig({}, { LIVESTATS_STORE: 'clickhouse', LIVESTATS_CLICKHOUSE_URL: 'http://h:8123' });
    expect([e.store, e.clickhouseUrl, e.clickhouseCluster]).toEqual(['clickhouse', 'http://h:8123', '']);
  });
  it('rejects incomplete or malformed ClickHouse settings clearly', () => {
    expect(() => resolveServeConfig({ store: 'clickhouse' }, {})).toThrow(/--clickhouse-url/);
    expect(() => resolveServeConfig({ store: 'clickhouse', 'clickhouse-url': 'ftp://x' }, {})).toThrow(ConfigError);
    expect(() => resolveServeConfig({ store: 'clickhouse', 'clickhouse-url': 'http://x/db', 'clickhouse-cluster': 'a-b' }, {})).toThrow(ConfigError);
    expect(() => resolveServeConfig({ 'clickhouse-url': 'http://x/db' }, {})).toThrow(/--store clickhouse/);
    expect(() => resolveServeConfig({ store: 'mysql' }, {})).toThrow(ConfigError);
    expect(() => resolveServeConfig({ store: 'clickhouse', 'clickhouse-url': 'http://a/db,http://b/db' }, {})).toThrow(/--clickhouse-cluster/);
    const c = resolveServeConfig({ store: 'clickhouse', 'clickhouse-url': 'http://a/db,http://b/db', 'clickhouse-cluster': 'c' }, {});
    expect(c.clickhouseCluster).toBe('c');
  });
  it('reads the replicated layout (issue 24): needs a cluster, quorum 2 by default', () => {
    const c = resolveServeConfig({ store: 'clickhouse', 'clickhouse-url': 'http://a/db,http://b/db', 'clickhouse-cluster': 'c', 'clickhouse-replicated': true }, {});
    expect([c.clickhouseReplicated, c.clickhouseInsertQuorum]).toEqual([true, 2]);
    const e = resolveServeConfig({ store: 'clickhouse', 'clickhouse-url': 'http://a/db', 'clickhouse-cluster': 'c' },
      { LIVESTATS_CLICKHOUSE_REPLICATED: '1', LIVESTATS_CLICKHOUSE_INSERT_QUORUM: '1' });
    expect([e.clickhouseReplicated, e.clickhouseInsertQuorum]).toEqual([true, 1]);
    expect(() => resolveServeConfig({ store: 'clickhouse', 'clickhouse-url': 'http://a/db', 'clickhouse-replicated': true }, {})).toThrow(/--clickhouse-cluster/);
    expect(() => resolveServeConfig({ 'clickhouse-replicated': true }, {})).toThrow(/--store clickhouse/);
  });
});

describe('ClickHouse hour-block settings', () => {
  it('have the hour blocks\' defaults, and flags or environment override them', async () => {
    const { HOUR_BLOCK_DEFAULTS } = await import('./store/clickhouse/hour-blocks.js');
    const c = resolveServeConfig({ store: 'clickhouse', 'clickhouse-url': 'http://h:8123/db' }, {});
    expect([c.clickhouseHourBlocksMib, c.clickhouseHourClosedAfterMs, c.clickhouseHourBlockMaxAgeMs, c.clickhouseHourBlockSqlRuns])
      .toEqual([HOUR_BLOCK_DEFAULTS.budgetBytes / 2 ** 20, HOUR_BLOCK_DEFAULTS.closedAfterMs, HOUR_BLOCK_DEFAULTS.maxAgeMs, HOUR_BLOCK_DEFAULTS.maxSqlRuns]);
    const e = resolveServeConfig({ store: 'clickhouse', 'clickhouse-url': 'http://h:8123/db', 'clickhouse-hour-block-sql-runs': '2' }, {
      LIVESTATS_CLICKHOUSE_HOUR_BLOCKS_MIB: '0', LIVESTATS_CLICKHOUSE_HOUR_CLOSED_AFTER_MS: '60000', LIVESTATS_CLICKHOUSE_HOUR_BLOCK_MAX_AGE_MS: '120000',
    });
    expect([e.clickhouseHourBlocksMib, e.clickhouseHourClosedAfterMs, e.clickhouseHourBlockMaxAgeMs, e.clickhouseHourBlockSqlRuns]).toEqual([0, 60_000, 120_000, 2]);
    expect(() => resolveServeConfig({ store: 'clickhouse', 'clickhouse-url': 'http://h:8123/db', 'clickhouse-hour-block-sql-runs': '0' }, {})).toThrow(ConfigError);
  });

  it('reach the store: 0 MiB means no hour blocks', async () => {
    const { createStore } = await import('./store/index.js');
    const base = { store: 'clickhouse' as const, data: '', clickhouseUrl: 'http://h:8123/db', clickhouseCluster: '' };
    const off = createStore({ ...base, clickhouseHourBlocksMib: 0 });
    const on = createStore({ ...base, clickhouseHourBlocksMib: 8, clickhouseHourBlockSqlRuns: 2 });
    try {
      expect((off as unknown as { hourBlocks: unknown }).hourBlocks).toBeUndefined();
      const blocks = (on as unknown as { hourBlocks: { cache: Record<string, unknown> } }).hourBlocks.cache;
      // The traffic cells take 1/8 of the budget (traffic-cells.ts TRAFFIC_CELLS_SHARE), the carousel hours 1/8
      // (carousel-blocks.ts CAROUSEL_BLOCKS_SHARE), the request counts the rest.
      expect([blocks.budget, blocks.maxSqlRuns, blocks.maxAgeMs]).toEqual([6 * 2 ** 20, 2, 900_000]);
      const carousel = (on as unknown as { carouselBlocks: { cache: Record<string, unknown> } }).carouselBlocks.cache;
      expect(carousel.budget).toBe(2 ** 20);
    } finally {
      await off.close();
      await on.close();
    }
  });
});

describe('ClickHouse query work behind the write path (issue 24: the ingest acknowledgement)', () => {
  it('reads --clickhouse-reads-yield (default on) and passes it and --query-thread-nice to the store', async () => {
    const url = { store: 'clickhouse', 'clickhouse-url': 'http://h:8123/db' };
    expect(resolveServeConfig(url, {}).clickhouseReadsYield).toBe('on');
    expect(resolveServeConfig({ ...url, 'clickhouse-reads-yield': 'off' }, {}).clickhouseReadsYield).toBe('off');
    expect(resolveServeConfig(url, { LIVESTATS_CLICKHOUSE_READS_YIELD: 'off' }).clickhouseReadsYield).toBe('off');
    expect(() => resolveServeConfig(url, { LIVESTATS_CLICKHOUSE_READS_YIELD: 'maybe' })).toThrow(ConfigError);
    const { createStore } = await import('./store/index.js');
    const { ClickHouseStore } = await import('./store/clickhouse/store.js');
    const base = { store: 'clickhouse' as const, data: '', clickhouseUrl: 'http://h:8123/db', clickhouseCluster: '' };
    const store = createStore({ ...base, queryThreadNice: 7 });
    const plain = createStore({ ...base, clickhouseHourBlocksMib: 0, clickhouseReadsYield: 'off' });
    try {
      if (!(store instanceof ClickHouseStore) || !(plain instanceof ClickHouseStore)) throw new Error('not the ClickHouse store');
      expect(store.options.readsYield).toBe(true);
      expect(store.options.queryThreadNice).toBe(7);
      // The block workers' options carry it (each block kind starts its workers with it).
      expect(store.options.hourBlocks === false ? undefined : store.options.hourBlocks?.threadNice).toBe(7);
      expect(plain.options.readsYield).toBeUndefined();
      expect(plain.options.hourBlocks).toBe(false);
    } finally {
      await store.close();
      await plain.close();
    }
  });
});
