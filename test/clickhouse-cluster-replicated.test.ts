import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessLog, carouselSamples, FIXTURE_NOW, fixtureQueries } from './fixtures/traffic.js';
import { expectSameAnswers, ingestHalves, startNode, startReference, type Node } from './harness/nodes.js';
import { startReplicatedCluster, type ReplicatedCluster } from './harness/replicated.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('clickhouse-server', 'zookeeper');

const CLUSTER = 'livestats_2x2';
const DB = 'cluster_repl';

/**
 * The replicated layout as shards x replicas (issue 24): 2 shards of 2 replicas and a ZooKeeper; two
 * livestats nodes each ingest half of one log concurrently (quorum inserts from two writers at once),
 * and every answer through either node equals the single-node SQLite answer. Too slow for every
 * `npm test`: `npm run test:replication` runs it.
 */
/** Flushes until nothing is queued: a write that failed stays at the head and is retried (never counted twice). */
async function settle(node: Node): Promise<void> {
  for (let t = 0; t < 120; t++) {
    try {
      await node.aggregator.flush();
    } catch {
      // kept at the head of the queue, retried below
    }
    if (node.aggregator.stats().pendingBatches === 0) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('batches still queued after 60 s');
}

describe.runIf(process.env.LIVESTATS_REPLICATION_FULL === '1')('replicated cluster (2 shards x 2 replicas, 2 livestats nodes)', () => {
  let cluster: ReplicatedCluster;
  let nodes: Node[];
  let reference: Node;
  const log = accessLog(30_000, 13);
  const samples = carouselSamples(14);

  beforeAll(async () => {
    cluster = await startReplicatedCluster({ name: CLUSTER, shards: 2, replicas: 2 });
    const flags = (first: number): Record<string, string> => ({
      store: 'clickhouse', 'clickhouse-url': cluster.urls(DB, first), 'clickhouse-cluster': CLUSTER, 'clickhouse-replicated': 'true',
    });
    nodes = await Promise.all([startNode(flags(0), FIXTURE_NOW), startNode(flags(3), FIXTURE_NOW)]);
    reference = await startReference(log, samples, FIXTURE_NOW);
    await ingestHalves(nodes, log, samples, settle);
  }, 300_000);
  afterAll(async () => {
    await Promise.all((nodes ?? []).map((n) => n.close()));
    await reference?.close();
    await cluster?.destroy();
  });

  it.each(fixtureQueries())('%s equals SQLite through either node', (path) => expectSameAnswers(reference, nodes, path));

  it('puts each shard on both of its replicas, every count once', async () => {
    const perServer: number[] = [];
    for (const s of cluster.servers) {
      await s.sql(`SYSTEM SYNC REPLICA ${DB}.http_counts_bytes_local`);
      perServer.push(Number((await s.sql(`SELECT sum(count) FROM ${DB}.http_counts_bytes_local WHERE code > 0`)).trim()));
    }
    const [a1, a2, b1, b2] = perServer;
    expect(a1).toBe(a2);
    expect(b1).toBe(b2);
    expect((a1 ?? 0) > 0 && (b1 ?? 0) > 0).toBe(true);
    expect((a1 ?? 0) + (b1 ?? 0)).toBe(log.length);
  });
});
