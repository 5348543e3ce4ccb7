import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessLog, carouselSamples, FIXTURE_DOMAINS, FIXTURE_NOW, fixtureQueries } from './fixtures/traffic.js';
import { startClickHouseCluster, type ClickHouseServer } from './harness/clickhouse.js';
import { expectSameAnswers, ingestHalves, startNode, startReference, type Node } from './harness/nodes.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('clickhouse-server');

const CLUSTER = 'livestats_test';
const DB = 'cluster_db';

/**
 * Two ClickHouse shards, two livestats nodes each ingesting half of one log concurrently;
 * every query through either node must equal the single-node SQLite answer.
 */
describe('ClickHouse cluster mode (2 shards, 2 livestats nodes)', () => {
  let shards: ClickHouseServer[];
  let nodes: Node[];
  let reference: Node;
  const log = accessLog(40_000, 11);
  const samples = carouselSamples(12);

  beforeAll(async () => {
    shards = await startClickHouseCluster(CLUSTER, 2);
    const [s1, s2] = shards as [ClickHouseServer, ClickHouseServer];
    const flags = (urls: string[]): Record<string, string> => ({
      store: 'clickhouse', 'clickhouse-url': urls.join(','), 'clickhouse-cluster': CLUSTER,
    });
    // Both nodes migrate at once (as a rolling start would), each through a different shard.
    nodes = await Promise.all([
      startNode(flags([s1.url(DB), s2.url(DB)]), FIXTURE_NOW),
      startNode(flags([s2.url(DB), s1.url(DB)]), FIXTURE_NOW),
    ]);
    reference = await startReference(log, samples, FIXTURE_NOW);
    // Interleaved halves: the same cells are written by both nodes, concurrently, in several batches.
    await ingestHalves(nodes, log, samples, (node) => node.aggregator.flush());
  });
  afterAll(async () => {
    await Promise.all((nodes ?? []).map((n) => n.close()));
    await reference?.close();
    await Promise.all((shards ?? []).map((s) => s.destroy()));
  });

  it.each(fixtureQueries())('%s equals SQLite through either node', (path) => expectSameAnswers(reference, nodes, path));

  it('spreads rows over both shards', async () => {
    const perShard: number[] = [];
    for (const s of shards) {
      const counted = Number((await s.sql(`SELECT sum(count) FROM ${DB}.http_counts_bytes_local WHERE code > 0`)).trim());
      expect(counted).toBeGreaterThan(0);
      perShard.push(counted);
    }
    expect(perShard.reduce((a, b) => a + b, 0)).toBe(log.length);
    const viaDistributed = Number((await shards[0]?.sql(`SELECT sum(count) FROM ${DB}.http_counts_bytes WHERE code > 0`))?.trim());
    expect(viaDistributed).toBe(log.length);
  });

  it('keeps every (project, domain) on exactly one shard', async () => {
    const owners = new Map<string, number>();
    for (const [i, s] of shards.entries()) {
      const text = await s.sql(`SELECT DISTINCT concat(project, '/', domain) FROM ${DB}.http_counts_bytes_local FORMAT TSV`);
      for (const key of text.split('\n').filter(Boolean)) {
        expect(owners.get(key), key).toBeUndefined();
        owners.set(key, i);
      }
    }
    expect(new Set(owners.values()).size).toBe(2);
  });

  it('drops old day partitions on every shard (retention) and keeps the current day', async () => {
    const [a, b] = nodes as [Node, Node];
    const old = FIXTURE_NOW - 2 * 86_400_000;
    for (const domain of FIXTURE_DOMAINS) b.aggregator.add({ project: 'proj-a', domain, time: old, region: 'GD', isp: 'CTCC', code: 200 }, 3);
    await b.aggregator.flush();
    const oldRows = async (): Promise<number[]> => Promise.all(shards.map(async (s) =>
      Number(await s.sql(`SELECT count() FROM ${DB}.http_counts_bytes_local WHERE minute < ${Math.floor(FIXTURE_NOW / 86_400_000) * 1440}`))));
    expect((await oldRows()).every((n) => n > 0)).toBe(true);
    await a.store.deleteBefore(Math.floor(FIXTURE_NOW / 86_400_000) * 86_400_000);
    expect(await oldRows()).toEqual([0, 0]);
    const path = fixtureQueries()[1] ?? '';
    expect((await a.get(path)).body === (await reference.get(path)).body).toBe(true);
  });
});
