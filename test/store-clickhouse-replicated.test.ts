import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import type { WriteBatch } from '../src/store/types.js';
import { audienceOf, FORMAT, LINES } from './fixtures/audience-log.js';
import { accessLog, carouselSamples, FIXTURE_NOW, fixtureQueries } from './fixtures/traffic.js';
import { startNode, type Node } from './harness/nodes.js';
import { startReplicatedCluster, type ReplicatedCluster } from './harness/replicated.js';
import { requireTools } from './helpers/system-tools.js';
import { batch, cell, runStoreConformance } from './store-conformance.js';
import { runTrafficConformance } from './traffic-conformance.js';

requireTools('clickhouse-server', 'zookeeper');

/**
 * The replicated layout (issue 24): one shard of two replicas and a ZooKeeper, every table a
 * Replicated*MergeTree. The store conformance suites and the SQLite parity run on it unchanged, each
 * store listing both replicas (reads and writes fail over between them).
 */
const FULL = process.env.LIVESTATS_REPLICATION_FULL === '1';
const CLUSTER = 'livestats_repl';
let cluster: ReplicatedCluster;
let n = 0;
// Too slow for every `npm test` (a ZooKeeper, two servers, every conformance test on replicated
// tables): `npm run test:replication` runs it; npm test runs the replication fault test's short form.
describe.runIf(FULL)('ClickHouse replicated layout (1 shard x 2 replicas)', () => {
  beforeAll(async () => {
    cluster = await startReplicatedCluster({ name: CLUSTER, shards: 1, replicas: 2 });
  }, 180_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  const open = async (prefix: string): Promise<ClickHouseStore> => {
    const store = new ClickHouseStore({ url: cluster.urls(`${prefix}_${++n}`, n % 2), cluster: CLUSTER, replicated: true, insertQuorum: 2 });
    await store.init();
    return store;
  };

  runStoreConformance('clickhouse replicated', () => open('conformance'));
  runTrafficConformance('clickhouse replicated', () => open('traffic_conformance'));

  describe('replicated layout', () => {
    it('keeps every table as a Replicated*MergeTree on both replicas, and each replica holds every count', async () => {
      const store = await open('layout');
      const db = `layout_${n}`;
      const T0 = Date.UTC(2026, 10, 20);
      await store.write(batch({ counts: [cell(T0, 200, 7), cell(T0 + 60_000, 404, 2)] }));
      for (const s of cluster.servers) {
        const engines = (await s.sql(`SELECT DISTINCT engine FROM system.tables WHERE database = '${db}' AND name LIKE '%_local' AND engine != 'MaterializedView' FORMAT TSV`)).trim().split('\n').sort();
        expect(engines).toEqual(['ReplicatedReplacingMergeTree', 'ReplicatedSummingMergeTree']);
        // insert_quorum = 2: a confirmed write is on both replicas already.
        expect((await s.sql(`SELECT sum(count) FROM ${db}.http_counts_bytes_local WHERE code > 0`)).trim()).toBe('9');
        expect((await s.sql(`SELECT sum(count) FROM ${db}.http_counts_all_local WHERE code > 0`)).trim()).toBe('9');
        // Migration 016 on each replica: the stamp views without markers replaced the old ones, so the
        // 00:00 hour's stamp counts the 2 rows written, not the chunk's marker row at the day's start.
        const views = (await s.sql(`SELECT name FROM system.tables WHERE database = '${db}' AND name LIKE '%stamps_from%' ORDER BY name FORMAT TSV`)).trim().split('\n');
        expect(views.filter((v) => v.startsWith('http_counts') || v.startsWith('traffic'))).toEqual([
          'http_counts_stamps_from_bytes_v2_local', 'http_counts_stamps_from_v1_v2_local', 'traffic_day_stamps_from_domains_v2_local',
          'traffic_project_day_stamps_from_domains_local', 'traffic_stamps_from_domains_v2_local', 'traffic_stream_stamps_from_streams_v2_local']);
        await s.sql(`SYSTEM SYNC REPLICA ${db}.http_counts_stamps_local`);
        expect((await s.sql(`SELECT sum(rows) FROM ${db}.http_counts_stamps_local WHERE hour = ${T0 / 3_600_000}`)).trim()).toBe('2');
      }
      await store.close();
    });

    it('deduplicates the same insert block sent twice, to either replica, rollups included (18.16 insert deduplication)', async () => {
      const store = await open('dedup');
      const db = `dedup_${n}`;
      await store.close();
      const [a, b] = cluster.servers as [NonNullable<typeof cluster.servers[0]>, NonNullable<typeof cluster.servers[0]>];
      const insert = `INSERT INTO ${db}.http_counts_bytes_local (project, domain, minute, region, isp, code, batch, count, markers, bytes) VALUES
        ('p', 'd', 100, 'GD', 'CMCC', 200, '', 5, 0, 50), ('p', 'd', 100, '', '', 0, 'b#0', 0, 1, 0)`;
      await a.sql(insert);
      await a.sql(insert);
      await b.sql(insert);
      for (const s of cluster.servers) {
        await s.sql(`SYSTEM SYNC REPLICA ${db}.http_counts_bytes_local`);
        await s.sql(`SYSTEM SYNC REPLICA ${db}.http_counts_all_local`);
        expect((await s.sql(`SELECT sum(count), sum(markers) FROM ${db}.http_counts_bytes_local FORMAT CSV`)).trim()).toBe('5,1');
        expect((await s.sql(`SELECT sum(count), sum(markers) FROM ${db}.http_counts_all_local FORMAT CSV`)).trim()).toBe('5,1');
      }
    });
  });

  const TQ = Date.UTC(2026, 10, 20);
  const trafficRow = { project: 'p1', domain: 'a.example.com', app: 'live', stream: 's1', protocol: 'flv' as const, region: 'GD' as const,
    isp: 'CMCC' as const, ipType: 'v4' as const, requests: 2, bytes: 1000, slot: TQ };
  const upRow = { project: 'p1', domain: 'push.example.com', app: 'live', stream: 's1', region: 'GD' as const, isp: 'CMCC' as const, type: 0 as const, slot: TQ, bytes: 700 };
  const cases: [string, string, string, Partial<Omit<WriteBatch, 'id'>>, string, string[], string?][] = [
    ['counts', 'http_counts_bytes_local', 'sum(count)', { counts: [cell(TQ, 200, 4), cell(TQ + 60_000, 404, 3)] }, '7', ['http_counts_bytes_local']],
    ['traffic', 'traffic_domains_local', 'sum(bytes)', { traffic: [trafficRow, { ...trafficRow, slot: TQ + 300_000, bytes: 500 }] }, '1500',
      ['traffic_streams_local', 'traffic_domains_local']],
    // FLV sessions A [10:00, 10:02], B [09:59, 10:00], C [10:58, 11:00] of the audience fixture as opens
    // (audience-flv.ts): B at 09:59, A and B at the 10:00 quarter-hour, C at 10:58 and at 11:00: 5.
    ['audience', 'audience_sessions_local', 'sum(opens)', { audience: audienceOf(FORMAT, LINES.slice(0, 3)).audience }, '5',
      ['audience_cells_local', 'audience_sessions_local', 'audience_users_local']],
    // Input bytes of the publish side (origin-batch.ts): markers are rows of type 2.
    ['origin', 'origin_up_domain_local', 'sum(bytes)', { origin: { sessions: [], upBytes: [upRow, { ...upRow, stream: 's2', slot: TQ + 300_000, bytes: 50 }] } }, '750',
      ['origin_up_bytes_local', 'origin_up_domain_local'], 'type < 2'],
  ];
  it.each(cases)('confirms a retried batch (%s) only once the insert quorum holds what an earlier attempt left on one replica', async (what, local, sum, parts, want, written, where = "batch = ''") => {
    const store = await open(`quorum_${what}`);
    const db = `quorum_${what}_${n}`;
    const [r1, r2] = cluster.servers as [NonNullable<typeof cluster.servers[0]>, NonNullable<typeof cluster.servers[0]>];
    const stored = async (s: typeof r1): Promise<string> => (await s.sql(`SELECT ${sum} FROM ${db}.${local} WHERE ${where}`)).trim();
    // The first attempt's rows land on the live replica only (as a quorum insert that timed out
    // leaves them), then the attempt fails (a checkpoint key it cannot write), so the batch is retried.
    const b = batch({ ...parts, checkpoints: [{ key: 'bad\ud800', value: 'x' }] });
    await r1.stop(true);
    try {
      store.options.insertQuorum = 0;
      // Retried (as the aggregator does) until the rows are in: a busy ZooKeeper can leave an insert's status unknown (code 319).
      let failure = '';
      for (let i = 0; i < 20 && !/unpaired/.test(failure); i++) failure = await store.write(b).then(() => 'written', (err: Error) => err.message);
      expect(failure).toMatch(/unpaired/);
      expect(await stored(r2)).toBe(want);
      store.options.insertQuorum = 2;
      // The retry finds the markers, but one replica holds them: not confirmed.
      await expect(store.write(b)).rejects.toThrow(/fewer replicas than the insert quorum/);
    } finally {
      await r1.start();
    }
    for (const t of written) await r1.sql(`SYSTEM SYNC REPLICA ${db}.${t}`);
    // Both hold them now: the retry passes the quorum check (and stops again at the bad checkpoint), counting nothing twice.
    await expect(store.write(b)).rejects.not.toThrow(/insert quorum/);
    for (const s of [r1, r2]) expect(await stored(s)).toBe(want);
    await store.close();
  }, 180_000);

  describe('SQLite / replicated ClickHouse parity', () => {
    let sqlite: Node;
    let clickhouse: Node;
    beforeAll(async () => {
      sqlite = await startNode({}, FIXTURE_NOW);
      clickhouse = await startNode({
        store: 'clickhouse', 'clickhouse-url': cluster.urls('parity'), 'clickhouse-cluster': CLUSTER, 'clickhouse-replicated': 'true',
      }, FIXTURE_NOW);
      const log = accessLog(20_000);
      const samples = carouselSamples();
      for (const node of [sqlite, clickhouse]) {
        for (let i = 0; i < log.length; i += 5_000) {
          for (const r of log.slice(i, i + 5_000)) node.aggregator.add(r);
          for (const s of samples.slice(i / 10, (i + 5_000) / 10)) node.aggregator.addSample(s);
          await node.aggregator.flush();
        }
      }
    }, 120_000);
    afterAll(async () => {
      await sqlite?.close();
      await clickhouse?.close();
    });

    it.each(fixtureQueries())('%s', async (path) => {
      const a = await sqlite.get(path);
      const b = await clickhouse.get(path);
      expect(b.status).toBe(a.status);
      expect(b.body === a.body, 'byte-identical bodies').toBe(true);
    });
  });
});
