import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocate, launch, type ClickHouseServer, type Ports } from './clickhouse.js';
import { makeNet, type Net, type NetHost } from './netns.js';
import { freePort } from './ports.js';
import { zooKeeper, type ZooKeeper } from './zookeeper.js';

/**
 * The replicated ClickHouse layout: `shards` x `replicas` real clickhouse-server processes and one
 * real ZooKeeper, every server knowing the cluster (`internal_replication`: the Distributed tables
 * write one replica per shard, replication copies it to the others) and its {shard}/{replica}
 * macros. With `netns`, every server and ZooKeeper runs on a host of its own (a network namespace
 * joined by a veth pair, test/harness/netns.ts), so one can be cut off; otherwise all on loopback.
 */
export interface ReplicatedCluster {
  name: string;
  zk: ZooKeeper;
  /** Shard-major: shard 1's replicas, then shard 2's, ... */
  servers: ClickHouseServer[];
  /** The host of each server (same order), and ZooKeeper's, with `netns`. */
  hosts?: NetHost[];
  zkHost?: NetHost;
  net?: Net;
  /** The comma-separated --clickhouse-url naming every server, starting at `first`. */
  urls(database: string, first?: number): string;
  destroy(): Promise<void>;
}

export async function startReplicatedCluster(options: { name: string; shards: number; replicas: number; netns?: boolean }): Promise<ReplicatedCluster> {
  const { name, shards, replicas } = options;
  const labels: string[] = [];
  for (let s = 1; s <= shards; s++) for (let r = 1; r <= replicas; r++) labels.push(`s${s}r${r}`);
  const net = options.netns ? makeNet(['zk', ...labels]) : undefined;
  const zkHost = net?.hosts[0];
  const hosts = net?.hosts.slice(1);
  const zk = zooKeeper({ host: zkHost?.ip ?? '127.0.0.1', port: await freePort(), ...(zkHost ? { netns: zkHost.netns } : {}) });
  const ports: (Ports & { interserver: number })[] = [];
  for (const _ of labels) ports.push({ ...(await allocate()), interserver: await freePort() });
  const hostOf = (i: number): string => hosts?.[i]?.ip ?? '127.0.0.1';
  const shardXml: string[] = [];
  for (let s = 0; s < shards; s++) {
    const members = labels.map((_, i) => i).filter((i) => Math.floor(i / replicas) === s)
      .map((i) => `<replica><host>${hostOf(i)}</host><port>${ports[i]?.tcp ?? 0}</port></replica>`);
    shardXml.push(`<shard><internal_replication>true</internal_replication>${members.join('')}</shard>`);
  }
  const remoteServers = `<remote_servers><${name}>${shardXml.join('')}</${name}></remote_servers>`;
  const servers = labels.map((label, i) => launch(mkdtempSync(join(tmpdir(), 'livestats-ch-')), ports[i] as Ports, undefined, {
    placement: {
      host: hostOf(i), ...(hosts?.[i] ? { netns: hosts[i].netns } : {}), remoteServers,
      zookeeper: [{ host: zk.host, port: zk.port }], macros: { shard: String(Math.floor(i / replicas) + 1), replica: label },
      interserverPort: ports[i]?.interserver ?? 0,
    },
  }));
  const cluster: ReplicatedCluster = {
    name, zk, servers, ...(hosts ? { hosts } : {}), ...(zkHost ? { zkHost } : {}), ...(net ? { net } : {}),
    urls: (database, first = 0) => [...servers.slice(first), ...servers.slice(0, first)].map((s) => s.url(database)).join(','),
    async destroy() {
      await Promise.all(servers.map((s) => s.destroy()));
      await zk.destroy();
      net?.destroy();
    },
  };
  try {
    await zk.start();
    await Promise.all(servers.map((s) => s.start()));
    // ZooKeeper answers ruok before it takes sessions; on a busy machine a server's first session can
    // fail its handshake ("All connection tries failed"). Each server retries on its next use: use it
    // until it reads ZooKeeper, before the caller creates replicated tables.
    await Promise.all(servers.map((s) => untilReadsZooKeeper(s)));
  } catch (err) {
    await cluster.destroy();
    throw err;
  }
  return cluster;
}

/** Polls `server` until it reads ZooKeeper's root (at most 120 s: a hang catcher for a busy machine). */
async function untilReadsZooKeeper(server: ClickHouseServer): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      await server.sql("SELECT count() FROM system.zookeeper WHERE path = '/'");
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
