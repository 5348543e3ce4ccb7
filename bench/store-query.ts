/**
 * Query latency of the SQLite and ClickHouse stores on the same data, side by side.
 *
 *   npm run bench:store [-- --clickhouse-url http://user:pass@host:8123/db] [--minutes 1440] [--cells 100] [--runs 40]
 *
 * Without --clickhouse-url a temporary clickhouse-server is started (Debian package) and removed.
 * Loads minutes x 4 domains x cells count rows plus 2 carousel tasks x 3 h of samples into both
 * stores, then times the API (real HTTP) for a few typical requests: p50/p95 in ms and the
 * ClickHouse/SQLite ratio of the medians.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp } from '../src/api/app.js';
import { ISPS, REGIONS } from '../src/contract/values.js';
import { Aggregator } from '../src/ingest/aggregator.js';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import type { Store } from '../src/store/types.js';
import { startClickHouse, type ClickHouseServer } from '../test/harness/clickhouse.js';
import { formatUtcSecond } from '../src/contract/time.js';

const NOW = Date.UTC(2026, 10, 20, 12);
const DOMAINS = ['a.example.com', 'b.example.com', 'c.example.com', 'd.example.com'];
const CODES = [200, 206, 302, 304, 403, 404, 499, 500, 502, 503];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

async function load(store: Store, minutes: number, cells: number): Promise<number> {
  const r = rng(42);
  const agg = new Aggregator(store);
  let rows = 0;
  for (let m = 0; m < minutes; m++) {
    const t = NOW - (m + 1) * 60_000;
    for (const domain of DOMAINS) {
      for (let c = 0; c < cells; c++) {
        const region = REGIONS[Math.floor(r() * REGIONS.length)] ?? 'OT';
        const isp = ISPS[Math.floor(r() * ISPS.length)] ?? 'OTHER';
        const code = CODES[Math.floor(r() * r() * CODES.length)] ?? 200;
        agg.add({ project: 'bench', domain, time: t, region, isp, code }, 1 + Math.floor(r() * 50));
        rows++;
      }
    }
    if (m % 60 === 59) await agg.flush();
  }
  for (const taskId of ['task-1', 'task-2']) {
    for (let s = NOW - 3 * 3_600_000; s < NOW; s += 1000) {
      agg.addSample({ project: 'bench', taskId, second: s, videoFps: 25, videoKbps: 2000 + Math.floor(r() * 500), audioFps: 44, audioKbps: 128 });
    }
  }
  await agg.flush();
  return rows;
}

const QUERIES: Array<[string, string]> = [
  ['httpcodes 1 domain, 1 h', `/v2/bench/stats/httpcodes?play_domains=${DOMAINS[0]}`],
  ['httpcodes 4 domains, 24 h', `/v2/bench/stats/httpcodes?play_domains=${DOMAINS.join(',')}&start_time=${formatUtcSecond(NOW - 86_400_000)}&end_time=${formatUtcSecond(NOW)}`],
  ['httpcodes 4 domains, 24 h, region+isp', `/v2/bench/stats/httpcodes?play_domains=${DOMAINS.join(',')}&region=GD,BJ&isp=CTCC&start_time=${formatUtcSecond(NOW - 86_400_000)}&end_time=${formatUtcSecond(NOW)}`],
  ['httpcodes 2 domains, 6 h, code filter', `/v2/bench/stats/httpcodes?play_domains=${DOMAINS[1]},${DOMAINS[2]}&code=404,500&start_time=${formatUtcSecond(NOW - 21_600_000)}&end_time=${formatUtcSecond(NOW)}`],
  ['carousel detail 1 h', '/v2/bench/stats/carousel-task/detail?carousel_task_id=task-1'],
  ['carousel detail 3 h', `/v2/bench/stats/carousel-task/detail?carousel_task_id=task-2&start_time=${formatUtcSecond(NOW - 3 * 3_600_000)}`],
];

async function time(store: Store, runs: number): Promise<Map<string, number[]>> {
  const app = buildApp({ store, now: () => NOW, logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const out = new Map<string, number[]>();
  for (const [name, path] of QUERIES) {
    const ms: number[] = [];
    for (let i = 0; i < runs + 3; i++) {
      const t0 = performance.now();
      const res = await fetch(base + path);
      await res.text();
      if (res.status !== 200) throw new Error(`${name}: HTTP ${res.status}`);
      if (i >= 3) ms.push(performance.now() - t0);
    }
    out.set(name, ms.sort((a, b) => a - b));
  }
  await app.close();
  return out;
}

const pct = (xs: number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    'clickhouse-url': { type: 'string' }, minutes: { type: 'string' }, cells: { type: 'string' }, runs: { type: 'string' },
  } });
  const minutes = Number(values.minutes ?? 1440);
  const cells = Number(values.cells ?? 100);
  const runs = Number(values.runs ?? 40);
  const dir = mkdtempSync(join(tmpdir(), 'livestats-bench-'));
  let server: ClickHouseServer | undefined;
  const url = values['clickhouse-url'] ?? (server = await startClickHouse()).url(`bench_${Date.now()}`);
  const stores: Array<[string, Store]> = [
    ['sqlite', new SqliteStore(join(dir, 'bench.db'))],
    ['clickhouse', new ClickHouseStore({ url })],
  ];
  try {
    const results = new Map<string, Map<string, number[]>>();
    for (const [name, store] of stores) {
      await store.init();
      const t0 = performance.now();
      const rows = await load(store, minutes, cells);
      console.log(`${name}: loaded ${rows} count cells + 21600 samples in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      results.set(name, await time(store, runs));
    }
    console.log(`\n${'query'.padEnd(40)} ${'sqlite p50/p95 ms'.padStart(18)} ${'clickhouse p50/p95 ms'.padStart(22)} ${'ratio p50'.padStart(10)}`);
    for (const [q] of QUERIES) {
      const a = results.get('sqlite')?.get(q) ?? [];
      const b = results.get('clickhouse')?.get(q) ?? [];
      const cell = (xs: number[]): string => `${pct(xs, 0.5).toFixed(1)}/${pct(xs, 0.95).toFixed(1)}`;
      console.log(`${q.padEnd(40)} ${cell(a).padStart(18)} ${cell(b).padStart(22)} ${(pct(b, 0.5) / pct(a, 0.5)).toFixed(2).padStart(10)}`);
    }
  } finally {
    for (const [, s] of stores) await s.close();
    await server?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
