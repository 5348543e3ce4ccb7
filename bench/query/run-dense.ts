import { execFileSync, fork } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
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
import { warmRow, type WarmResult } from './dense-clickhouse-warm.js';

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
    /** `store: 'clickhouse'`: how the row's blocks were warmed up (dense-clickhouse-warm.ts) before it was measured (the body left out). */
    warm?: WarmResult;
    /**
     * `store: 'clickhouse'`: the ClickHouse answers that differ from SQLite's, byte for byte (empty: none). Checked: the
     * first answer (SQL), the last warm-up answer (blocks) and one right after the row's load.
     */
    mismatches?: string[];
  }>;
  /** Absent when `rows: 'audience'` ran the audience rows alone. */
  mixed?: MixedResult;
  /** `store: 'clickhouse'`: the same mixed row against the SQLite store on the same dataset, right after. */
  mixedSqlite?: MixedResult;
  /** Load average (1 / 5 / 15 min) when the first row started and after the mixed row(s): other work shares the cores. */
  loadStart: string;
  loadEnd: string;
  maxRssMiB: number;
  /** Server RSS max (MiB) while each step ran: the query rows by name, then 'mixed'. */
  rssByRowMiB: Record<string, number>;
  /** With `store: 'clickhouse'`: the same dataset in ClickHouse (the rows ran against it). */
  clickhouse?: DenseClickHouseDataset;
}

export interface MixedResult {
  query: LoadResult; ackP50: number; ackP99: number; ackMax: number; acks: number; healthP99: number; healthMax: number; healthPolls: number;
  /** Event-loop delay p99 (ms) of the probe process and of this one (autocannon's) during the row. */
  probeLoopDelayP99: number; benchLoopDelayP99: number;
}

const loadNow = (): string => loadavg().map((x) => x.toFixed(1)).join(' / ');
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

/**
 * How long a generated dataset is reused: 12 hours, or BENCH_DENSE_REUSE_HOURS (1-48). Every row is anchored to the
 * dataset's own end, and its oldest data (7 days of counts, 32 of audience) stays inside the retention the bench serves
 * with (30 and 40 days) for 48 hours; regenerating takes over an hour on a 2-core machine.
 */
function reuseHours(env: NodeJS.ProcessEnv = process.env): number {
  const hours = Number(env.BENCH_DENSE_REUSE_HOURS ?? 12);
  if (!Number.isInteger(hours) || hours < 1 || hours > 48) throw new Error('BENCH_DENSE_REUSE_HOURS: a whole number of hours, 1-48');
  return hours;
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
      if (saved.key === key && Date.now() - saved.anchor < reuseHours() * HOUR) {
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
  // A generous start timeout: on a machine at load average 20-30 a server's start alone has taken over a minute.
  const serve = await startProcess([join(o.root, 'bin/livestats.js'), 'serve', '--data', dir, ...(ch?.serveFlags ?? []), '--port', '0', '--log-level', 'warn',
    '--query-cache-ms', '0', '--retention-days', '30', '--audience-retention-days', '40'], {}, 300_000);
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
  // blocks: on the ClickHouse store the answer comes from the node's hour blocks of these tables once they are built (warmed up before the row).
  const all: Array<{ name: string; path: string; blocks?: string }> = [
    { name: '1 h x 1 domain', blocks: 'http_counts', path: `/v2/${DENSE.project}/stats/httpcodes?play_domains=${denseDomain(1)}&start_time=${iso(end - HOUR)}&end_time=${iso(end)}` },
    { name: '24 h x 10 domains', blocks: 'http_counts', path: `/v2/${DENSE.project}/stats/httpcodes?play_domains=${top10}&${day}` },
    { name: '24 h x 10 domains, region GD,SH + isp CMCC + code 200,404', blocks: 'http_counts', path: `/v2/${DENSE.project}/stats/httpcodes?play_domains=${top10}&${day}&region=GD,SH&isp=CMCC&code=200,404` },
    { name: '24 h x 10 domains, isp CMCC only', blocks: 'http_counts', path: `/v2/${DENSE.project}/stats/httpcodes?play_domains=${top10}&${day}&isp=CMCC` },
    { name: '24 h x 10 domains, region GD only', blocks: 'http_counts', path: `/v2/${DENSE.project}/stats/httpcodes?play_domains=${top10}&${day}&region=GD` },
    { name: 'carousel 3 h', blocks: 'carousel_', path: `/v2/${DENSE.project}/stats/carousel-task/detail?carousel_task_id=${denseTask(0)}&start_time=${iso(end - 3 * HOUR)}&end_time=${iso(end)}` },
    // Every row is answered from blocks once built: the traffic rows without a stream or filter from the per-domain traffic blocks,
    // the stream row from the traffic cells (traffic-cells.ts).
    ...denseTrafficQueries(end, ch?.ds.trafficLoad).map((q) => ({ ...q, blocks: 'traffic_' })),
  ];
  // On ClickHouse the audience rows are answered from the audience blocks (stamps audience_stamps, audience_users_stamps) once built.
  const audience = denseAudienceQueries(end).map((q) => ({ ...q, blocks: 'audience_' }));
  const list = o.rows === 'audience' ? audience : [...all, ...audience];
  const rows: DenseBenchResult['rows'] = [];
  let mixed: DenseBenchResult['mixed'];
  let mixedSqlite: DenseBenchResult['mixedSqlite'];
  const loadStart = loadNow();
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
      const mismatches: string[] = [];
      const check = async (when: string, b: Buffer): Promise<void> => {
        const diff = await ch?.checkSqlite(`${s.name} (${when})`, s.path, b);
        if (diff !== undefined) mismatches.push(diff);
      };
      await check('first answer', body);
      const warm = ch ? await warmRow({ name: s.name, url: serve.url + s.path, headers, ...(s.blocks ? { blocks: s.blocks } : {}) }, ch.queryLog, o.log) : undefined;
      if (warm) await check('warm answer', warm.body);
      const bodyFile = join(dir, 'bare-body.json');
      writeFileSync(bodyFile, body);
      const bare = await startProcess([join(o.root, 'dist/bench/query/bare-server.js'), bodyFile]);
      try {
        o.log(`dense load: ${s.name} (${body.length} bytes, 10 connections, ${seconds} s, uncached, then the bare server)`);
        const probe = await ch?.probe();
        const ls = await load(s.name, serve.url + s.path, { connections: 10, seconds, headers });
        const clickhouse = await probe?.end();
        const other = ch?.sqlite();
        const sqlite = other ? await load(`sqlite: ${s.name}`, other.url + s.path, { connections: 10, seconds, headers: other.headers }) : undefined;
        const b = await load(`bare: ${s.name}`, bare.url + '/', { connections: 10, seconds });
        if (ch) {
          const after = await fetch(serve.url + s.path, { headers });
          await check('after the row', Buffer.from(await after.arrayBuffer()));
          o.log(`dense clickhouse: ${s.name}: ${ls.rps.toFixed(1)} req/s, p99 ${ls.p99} ms; SQLite ${sqlite?.rps.toFixed(1)} req/s, p99 ${sqlite?.p99} ms: ` +
            `${sqlite ? (ls.rps / sqlite.rps).toFixed(2) : '?'}x SQLite (load average ${loadNow()})`);
        }
        rows.push({ name: s.name, bytes: body.length, livestats: ls, bare: b, ratio: ls.rps / b.rps, clickhouse,
          ...(sqlite ? { sqlite, vsSqlite: ls.rps / sqlite.rps } : {}), ...(ch ? { warm: warm && { ...warm, body: Buffer.alloc(0) }, mismatches } : {}) });
        rssByRowMiB[s.name] = rowRss;
        rowRss = 0;
      } finally {
        await bare.stop();
      }
    }
    // 2.5x a query row: ~90 acknowledgements, so the p99 is not just the slowest one.
    if (o.rows !== 'audience') {
      const heaviest = all[1];
      if (!heaviest) throw new Error('dense: no 24 h x 10 domains row');
      // Its blocks may have been dropped or aged out (15 minutes) since its row: warm again first.
      if (ch) await warmRow({ name: `mixed: ${heaviest.name}`, url: serve.url + heaviest.path, headers, blocks: 'http_counts' }, ch.queryLog, o.log);
      mixed = await mixedRow(serve.url, heaviest.path, headers, Math.round(seconds * 2.5), ds.anchor, o.log);
      rssByRowMiB.mixed = rowRss;
      // The same mixed row on the SQLite store (same dataset), right after: ack and /healthz beside ClickHouse's.
      const other = ch?.sqlite();
      if (other) mixedSqlite = await mixedRow(other.url, heaviest.path, other.headers, Math.round(seconds * 2.5), ds.anchor, o.log);
    }
  } finally {
    clearInterval(rssTimer);
    await serve.stop();
    await ch?.close();
  }
  const loadEnd = loadNow();
  const bad = rows.filter((r) => (r.mismatches ?? []).length > 0);
  if (bad.length > 0) o.log(`dense clickhouse: ${bad.length} row(s) answered other bytes than SQLite: ${bad.map((r) => r.name).join('; ')} (see the lines above)`);
  return { dataset: ds, rows, mixed, ...(mixedSqlite ? { mixedSqlite } : {}), loadStart, loadEnd, maxRssMiB: maxRss, rssByRowMiB, ...(ch ? { clickhouse: ch.ds } : {}) };
}

/**
 * The heaviest query at 10 connections while an ingest batch is posted every 200 ms (after each
 * acknowledgement) into the dataset's newest (dense) hour, and /healthz polled every 50 ms. The poster and the poller run in a process of
 * their own (mixed-probe.ts): timed in this process, they had included its event-loop delay while
 * autocannon ran here (`benchLoopDelayP99` shows how much that is).
 */
async function mixedRow(url: string, path: string, headers: Record<string, string>, seconds: number, anchor: number, log: (s: string) => void): Promise<MixedResult> {
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

/** The mixed row on the ClickHouse store beside the same row on the SQLite store (same dataset, right after), issue 24's targets beside. */
export function mixedTableBeside(r: DenseBenchResult): string {
  const c = r.mixed;
  if (!c) return '';
  const q = r.mixedSqlite;
  const v = (f: (m: MixedResult) => number | string): number | string => (q ? f(q) : '');
  return table(['mixed row (24 h x 10 domains at 10 connections + ingest + /healthz)', 'ClickHouse store', 'SQLite store', 'target'], [
    ['24 h x 10 domains req/s while ingesting', c.query.rps, v((m) => m.query.rps), ''],
    ['  its p99 ms', c.query.p99, v((m) => m.query.p99), '<= 50'],
    ['ingest POST (500 lines) acknowledgements', c.acks, v((m) => m.acks), ''],
    ['  ack p50 ms', c.ackP50, v((m) => m.ackP50), ''],
    ['  ack p99 ms', c.ackP99, v((m) => m.ackP99), '<= 100'],
    ['  ack max ms', c.ackMax, v((m) => m.ackMax), ''],
    ['/healthz polls', c.healthPolls, v((m) => m.healthPolls), ''],
    ['  /healthz p99 ms', c.healthP99, v((m) => m.healthP99), ''],
    ['  /healthz max ms', c.healthMax, v((m) => m.healthMax), ''],
    ['event-loop delay p99 ms: probe process / autocannon process', `${c.probeLoopDelayP99.toFixed(1)} / ${c.benchLoopDelayP99.toFixed(1)}`,
      v((m) => `${m.probeLoopDelayP99.toFixed(1)} / ${m.benchLoopDelayP99.toFixed(1)}`), ''],
    ['ClickHouse-backed server RSS max MiB (whole dense run)', r.maxRssMiB, '', ''],
  ]);
}
