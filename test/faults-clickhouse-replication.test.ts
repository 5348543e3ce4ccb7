import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowAll } from '../src/api/auth.js';
import { resolveServeConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { netnsWorks } from './harness/netns.js';
import { startReplicatedCluster, type ReplicatedCluster } from './harness/replicated.js';
import { recordFault } from './helpers/fault-report.js';
import { requireTools } from './helpers/system-tools.js';
import { accessLine, tempDir, waitFor } from './ingest-helpers.js';

requireTools('clickhouse-server', 'zookeeper');

/**
 * Faults of the replicated layout (issue 24) on separate hosts: ZooKeeper and the two replicas of
 * one shard each run in a network namespace of their own, joined to the test by veth pairs
 * (test/harness/netns.ts); livestats runs here, listing both replicas (the first is the one hurt).
 *
 * A client posts batches with an X-Batch-Id and retries each one until it is acknowledged (200), as a
 * log shipper does. While a fault lasts, livestats must confirm no batch (insert_quorum = 2: a
 * confirmed batch is on both replicas, so nothing confirmed can be lost with one of them) and
 * queries must keep answering from the live replica; after healing, every batch is acknowledged and
 * counted exactly once, on both replicas.
 *
 * Without network namespaces (no root), the cluster runs on loopback and "cut off" is SIGSTOP of
 * the replica: a FALLBACK, marked in the test names. Short form (npm test): the killed replica only.
 * `npm run faults:replication` (LIVESTATS_REPLICATION_FULL=1) runs all three faults.
 */
const FULL = process.env.LIVESTATS_REPLICATION_FULL === '1';
const NETNS = netnsWorks();
const FALLBACK = NETNS.ok ? '' : ' [FALLBACK: loopback processes, no network namespaces]';
const CLUSTER = 'livestats_faults';
const DB = 'faults';
const LINES = 120;
const COMMIT_TIMEOUT_MS = 4000;
/** Generous: a busy 2-core machine, ZooKeeper sessions to expire, replicas to catch up. */
const HEAL_MS = 120_000;

describe(`replicated ClickHouse on separate hosts: faults${FALLBACK}`, () => {
  let cluster: ReplicatedCluster;
  let server: RunningServer;

  beforeAll(async () => {
    cluster = await startReplicatedCluster({ name: CLUSTER, shards: 1, replicas: 2, netns: NETNS.ok });
    server = await startServer(resolveServeConfig({
      port: '0', data: tempDir('chrepl'), store: 'clickhouse', 'clickhouse-url': cluster.urls(DB), 'clickhouse-cluster': CLUSTER,
      'clickhouse-replicated': 'true', 'query-cache-ms': '0', 'log-level': 'silent', 'query-timeout-ms': '3000',
      'ingest-commit-timeout-ms': String(COMMIT_TIMEOUT_MS), 'flush-interval-ms': '100',
    }, {}), { authenticate: allowAll });
  }, 240_000);
  afterAll(async () => {
    for (const s of cluster?.servers ?? []) s.signal('SIGCONT');
    await server?.close().catch(() => undefined);
    await cluster?.destroy();
  });

  const bodyOf = (domain: string, k: number): string => Array.from({ length: LINES }, (_, j) =>
    accessLine(Date.now() - 120_000 - (j % 5) * 60_000, { host: domain, status: 200 + ((j + k) % 3) })).join('\n') + '\n';

  interface Delivery { id: string; attempts: number; statuses: number[]; ackedAt: number }

  /** Posts one batch (the same body every time) until it is acknowledged. */
  async function deliver(project: string, domain: string, id: string, k: number): Promise<Delivery> {
    const body = bodyOf(domain, k);
    const d: Delivery = { id, attempts: 0, statuses: [], ackedAt: 0 };
    const deadline = Date.now() + 4 * HEAL_MS;
    while (Date.now() < deadline) {
      d.attempts++;
      const res = await fetch(`${server.url}/ingest/v1/${project}/access-logs?format=combined_host`, {
        method: 'POST', body, headers: { 'content-type': 'text/plain', 'x-batch-id': id }, signal: AbortSignal.timeout(60_000),
      }).catch(() => undefined);
      await res?.arrayBuffer();
      d.statuses.push(res?.status ?? 0);
      if (res?.status === 200) {
        d.ackedAt = Date.now();
        return d;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`batch ${id} never acknowledged`);
  }

  async function stored(project: string, domain: string): Promise<{ status: number; count: number }> {
    const res = await fetch(`${server.url}/v2/${project}/stats/httpcodes?play_domains=${domain}`, { signal: AbortSignal.timeout(60_000) });
    if (res.status !== 200) return { status: res.status, count: -1 };
    const b = (await res.json()) as { data_series: Array<{ http_codes: Array<{ count: number }> }> };
    return { status: 200, count: b.data_series.reduce((n, s) => n + s.http_codes.reduce((m, c) => m + c.count, 0), 0) };
  }

  /** Each replica's own rows for the domain (not through Distributed): both must hold everything. */
  const onReplica = async (i: number, domain: string): Promise<number> =>
    Number((await cluster.servers[i]?.sql(`SELECT sum(count) FROM ${DB}.http_counts_bytes_local WHERE domain = '${domain}' AND code > 0`))?.trim());

  /**
   * Acknowledged batches before the fault, then batches posted during it (delivered in the
   * background), queries during it, healing, and the exact counts afterwards.
   */
  async function scenario(name: string, project: string, fault: () => Promise<void>, heal: () => Promise<void>, duringFault?: () => Promise<void>): Promise<void> {
    const domain = `${project}.repl.example`;
    const before: Delivery[] = [];
    for (let k = 0; k < 3; k++) before.push(await deliver(project, domain, `${project}-pre-${k}`, k));
    expect(await stored(project, domain)).toEqual({ status: 200, count: 3 * LINES });
    await fault();
    const faultAt = Date.now();
    const during = [3, 4, 5].map((k) => deliver(project, domain, `${project}-during-${k}`, k));
    let queriesOk = 0;
    // Queries keep answering, from the live replica: what was confirmed before the fault, at least.
    for (let q = 0; q < 3; q++) {
      const s = await stored(project, domain);
      expect(s.status, `query ${q} during "${name}"`).toBe(200);
      expect(s.count).toBeGreaterThanOrEqual(3 * LINES);
      expect(s.count).toBeLessThanOrEqual(6 * LINES);
      queriesOk++;
    }
    await duringFault?.();
    // Nothing posted during the fault is confirmed while it lasts (quorum 2 cannot be reached).
    await new Promise((r) => setTimeout(r, 2 * COMMIT_TIMEOUT_MS));
    const healAt = Date.now();
    await heal();
    const after = await Promise.all(during);
    for (const d of after) {
      expect(d.ackedAt, `${d.id} acknowledged only after healing`).toBeGreaterThanOrEqual(healAt);
      expect(d.statuses.filter((s) => s !== 200 && s !== 503), `${d.id}: ${d.statuses.join(',')}`).toEqual([]);
    }
    // Exactly once: every batch counted once through livestats, and each replica holds all of it.
    expect(await stored(project, domain)).toEqual({ status: 200, count: 6 * LINES });
    for (const i of [0, 1]) {
      expect(await waitFor(async () => (await onReplica(i, domain)) === 6 * LINES, HEAL_MS, 500), `replica ${i + 1} holds every count`).toBe(true);
    }
    recordFault({
      fault: `replicated ClickHouse (1 shard x 2 replicas, ZooKeeper, separate hosts${FALLBACK}): ${name}`,
      behaviour: `queries answered from the live replica (${queriesOk}/${queriesOk} during the fault); no batch confirmed until healing ` +
        `(${after.reduce((n, d) => n + d.attempts - 1, 0)} refused attempts, 503); after healing every batch counted once on both replicas`,
      acknowledged: 6 * LINES, lost: 0, doubleCounted: 0,
      details: { faultSeconds: Math.round((healAt - faultAt) / 1000) },
    });
  }

  it('a replica killed (SIGKILL), then restarted', async () => {
    const victim = cluster.servers[0];
    await scenario('a replica killed', 'killed', () => victim?.stop(true) ?? Promise.resolve(), async () => {
      await victim?.start();
    });
  }, 6 * HEAL_MS);

  it.runIf(FULL)(`a replica cut off from the network${FALLBACK}`, async () => {
    const victim = cluster.servers[0];
    const host = cluster.hosts?.[0];
    await scenario('a replica cut off from the network', 'cutoff', async () => {
      if (host && cluster.net) cluster.net.cut(host);
      else await victim?.pause();
    }, async () => {
      if (host && cluster.net) cluster.net.heal(host);
      else victim?.signal('SIGCONT');
    });
  }, 6 * HEAL_MS);

  it.runIf(FULL)('ZooKeeper down: the tables turn read-only, queries answer, writes wait for it', async () => {
    await scenario('ZooKeeper down (tables read-only)', 'zkdown', () => cluster.zk.stop(), () => cluster.zk.start(), async () => {
      // Every replica has noticed: its tables are read-only.
      for (const s of cluster.servers) {
        expect(await waitFor(async () => (await s.sql(`SELECT min(is_readonly) FROM system.replicas WHERE database = '${DB}'`)).trim() === '1', HEAL_MS, 500)).toBe(true);
      }
    });
  }, 6 * HEAL_MS);
});
