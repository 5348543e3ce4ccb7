import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { expect } from 'vitest';
import { allowAll } from '../../src/api/auth.js';
import { resolveServeConfig, type ServeConfig } from '../../src/config.js';
import type { AccessRecord } from '../../src/ingest/aggregator.js';
import { startServer, type RunningServer } from '../../src/server.js';
import type { SampleRow } from '../../src/store/types.js';

export interface Node extends RunningServer {
  /** GET over a real socket; returns status and the exact body text. */
  get(path: string): Promise<{ status: number; body: string }>;
}

/** Starts a livestats node on a free loopback port with a temp data dir and a pinned clock. */
export async function startNode(flags: Record<string, string>, now: number): Promise<Node> {
  const data = mkdtempSync(join(tmpdir(), 'livestats-node-'));
  const config: ServeConfig = resolveServeConfig({ port: '0', data, 'log-level': 'silent', ...flags }, {});
  // Authentication is tested on its own; these nodes compare stores, so they allow all.
  const server = await startServer(config, { logger: pino({ level: 'silent' }), now: () => now, authenticate: allowAll });
  const close = server.close.bind(server);
  return {
    ...server,
    async get(path) {
      const res = await fetch(server.url + path);
      return { status: res.status, body: await res.text() };
    },
    async close() {
      try {
        await close();
      } finally {
        rmSync(data, { recursive: true, force: true });
      }
    },
  };
}

/** Status and body of `path` through every node equal the reference's (the SQLite answer). */
export async function expectSameAnswers(reference: Node, nodes: readonly Node[], path: string): Promise<void> {
  const want = await reference.get(path);
  for (const node of nodes) {
    const got = await node.get(path);
    expect(got.status).toBe(want.status);
    expect(got.body === want.body, `body via ${node.url}`).toBe(true);
  }
}

/** The single-node SQLite answer the cluster tests compare against: one node fed the whole log and samples. */
export async function startReference(log: readonly AccessRecord[], samples: readonly SampleRow[], now: number): Promise<Node> {
  const reference = await startNode({}, now);
  for (const r of log) reference.aggregator.add(r);
  for (const s of samples) reference.aggregator.addSample(s);
  await reference.aggregator.flush();
  return reference;
}

/**
 * Two nodes ingest interleaved halves of one log concurrently, in batches of 5,000 records: the same
 * cells are written by both. Samples are split by second ("latest wins" is per writer order, and a
 * second has one writer here). `flush` empties one node's queue after each batch.
 */
export async function ingestHalves(
  nodes: readonly Node[], log: readonly AccessRecord[], samples: readonly SampleRow[], flush: (node: Node) => Promise<void>,
): Promise<void> {
  await Promise.all(nodes.map(async (node, k) => {
    for (let i = 0; i < log.length; i += 5_000) {
      log.slice(i, i + 5_000).forEach((r, j) => {
        if (j % 2 === k) node.aggregator.add(r);
      });
      for (const s of samples.slice(i / 5, (i + 5_000) / 5)) {
        if (Math.floor(s.second / 1000) % 2 === k) node.aggregator.addSample(s);
      }
      await flush(node);
    }
  }));
}
