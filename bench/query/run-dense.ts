import { execFileSync, fork } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { layoutMeta } from '../../src/store/sqlite/layout-meta.js';
import { SQLITE_SCHEMA_VERSION } from '../../src/store/sqlite/migrate.js';
import { SQLITE_PAGE_SIZE, SqliteStore } from '../../src/store/sqlite/store.js';
import { load, type LoadResult } from '../lib/load.js';
import { startProcess } from '../lib/proc.js';
import { table } from '../lib/table.js';
import type { ProbeOptions, ProbeResult } from './mixed-probe.js';
import { DENSE, denseDomain, denseTask, generateDense, type DenseStats } from './dense.js';
import { denseTrafficQueries } from './run-dense-traffic.js';
import { denseAudienceQueries } from './run-dense-audience.js';
import { writeDenseAudience, type DenseAudienceStats } from './dense-audience.js';
import { prepareDenseClickHouse, type DenseClickHouseDataset, type DenseClickHouseRow } from './dense-clickhouse.js';

const HOUR = 3_600_000;

export interface DenseBenchResult {
  /**
   * bytesOnDisk: the whole file; countBytesOnDisk: without the traffic cube's tables (the httpcodes
   * levels, samples and the rest); bytesPerCell = countBytesOnDisk / cells.
   */
  dataset: DenseStats & Partial<DenseAudienceStats> & { bytesOnDisk: number; countBytesOnDisk: number; bytesPerCell: number; generatedMs: number; reused: boolean; anchor: number };
  rows: Array<{
    name: string; bytes: number; livestats: LoadResult; bare: LoadResult; ratio: number; clickhouse?: DenseClickHouseRow;
    /** `store: 'clickhouse'`: the same row against the SQLite store on the same dataset, same run; vsSqlite = livestats req/s / its req/s. */
    sqlite?: LoadResult; vsSqlite?: number;
  }>;
  /** Absent when `rows: 'audience'` ran the audience rows alone. */
  mixed?: {
    query: LoadResult; ackP50: number; ackP99: number; ackMax: number; acks: number; healthP99: number; healthMax: number; healthPolls: number;
    /** Event-loop delay p99 (ms) of the probe process and of this one (autocannon's) during the row. */
    probeLoopDelayP99: number; benchLoopDelayP99: number;
  };
  maxRssMiB: number;
  /** Server RSS max (MiB) while each step ran: the query rows by name, then 'mixed'. */
  rssByRowMiB: Record<string, number>;
  /** With `store: 'clickhouse'`: the same dataset in ClickHouse (the rows ran against it). */
  clickhouse?: DenseClickHouseDataset;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number);
};

/** The cost of a stored httpcodes cell: the file without the traffic and audience cubes' tables (measured by dbstat), / cells. */
function cellCost(d: DenseStats & Partial<DenseAudienceStats> & { bytesOnDisk: number }): { countBytesOnDisk: number; bytesPerCell: number } {
  const countBytesOnDisk = d.bytesOnDisk - d.trafficDomainTableBytes - d.trafficStreamTableBytes - (d.audienceTableBytes ?? 0);
  return { countBytesOnDisk, bytesPerCell: countBytesOnDisk / d.cells };
}

async function prepare(root: string, log: (s: string) => void): Promise<{ dir: string; ds: DenseBenchResult['dataset'] }> {
  const dir = join(root, '.bench-data', 'dense');
  const file = join(dir, 'livestats.db');
  // The stored layout is part of the key: a dataset written by another format is regenerated.
  const key = JSON.stringify({ ...DENSE, layout: layoutMeta(), schema: SQLITE_SCHEMA_VERSION, pageSize: SQLITE_PAGE_SIZE });
  if (existsSync(file)) {
    const db = new SqliteStore(file);
    const meta = db['db'].prepare("SELECT value FROM meta WHERE key = 'bench.dense'").pluck().get() as string | undefined;
    void db.close();
    if (meta) {
      const saved = JSON.parse(meta) as DenseBenchResult['dataset'] & { key: string };
      if (saved.key === key && Date.now() - saved.anchor < 12 * HOUR) {
        log(`dense: reusing the dataset generated ${iso(saved.anchor)}`);
        return { dir, ds: { ...saved, ...cellCost(saved), reused: true } };
      }
    }
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const anchor = Math.floor(Date.now() / HOUR) * HOUR + HOUR;
  const store = new SqliteStore(file);
  const started = Date.now();
  await store.init();
  log(`dense: generating ${DENSE.days} d x ${DENSE.domains} domains (top ${DENSE.top} dense) + ${DENSE.tasks} carousel tasks through the bulk path`);
  const stats = generateDense(store, DENSE, anchor, log);
  // The audience (issue 21) ends where the query rows do: the last whole hour before the anchor.
  const audience = await writeDenseAudience(store, DENSE.audience, DENSE.project, denseDomain, anchor - HOUR, log);
  const generatedMs = Date.now() - started;
  store['db'].pragma('wal_checkpoint(TRUNCATE)');
  const bytesOnDisk = statSync(file).size;
  const ds = { ...stats, ...audience, bytesOnDisk, ...cellCost({ ...stats, ...audience, bytesOnDisk }), generatedMs, reused: false, anchor };
  store['db'].prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('bench.dense', ?)").run(JSON.stringify({ key, ...ds }));
  await store.close();
  return { dir, ds };
}

function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * `rows: 'audience'`: the four audience rows alone (no mixed row); with `store: 'clickhouse'` only the
 * audience cube is loaded into ClickHouse (prepareDenseClickHouse's `only`).
 */
export async function runDenseBench(o: { root: string; log: (s: string) => void; seconds?: number; store?: string; rows?: 'audience' }): Promise<DenseBenchResult> {
  const { dir: sqliteDir, ds } = await prepare(o.root, o.log);
  const ch = o.store === 'clickhouse'
    ? await prepareDenseClickHouse({ root: o.root, anchor: ds.anchor, sqliteDir, log: o.log, ...(o.rows ? { only: o.rows } : {}) })
    : undefined;
  const dir = ch?.dataDir ?? sqliteDir;
  o.log(`dense: ${ds.cells} cells (${ds.requests} requests), ${(ds.bytesOnDisk / 2 ** 20).toFixed(0)} MiB, ${ds.bytesPerCell.toFixed(2)} bytes/cell, ` +
    `head domain min ${ds.headCellsPerMinute} cells/minute${ds.reused ? '' : `, generated in ${(ds.generatedMs / 1000).toFixed(1)} s`}`);
  const keys = JSON.parse(execFileSync(process.execPath, [join(o.root, 'bin/livestats.js'), 'keys', 'create', '--project', DENSE.project,
    '--json', '--data', dir]).toString()) as { token: string };
  const headers = { 'x-auth-token': keys.token };
  const seconds = o.seconds ?? 8;
  const serve = await startProcess([join(o.root, 'bin/livestats.js'), 'serve', '--data', dir, ...(ch?.serveFlags ?? []), '--port', '0', '--log-level', 'warn',
    '--query-cache-ms', '0', '--retention-days', '30', '--audience-retention-days', '40']);
  let maxRss = 0;
  let rowRss = 0;
  const rssByRowMiB: Record<string, number> = {};
  const rssTimer = setInterval(() => {
    const now = rssMiB(serve.child.pid);
    maxRss = Math.max(maxRss, now);
    rowRss = Math.max(rowRss, now);
  }, 250);
  const end = ds.anchor - HOUR;
  const top10 = Array.from({ length: 10 }, (_, i) => denseDomain(i + 1)).join(',');
  const day = `start_time=${iso(end - 24 * HOUR)}&end_time=${iso(end)}`;
  const all = [
    { name: '1 h x 1 domain', path: `/v2/${DENSE.project}/stats/httpcodes?play_domains=${denseDomain(1)}&start_time=${iso(end - HOUR)}&end_time=${iso(end)}` },
    { name: '24 h x 10 domains', path: `/v2/${DENSE.project}/stats/httpcodes?play_domains=${top10}&${day}` },
    { name: '24 h x 10 domains, region GD,SH + isp CMCC + code 200,404', path: `/v2/${DENSE.project}/stats/httpcodes?play_domains=${top10}&${day}&region=GD,SH&isp=CMCC&code=200,404` },
    { name: '24 h x 10 domains, isp CMCC only', path: `/v2/${DENSE.project}/stats/httpcodes?play_domains=${top10}&${day}&isp=CMCC` },
    { name: '24 h x 10 domains, region GD only', path: `/v2/${DENSE.project}/stats/httpcodes?play_domains=${top10}&${day}&region=GD` },
    { name: 'carousel 3 h', path: `/v2/${DENSE.project}/stats/carousel-task/detail?carousel_task_id=${denseTask(0)}&start_time=${iso(end - 3 * HOUR)}&end_time=${iso(end)}` },
    ...denseTrafficQueries(end),
  ];
  const audience = denseAudienceQueries(end);
  const list = o.rows === 'audience' ? audience : [...all, ...audience];
  const rows: DenseBenchResult['rows'] = [];
  let mixed: DenseBenchResult['mixed'];
  try {
    for (const s of list) {
      let res = await fetch(serve.url + s.path, { headers });
      // ClickHouse: a cold answer (no hour blocks yet, their builds queued behind it) may time out on a busy machine; the warm-up follows.
      for (let i = 0; ch && res.status === 500 && i < 3; i++) {
        o.log(`dense clickhouse: ${s.name}: HTTP 500 on a cold answer (${(await res.text()).slice(0, 120)}); asking again in 10 s`);
        await new Promise((r) => setTimeout(r, 10_000));
        res = await fetch(serve.url + s.path, { headers });
      }
      const body = Buffer.from(await res.arrayBuffer());
      if (res.status !== 200) throw new Error(`${s.name}: HTTP ${res.status} ${body.toString().slice(0, 200)}`);
      await ch?.sameAsSqlite(s.name, s.path, body);
      if (ch) await warmUp(s.name, serve.url + s.path, headers, o.log);
      const bodyFile = join(dir, 'bare-body.json');
      writeFileSync(bodyFile, body);
      const bare = await startProcess([join(o.root, 'dist/bench/query/bare-server.js'), bodyFile]);
      try {
        o.log(`dense load: ${s.name} (${body.length} bytes, 10 connections, ${seconds} s, uncached, then the bare server)`);
        const probe = ch?.probe();
        const ls = await load(s.name, serve.url + s.path, { connections: 10, seconds, headers });
        const clickhouse = await probe?.end();
        const other = ch?.sqlite();
        const sqlite = other ? await load(`sqlite: ${s.name}`, other.url + s.path, { connections: 10, seconds, headers: other.headers }) : undefined;
        const b = await load(`bare: ${s.name}`, bare.url + '/', { connections: 10, seconds });
        rows.push({ name: s.name, bytes: body.length, livestats: ls, bare: b, ratio: ls.rps / b.rps, clickhouse,
          ...(sqlite ? { sqlite, vsSqlite: ls.rps / sqlite.rps } : {}) });
        rssByRowMiB[s.name] = rowRss;
        rowRss = 0;
      } finally {
        await bare.stop();
      }
    }
    // 2.5x a query row: ~90 acknowledgements, so the p99 is not just the slowest one.
    if (o.rows !== 'audience') {
      mixed = await mixedRow(serve.url, all[1]?.path ?? '', headers, Math.round(seconds * 2.5), ds.anchor, o.log);
      rssByRowMiB.mixed = rowRss;
    }
  } finally {
    clearInterval(rssTimer);
    await serve.stop();
    await ch?.close();
  }
  return { dataset: ds, rows, mixed, maxRssMiB: maxRss, rssByRowMiB, ...(ch ? { clickhouse: ch.ds } : {}) };
}

/**
 * The heaviest query at 10 connections while an ingest batch is posted every 200 ms (after each
 * acknowledgement) into the dataset's newest (dense) hour, and /healthz polled every 50 ms. The poster and the poller run in a process of
 * their own (mixed-probe.ts): timed in this process, they had included its event-loop delay while
 * autocannon ran here (`benchLoopDelayP99` shows how much that is).
 */
async function mixedRow(url: string, path: string, headers: Record<string, string>, seconds: number, anchor: number, log: (s: string) => void): Promise<DenseBenchResult['mixed']> {
  log(`dense mixed: 24 h x 10 domains at 10 connections + ingest POST every 200 ms + /healthz every 50 ms (${seconds} s, probe in its own process)`);
  const options: ProbeOptions = {
    url, token: headers['x-auth-token'] ?? '', project: DENSE.project,
    domains: Array.from({ length: 10 }, (_, i) => denseDomain(i + 1)), lines: 500, postGapMs: 200, healthGapMs: 50, latest: anchor,
  };
  const child = fork(fileURLToPath(new URL('./mixed-probe.js', import.meta.url)), [JSON.stringify(options)], { stdio: 'inherit' });
  const result = new Promise<ProbeResult>((resolve, reject) => {
    child.once('message', (m) => resolve(m as ProbeResult));
    child.once('exit', (code) => reject(new Error(`mixed probe exited with code ${code} before its result`)));
  });
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  let query: LoadResult;
  try {
    query = await load('mixed: 24 h x 10 domains', url + path, { connections: 10, seconds, headers });
  } finally {
    loop.disable();
    child.send('stop');
  }
  const p = await result;
  if (p.failures > 0) throw new Error(`mixed row: ${p.failures} ingest or /healthz answers were not 200`);
  return {
    query, ackP50: pct(p.acks, 50), ackP99: pct(p.acks, 99), ackMax: Math.max(0, ...p.acks), acks: p.acks.length,
    healthP99: pct(p.health, 99), healthMax: Math.max(0, ...p.health), healthPolls: p.health.length,
    probeLoopDelayP99: p.loopDelayP99, benchLoopDelayP99: loop.percentile(99) / 1e6,
  };
}

/**
 * The ClickHouse store builds a node's hour blocks in the background after the first query over
 * closed hours (src/store/clickhouse/hour-blocks.ts): one request at a time until the answer time
 * settles (5 answers in a row within 1.5x the fastest, after at least 3 s; at most 30 s), so the
 * row measures the steady state. The time it took is logged.
 */
async function warmUp(name: string, url: string, headers: Record<string, string>, log: (s: string) => void): Promise<void> {
  const started = Date.now();
  let fastest = Infinity;
  let settled = 0;
  let first = 0;
  while (Date.now() - started < 30_000) {
    const t0 = performance.now();
    const res = await fetch(url, { headers });
    await res.arrayBuffer();
    const ms = performance.now() - t0;
    if (first === 0) first = ms;
    fastest = Math.min(fastest, ms);
    settled = ms <= 1.5 * fastest ? settled + 1 : 0;
    if (settled >= 5 && Date.now() - started >= 3000) break;
  }
  log(`dense clickhouse: ${name}: warmed up in ${((Date.now() - started) / 1000).toFixed(1)} s (first answer ${first.toFixed(0)} ms, fastest ${fastest.toFixed(0)} ms)`);
}

export function denseTable(r: DenseBenchResult): string {
  return table(
    ['query (uncached, 10 connections)', 'KB/resp', 'req/s', 'p50 ms', 'p99 ms', 'bare req/s (same bytes)', 'x bare'],
    r.rows.map((x) => [x.name, x.bytes / 1024, x.livestats.rps, x.livestats.p50, x.livestats.p99, x.bare.rps, x.ratio]),
  );
}

export function mixedTable(r: DenseBenchResult): string {
  const m = r.mixed;
  if (!m) return '';
  return table(['mixed row', 'value'], [
    ['24 h x 10 domains req/s while ingesting', m.query.rps],
    ['  its p99 ms', m.query.p99],
    [`ingest POST (500 lines) ack p50 ms (${m.acks} posts)`, m.ackP50],
    ['  ack p99 ms', m.ackP99],
    ['  ack max ms', m.ackMax],
    [`/healthz p99 ms (${m.healthPolls} polls)`, m.healthP99],
    ['  /healthz max ms', m.healthMax],
    ['server RSS max MiB (whole dense run)', r.maxRssMiB],
    ['event-loop delay p99 ms: probe process / autocannon process', `${m.probeLoopDelayP99.toFixed(1)} / ${m.benchLoopDelayP99.toFixed(1)}`],
  ]);
}
