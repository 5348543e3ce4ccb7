import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessLog, carouselSamples, FIXTURE_NOW, fixtureQueries } from './fixtures/traffic.js';
import { startNode, type Node } from './harness/nodes.js';
import { startReplicatedCluster, type ReplicatedCluster } from './harness/replicated.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('clickhouse-server', 'zookeeper');

/**
 * Upgrade to the replicated layout (issue 24) of a database written by the single-server store (no
 * cluster, no replication: today's default): a node started with --clickhouse-replicated over that
 * server and a new, empty replica converts the tables in place (src/store/clickhouse/replicate.ts).
 * Every answer stays byte-identical to a SQLite node's, both replicas then hold every row, rollups
 * included (copied, not summed again), and later writes are counted once.
 */
const CLUSTER = 'livestats_upgrade';
const DB = 'upgrade';

/** Too slow for every `npm test`: `npm run test:replication` runs it. */
describe.runIf(process.env.LIVESTATS_REPLICATION_FULL === '1')('upgrade of a non-replicated database to the replicated layout', () => {
  let cluster: ReplicatedCluster;
  let reference: Node;
  let upgraded: Node | undefined;
  const log = accessLog(16_000, 5);
  const samples = carouselSamples(7);
  const replicated = (first: number): Record<string, string> => ({
    store: 'clickhouse', 'clickhouse-url': cluster.urls(DB, first), 'clickhouse-cluster': CLUSTER, 'clickhouse-replicated': 'true',
  });
  const sums = async (i: number, table: string): Promise<string> =>
    (await cluster.servers[i]?.sql(`SELECT count(), sum(count) FROM ${DB}.${table} FORMAT CSV`) ?? '').trim();

  beforeAll(async () => {
    cluster = await startReplicatedCluster({ name: CLUSTER, shards: 1, replicas: 2 });
    reference = await startNode({}, FIXTURE_NOW);
    // The old layout, written on the first server alone by the single-server store, in several batches.
    const old = await startNode({ store: 'clickhouse', 'clickhouse-url': cluster.servers[0]?.url(DB) ?? '' }, FIXTURE_NOW);
    for (const node of [reference, old]) {
      for (let i = 0; i < log.length; i += 4_000) {
        for (const r of log.slice(i, i + 4_000)) node.aggregator.add(r);
        for (const s of samples.slice(i / 10, (i + 4_000) / 10)) node.aggregator.addSample(s);
        await node.aggregator.flush();
      }
    }
    await old.close();
  }, 240_000);
  afterAll(async () => {
    await upgraded?.close();
    await reference?.close();
    await cluster?.destroy();
  });

  it('keeps every answer, puts every row on both replicas, and counts later writes once', async () => {
    const before = Number((await cluster.servers[0]?.sql(`SELECT sum(count) FROM ${DB}.http_counts_bytes WHERE code > 0`))?.trim());
    expect(before).toBe(log.length);
    // Started through the empty replica first: it makes its replicated tables before the old server converts.
    upgraded = await startNode(replicated(1), FIXTURE_NOW);
    for (const i of [0, 1]) {
      const engines = (await cluster.servers[i]?.sql(`SELECT name, engine FROM system.tables WHERE database = '${DB}'
        AND name LIKE '%_local' AND engine != 'MaterializedView' AND engine NOT LIKE 'Replicated%' FORMAT TSV`))?.trim();
      expect(engines, `plain tables left on replica ${i + 1}`).toBe('');
      for (const t of ['http_counts_bytes_local', 'http_counts_all_local', 'http_counts_region_local', 'http_counts_isp_local', 'carousel_samples_local']) {
        await cluster.servers[i]?.sql(`SYSTEM SYNC REPLICA ${DB}.${t}`);
      }
    }
    const detail = await sums(0, 'http_counts_bytes_local');
    expect(detail).toBe(await sums(1, 'http_counts_bytes_local'));
    for (const level of ['http_counts_all_local', 'http_counts_region_local', 'http_counts_isp_local']) {
      expect(await sums(1, level), level).toBe(await sums(0, level));
      expect(Number((await cluster.servers[1]?.sql(`SELECT sum(count) FROM ${DB}.${level} WHERE code > 0`))?.trim()), level).toBe(log.length);
    }
    // The old rows are kept beside, as a backup for the operator to drop.
    expect(Number((await cluster.servers[0]?.sql(`SELECT sum(count) FROM ${DB}.http_counts_bytes_unreplicated_copied WHERE code > 0`))?.trim())).toBe(log.length);
    for (const path of fixtureQueries()) {
      const want = await reference.get(path);
      const got = await upgraded.get(path);
      expect(got.status, path).toBe(want.status);
      expect(got.body === want.body, `after the upgrade: ${path}`).toBe(true);
    }
    // A second start (every node runs the step) changes nothing; then new writes count once, in every level.
    await upgraded.close();
    upgraded = await startNode(replicated(0), FIXTURE_NOW);
    const more = accessLog(3_000, 6);
    for (const node of [reference, upgraded]) {
      for (const r of more) node.aggregator.add(r);
      await node.aggregator.flush();
    }
    for (const path of fixtureQueries()) {
      const want = await reference.get(path);
      const got = await upgraded.get(path);
      expect(got.body === want.body, `after new writes: ${path}`).toBe(true);
    }
    expect(Number((await cluster.servers[1]?.sql(`SELECT sum(count) FROM ${DB}.http_counts_bytes WHERE code > 0`))?.trim())).toBe(log.length + more.length);
  }, 300_000);
});
