/**
 * The ClickHouse store's write path against the SQLite store's, same run (`npm run bench -- ingest
 * --store clickhouse`): the dense ingest file (generate-dense.ts) through `livestats ingest` into each
 * store, interleaved rounds (best wall time; CPU time of the ingest process and of clickhouse-server
 * beside), then, on each store's ingested data, the heaviest httpcodes query (10 domains, region +
 * isp + code: the detail table) at 10 connections while the mixed probe (mixed-probe.ts, its own
 * process) posts 500-line ingest batches and polls /healthz: ack and /healthz latency under load.
 * clickhouse-server is started by the bench (test/harness/clickhouse.ts), as in the dense query bench.
 */
import { execFileSync, fork, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startClickHouse } from '../../test/harness/clickhouse.js';
import { childrenCpuMs } from '../lib/child-cpu.js';
import { load, type LoadResult } from '../lib/load.js';
import { startProcess } from '../lib/proc.js';
import { table } from '../lib/table.js';
import type { ProbeOptions, ProbeResult } from '../query/mixed-probe.js';
import { DENSE_DOMAINS, DENSE_FORMAT, writeDenseLog } from './generate-dense.js';

const PROJECT = 'bench';

export interface StoreIngest {
  /** Best wall time of the rounds, and the CPU times (ms) of that round. */
  ms: number;
  linesPerSecond: number;
  cpuMs: number | undefined;
  /** clickhouse-server's CPU time during that round (ClickHouse only). */
  serverCpuMs?: number;
}

export interface StoreMixed {
  query: LoadResult;
  ackP50: number;
  ackP99: number;
  ackMax: number;
  acks: number;
  healthP99: number;
  healthPolls: number;
}

export interface ClickHouseIngestResult {
  lines: number;
  bytes: number;
  rounds: number;
  sqlite: StoreIngest;
  clickhouse: StoreIngest;
  mixedSeconds: number;
  mixed: { sqlite: StoreMixed; clickhouse: StoreMixed };
}

function procCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number);
};
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export async function runClickHouseIngestBench(o: {
  root: string; lines: number; rounds: number; mixedSeconds: number; log: (s: string) => void;
}): Promise<ClickHouseIngestResult> {
  const dir = join(o.root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `access-dense-${o.lines}.log`);
  const end = Date.now() - 5 * 60_000;
  const bytes = await writeDenseLog(file, o.lines, end, 3600_000);
  o.log(`generated ${o.lines} dense lines (${(bytes / 2 ** 20).toFixed(0)} MiB): ${file}`);
  const bin = join(o.root, 'bin', 'livestats.js');
  const server = await startClickHouse();
  const best = {
    sqlite: { ms: Infinity, linesPerSecond: 0, cpuMs: undefined } as StoreIngest,
    clickhouse: { ms: Infinity, linesPerSecond: 0, cpuMs: undefined } as StoreIngest,
  };
  const kept: { sqlite?: string; clickhouse?: string } = {};
  const dirs: string[] = [];
  try {
    const ingest = (store: 'sqlite' | 'clickhouse', round: number): string => {
      const data = mkdtempSync(join(tmpdir(), 'livestats-bench-chi-'));
      dirs.push(data);
      const url = server.url(`bench_ingest_${round}`);
      const flags = store === 'clickhouse' ? ['--store', 'clickhouse', '--clickhouse-url', url] : [];
      const cpu0 = childrenCpuMs();
      const s0 = procCpuMs(server.pid());
      const t = performance.now();
      const r = spawnSync(process.execPath, [bin, 'ingest', '--project', PROJECT, '--format', DENSE_FORMAT.slice(1, -1), '--data', data, '--json', ...flags, file],
        { encoding: 'utf8', maxBuffer: 64 << 20 });
      const ms = performance.now() - t;
      const cpu1 = childrenCpuMs();
      const s1 = procCpuMs(server.pid());
      if (r.status !== 0) throw new Error(`ingest into ${store} failed (${r.status}): ${r.stderr}`);
      const stats = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { accepted?: number };
      if (stats.accepted !== o.lines) throw new Error(`ingest into ${store} accepted ${stats.accepted} of ${o.lines}`);
      const cpuMs = cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined;
      o.log(`round ${round + 1}: ${store} ${(ms / 1000).toFixed(2)} s (cpu ${cpuMs === undefined ? '?' : (cpuMs / 1000).toFixed(2)} s` +
        `${store === 'clickhouse' ? `, clickhouse-server ${((s1 - s0) / 1000).toFixed(2)} s` : ''})`);
      const b = best[store];
      if (ms < b.ms) {
        best[store] = { ms, linesPerSecond: Math.round(o.lines / (ms / 1000)), cpuMs, ...(store === 'clickhouse' ? { serverCpuMs: s1 - s0 } : {}) };
      }
      kept[store] = store === 'clickhouse' ? url : data;
      return data;
    };
    for (let round = 0; round < o.rounds; round++) {
      // Alternate which store goes first (page cache, the machine's other load).
      const order: Array<'sqlite' | 'clickhouse'> = round % 2 === 0 ? ['sqlite', 'clickhouse'] : ['clickhouse', 'sqlite'];
      for (const s of order) ingest(s, round);
    }
    const mixedFor = async (store: 'sqlite' | 'clickhouse'): Promise<StoreMixed> => {
      // The SQLite node serves the data directory it ingested into; the ClickHouse node a fresh one over the database.
      const data = store === 'sqlite' ? kept.sqlite as string : mkdtempSync(join(tmpdir(), 'livestats-bench-chi-'));
      if (store === 'clickhouse') dirs.push(data);
      const flags = store === 'clickhouse' ? ['--store', 'clickhouse', '--clickhouse-url', kept.clickhouse as string] : [];
      const keys = JSON.parse(execFileSync(process.execPath, [bin, 'keys', 'create', '--project', PROJECT, '--json', '--data', data]).toString()) as { token: string };
      const serve = await startProcess([bin, 'serve', '--data', data, ...flags, '--port', '0', '--log-level', 'warn', '--query-cache-ms', '0']);
      try {
        const domains = Array.from({ length: DENSE_DOMAINS }, (_, i) => `play${i}.dense.example.com`);
        const from = Math.floor((end - 3600_000) / 3600_000) * 3600_000;
        const to = Math.ceil(end / 3600_000) * 3600_000;
        const path = `/v2/${PROJECT}/stats/httpcodes?play_domains=${domains.join(',')}&start_time=${iso(from)}&end_time=${iso(to)}&region=GD,SH&isp=CMCC&code=200,404`;
        const headers = { 'x-auth-token': keys.token };
        const first = await fetch(serve.url + path, { headers });
        if (first.status !== 200) throw new Error(`${store}: the heaviest query answered ${first.status}: ${(await first.text()).slice(0, 200)}`);
        await first.arrayBuffer();
        o.log(`mixed (${store}): heaviest query at 10 connections + ingest POST every 200 ms + /healthz every 50 ms, ${o.mixedSeconds} s`);
        const options: ProbeOptions = {
          url: serve.url, token: keys.token, project: PROJECT, domains, lines: 500, postGapMs: 200, healthGapMs: 50, latest: Date.now(),
        };
        const child = fork(fileURLToPath(new URL('../query/mixed-probe.js', import.meta.url)), [JSON.stringify(options)], { stdio: 'inherit' });
        const result = new Promise<ProbeResult>((resolve, reject) => {
          child.once('message', (m) => resolve(m as ProbeResult));
          child.once('exit', (code) => reject(new Error(`mixed probe exited with code ${code} before its result`)));
        });
        let query: LoadResult;
        try {
          query = await load(`mixed (${store})`, serve.url + path, { connections: 10, seconds: o.mixedSeconds, headers });
        } finally {
          child.send('stop');
        }
        const p = await result;
        if (p.failures > 0) throw new Error(`mixed (${store}): ${p.failures} ingest or /healthz answers were not 200`);
        return {
          query, ackP50: pct(p.acks, 50), ackP99: pct(p.acks, 99), ackMax: Math.max(0, ...p.acks), acks: p.acks.length,
          healthP99: pct(p.health, 99), healthPolls: p.health.length,
        };
      } finally {
        await serve.stop();
      }
    };
    const mixed = { sqlite: await mixedFor('sqlite'), clickhouse: await mixedFor('clickhouse') };
    return { lines: o.lines, bytes, rounds: o.rounds, sqlite: best.sqlite, clickhouse: best.clickhouse, mixedSeconds: o.mixedSeconds, mixed };
  } finally {
    await server.destroy();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

export function clickHouseIngestTable(r: ClickHouseIngestResult): string {
  const s = (ms: number | undefined): string => (ms === undefined ? '' : (ms / 1000).toFixed(2));
  const ratio = (ch: number, sq: number): string => (sq > 0 ? `${(ch / sq).toFixed(2)}x` : '');
  const m = r.mixed;
  return table(['row', 'SQLite store', 'ClickHouse store', 'ClickHouse / SQLite'], [
    [`dense file ingest, lines/s (best of ${r.rounds})`, r.sqlite.linesPerSecond, r.clickhouse.linesPerSecond, ratio(r.clickhouse.linesPerSecond, r.sqlite.linesPerSecond)],
    ['  wall s', s(r.sqlite.ms), s(r.clickhouse.ms), ''],
    ['  CPU s of the ingest process', s(r.sqlite.cpuMs), s(r.clickhouse.cpuMs), ''],
    ['  CPU s of clickhouse-server', '', s(r.clickhouse.serverCpuMs), ''],
    ['heaviest query req/s while ingesting (10 conn.)', m.sqlite.query.rps, m.clickhouse.query.rps, ratio(m.clickhouse.query.rps, m.sqlite.query.rps)],
    ['  its p99 ms', m.sqlite.query.p99, m.clickhouse.query.p99, ''],
    [`ingest POST (500 lines) ack p50 ms`, m.sqlite.ackP50, m.clickhouse.ackP50, ''],
    [`  ack p99 ms (${m.sqlite.acks} / ${m.clickhouse.acks} posts)`, m.sqlite.ackP99, m.clickhouse.ackP99, ''],
    ['  ack max ms', m.sqlite.ackMax, m.clickhouse.ackMax, ''],
    [`/healthz p99 ms (${m.sqlite.healthPolls} / ${m.clickhouse.healthPolls} polls)`, m.sqlite.healthP99, m.clickhouse.healthP99, ''],
  ]);
}
