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
