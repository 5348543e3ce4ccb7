// The ClickHouse side of the dense bench (`npm run bench -- dense --store clickhouse`): the same
// dense dataset (same generator, seed and anchor as the SQLite one, so the identical cells and
// samples) in a clickhouse-server the bench starts on `.bench-data/dense-clickhouse/` (kept for
// reuse like the SQLite file), and the check that every answer's bytes equal SQLite's.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadMigrations } from '../../src/store/migrations.js';
import { ChEndpoint, num, str } from '../../src/store/clickhouse/client.js';
import { ClickHouseStore } from '../../src/store/clickhouse/store.js';
import { quote } from '../../src/store/clickhouse/sql.js';
import { parseClickHouseUrls } from '../../src/store/clickhouse/url.js';
import { startClickHouseIn, type ClickHouseServer } from '../../test/harness/clickhouse.js';
import { chSelects, readChEvents } from '../lib/ch-events.js';
import { startProcess, type Server } from '../lib/proc.js';
import { table } from '../lib/table.js';
import { DENSE, denseDomain, type DenseStats } from './dense.js';
import type { DenseHour, DenseWorkerDone } from './dense-clickhouse-worker.js';
import { TRAFFIC_DOMAIN_COLUMNS, TRAFFIC_STREAM_COLUMNS } from './dense-clickhouse-traffic.js';
import type { DenseTrafficStats } from './dense-traffic.js';
import type { QueryLog, WarmResult } from './dense-clickhouse-warm.js';
import { writeDenseAudience, type DenseAudienceStats } from './dense-audience.js';
import { AUDIENCE_TABLES } from '../../src/store/clickhouse/audience.js';

const DATABASE = 'bench_dense';
/** Bumped when the bulk load writes something else for the same spec. */
const BULK_FORMAT = 1;
/** Bumped when the traffic load writes something else. */
const TRAFFIC_FORMAT = 1;
/** Bumped when the audience load writes something else. */
const AUDIENCE_FORMAT = 1;
/** The migrations that shape the audience rows (005: the cube, 010: FLV sessions as opens and closes). */
const AUDIENCE_MIGRATIONS = [5, 10];
/**
 * The migrations that shape the loaded rows: 001-007. Later ones (008: the read side's hour stamps,
 * issue 24) add tables filled from new writes only, so a dataset loaded before them is still the same.
 */
const DATA_MIGRATIONS = 7;

export interface DenseClickHouseDataset extends DenseStats, Partial<DenseAudienceStats> {
  bytesOnDisk: number;
  bytesPerCell: number;
  /** `only: 'audience'`: the httpcodes cells, samples and traffic cube were not loaded (zeros above). */
  audienceOnly?: boolean;
  /** Bytes on disk per table (detail, rollups, samples...). */
  tables: Record<string, number>;
  generatedMs: number;
  reused: boolean;
  anchor: number;
  /**
   * The traffic cube loaded into ClickHouse: every day (DENSE.traffic.days) with the per-stream cells, unless
   * BENCH_CH_TRAFFIC_DAYS / BENCH_CH_TRAFFIC_STREAMS asked for less (a busy machine: see trafficLoad()).
   */
  trafficLoad?: TrafficLoad;
}

/**
 * How much of the dense traffic cube goes into ClickHouse. The whole cube is 81 M per-domain and 74 M per-stream
 * cells, over an hour to load on a busy 2-core machine (the counts and samples are 59 M cells, 25-40 min there).
 * BENCH_CH_TRAFFIC_DAYS=N loads the per-domain cells of the last N days before the rows' end (the traffic rows'
 * windows are cut to them, for both stores); BENCH_CH_TRAFFIC_STREAMS=0 loads no per-stream cells (the per-stream
 * row is not run). The generator still makes every day, so the loaded cells are the SQLite dataset's.
 */
export interface TrafficLoad { days: number; streams: boolean }

export function trafficLoad(env: NodeJS.ProcessEnv = process.env): TrafficLoad {
  const days = Number(env.BENCH_CH_TRAFFIC_DAYS ?? DENSE.traffic.days);
  if (!Number.isInteger(days) || days < 1 || days > DENSE.traffic.days) throw new Error(`BENCH_CH_TRAFFIC_DAYS: a whole number of days, 1-${DENSE.traffic.days}`);
  return { days, streams: env.BENCH_CH_TRAFFIC_STREAMS !== '0' };
}

const fullTraffic = (t: TrafficLoad): boolean => t.days === DENSE.traffic.days && t.streams;

/**
 * What clickhouse-server did during one load row, run with system.query_log off (the log costs every query): its CPU
 * from /proc, its SELECTs from system.events (bench/lib/ch-events.ts).
 */
export interface DenseClickHouseRow {
  /** CPU time / the row's wall time. */
  cores: number;
  queries: number;
  /** Per SELECT, means: marks selected (8,192 rows each at most), thread time in ms. */
  marks: number;
  threadMs: number;
}

export interface DenseClickHouse {
  ds: DenseClickHouseDataset;
  /** `--data` directory of the ClickHouse-backed `livestats serve` (its keys). */
  dataDir: string;
  serveFlags: string[];
  url: string;
  server: ClickHouseServer;
  /**
   * Turns clickhouse-server's query log off and starts measuring it for one row; end() returns what it did meanwhile
   * and turns the log on again (the warm-ups read it).
   */
  probe(): Promise<{ end(): Promise<DenseClickHouseRow> }>;
  /** Fails loudly unless SQLite's answer to `path` (same dataset) is byte for byte `body`. */
  sameAsSqlite(name: string, path: string, body: Buffer): Promise<void>;
  /** undefined when SQLite's answer to `path` is byte for byte `body`, else where and how they differ (also logged). */
  checkSqlite(name: string, path: string, body: Buffer): Promise<string | undefined>;
  /** The bench's clickhouse-server's query log (the warm-up reads what each answer cost there). */
  queryLog: QueryLog;
  /** The uncached SQLite `livestats serve` on the same dataset that sameAsSqlite started (for the same-run ratio). */
  sqlite(): { url: string; headers: Record<string, string> } | undefined;
  close(): Promise<void>;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function procCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

async function tableBytes(admin: ChEndpoint): Promise<Record<string, number>> {
  const rows = await admin.rows(`SELECT table, sum(bytes_on_disk) AS b FROM system.parts
    WHERE database = ${quote(DATABASE)} AND active GROUP BY table ORDER BY table`);
  return Object.fromEntries(rows.map((r) => [str(r.table), num(r.b)]));
}

/** Generates the dense dataset into the store through the bulk path (generator in a worker thread). */
async function generate(store: ClickHouseStore, root: string, anchor: number, log: (s: string) => void,
  traffic?: (m: DenseHour) => Promise<void>, part?: { trafficFrom: number; withStreams: boolean }): Promise<DenseStats> {
  const gate = new SharedArrayBuffer(4);
  const inFlight = new Int32Array(gate);
  const worker = new Worker(join(root, 'dist/bench/query/dense-clickhouse-worker.js'), { workerData: { anchor, gate, traffic: traffic !== undefined, ...part } });
  let chain = Promise.resolve();
  let failed: unknown;
  return await new Promise<DenseStats>((resolve, reject) => {
    worker.on('message', (m: DenseHour | DenseWorkerDone | { log: string }) => {
      if ('log' in m) return log(m.log);
      if ('done' in m) {
        const tasks = m.lastSample.map(([k, last]) => {
          const [project = '', taskId = ''] = k.split('\u0000');
          return { project, taskId, createdAt: anchor - DENSE.days * 86_400_000, lastSample: last };
        });
        chain = chain.then(() => (traffic ? undefined : store.bulkTasks(tasks)));
        void chain.then(() => (failed === undefined ? resolve(m.done) : reject(failed)), reject);
        return;
      }
      chain = chain.then(async () => {
        if (failed === undefined) {
          try {
            if (traffic) {
              await traffic(m);
            } else {
              await store.bulkInsert('counts', m.counts);
              await store.bulkInsert('samples', m.samples);
            }
          } catch (err) {
            failed = err;
          }
        }
        Atomics.sub(inFlight, 0, 1);
        Atomics.notify(inFlight, 0);
      });
    });
    worker.once('error', reject);
  }).finally(() => void worker.terminate());
}

/** Nothing loaded yet (the audience-only dataset: `only: 'audience'`). */
const emptyDataset = (anchor: number): DenseClickHouseDataset => ({
  cells: 0, requests: 0, samples: 0, headCellsPerMinute: 0, trafficDays: 0, trafficRequests: 0, trafficBytes: 0, trafficDomainCells: 0,
  trafficStreamCells: 0, trafficStreams: 0, trafficDomainTableBytes: 0, trafficStreamTableBytes: 0, trafficBytesPerDay: 0,
  bytesOnDisk: 0, bytesPerCell: 0, tables: {}, generatedMs: 0, reused: true, anchor, audienceOnly: true,
});

/**
 * `only: 'audience'` loads the audience cube alone (the httpcodes cells, samples and the 31-day traffic cube
 * are not loaded, or kept as they are when they were): for the audience rows on a busy machine, where the
 * whole dense load takes tens of minutes. The audience itself is the whole dense audience either way.
 */
export async function prepareDenseClickHouse(o: { root: string; anchor: number; sqliteDir: string; log: (s: string) => void; only?: 'audience' }): Promise<DenseClickHouse> {
  const dir = join(o.root, '.bench-data', 'dense-clickhouse');
  const server = await startClickHouseIn(join(dir, 'server'), { queryLog: true });
  const url = server.url(DATABASE);
  const first = parseClickHouseUrls(url).endpoints[0];
  if (!first) throw new Error('no ClickHouse URL');
  const admin = new ChEndpoint(first, { requestTimeoutMs: 600_000, queryTimeoutMs: 600_000 });
  // The schema (migrations) and the anchor of the SQLite dataset are part of the key: the same cells, the same tables.
  const key = JSON.stringify({ ...DENSE, anchor: o.anchor, migrations: loadMigrations('clickhouse').filter((m) => m.version <= DATA_MIGRATIONS).map((m) => `${m.version}_${m.name}_${createHash('sha256').update(m.sql).digest('hex').slice(0, 12)}`), bulk: BULK_FORMAT });
  let ds: DenseClickHouseDataset | undefined;
  try {
    let store = new ClickHouseStore({ url, requestTimeoutMs: 600_000 });
    await store.init();
    const meta = await store.getMeta('bench.dense');
    const saved = meta ? (JSON.parse(meta) as DenseClickHouseDataset & { key: string }) : undefined;
    if (o.only === 'audience') {
      ds = saved?.key === key ? { ...saved, reused: true } : emptyDataset(o.anchor);
    } else if (saved?.key === key) {
      o.log(`dense clickhouse: reusing the dataset generated ${iso(saved.anchor)} (${dir})`);
      ds = { ...saved, reused: true };
    } else {
      await store.close();
      await admin.exec(`DROP DATABASE IF EXISTS ${DATABASE}`);
      store = new ClickHouseStore({ url, requestTimeoutMs: 600_000 });
      await store.init();
      o.log(`dense clickhouse: generating ${DENSE.days} d x ${DENSE.domains} domains + ${DENSE.tasks} carousel tasks through the ClickHouse bulk path`);
      const started = Date.now();
      const stats = await generate(store, o.root, o.anchor, o.log);
      const loadedMs = Date.now() - started;
      // Merge each table's parts, as background merges would over time (timed apart from the load).
      const merging = Date.now();
      for (const t of Object.keys(await tableBytes(admin))) await admin.exec(`OPTIMIZE TABLE ${DATABASE}.${t} FINAL`);
      o.log(`dense clickhouse: loaded in ${(loadedMs / 1000).toFixed(1)} s, parts merged (OPTIMIZE FINAL) in ${((Date.now() - merging) / 1000).toFixed(1)} s`);
      const tables = await tableBytes(admin);
      const bytesOnDisk = Object.values(tables).reduce((a, b) => a + b, 0);
      ds = { ...stats, bytesOnDisk, bytesPerCell: bytesOnDisk / stats.cells, tables, generatedMs: loadedMs, reused: false, anchor: o.anchor };
      await store.setMeta('bench.dense', JSON.stringify({ key, ...ds }));
    }
    // The traffic cube (issue 24: the ClickHouse dataset had none), loaded apart from the counts, so a dataset made before it is kept.
    const want = trafficLoad();
    // The whole cube keeps the key it always had (a dataset loaded before the partial loads is reused).
    const trafficKey = JSON.stringify({ key, traffic: TRAFFIC_FORMAT, ...(fullTraffic(want) ? {} : { load: want }) });
    const savedTraffic = await store.getMeta('bench.dense.traffic');
    if (o.only === 'audience') {
      // Kept as it is.
    } else if (savedTraffic && (JSON.parse(savedTraffic) as { key: string }).key === trafficKey) {
      ds = { ...ds, ...(JSON.parse(savedTraffic) as DenseTrafficStats), trafficLoad: want };
      o.log(`dense clickhouse: reusing the traffic cube (${want.days} d${want.streams ? '' : ', no per-stream cells'})`);
    } else {
      for (const t of ['traffic_domains', 'traffic_streams', 'traffic_stamps']) await admin.exec(`TRUNCATE TABLE ${DATABASE}.${t}`);
      // The rows' windows end an hour before the anchor (run-dense.ts); a partial load covers the last `days` before that.
      const trafficFrom = fullTraffic(want) ? 0 : o.anchor - 3_600_000 - want.days * 86_400_000;
      o.log(`dense clickhouse: loading the traffic cube (${want.days} of ${DENSE.traffic.days} d x ${DENSE.domains} domains, ` +
        `${want.streams ? `streams on the last ${DENSE.traffic.streamDays} d` : 'no per-stream cells'})`);
      const started = Date.now();
      const insert = async (name: string, columns: string, rows: string | undefined): Promise<void> => {
        if (rows) await server.sql(`INSERT INTO ${DATABASE}.${name} ${columns} FORMAT TabSeparated\n${rows}`);
      };
      const stats = await generate(store, o.root, o.anchor, o.log, async (m) => {
        await insert('traffic_domains', TRAFFIC_DOMAIN_COLUMNS, m.trafficDomains);
        await insert('traffic_streams', TRAFFIC_STREAM_COLUMNS, m.trafficStreams);
      }, { trafficFrom, withStreams: want.streams });
      for (const t of ['traffic_domains', 'traffic_streams']) await admin.exec(`OPTIMIZE TABLE ${DATABASE}.${t} FINAL`);
      const traffic: DenseTrafficStats = {
        trafficDays: stats.trafficDays, trafficRequests: stats.trafficRequests, trafficBytes: stats.trafficBytes,
        trafficDomainCells: stats.trafficDomainCells, trafficStreamCells: stats.trafficStreamCells, trafficStreams: stats.trafficStreams,
        trafficDomainTableBytes: 0, trafficStreamTableBytes: 0, trafficBytesPerDay: 0,
      };
      o.log(`dense clickhouse: traffic cube loaded in ${((Date.now() - started) / 1000).toFixed(0)} s (${traffic.trafficDomainCells} domain, ${traffic.trafficStreamCells} stream cells)`);
      await store.setMeta('bench.dense.traffic', JSON.stringify({ key: trafficKey, ...traffic }));
      const tables = await tableBytes(admin);
      ds = { ...ds, ...traffic, tables, bytesOnDisk: Object.values(tables).reduce((a, b) => a + b, 0), trafficLoad: want };
    }
    ds = { ...ds, ...await loadAudience(store, admin, o) };
    await store.close();
  } catch (err) {
    await admin.close();
    await server.stop();
    throw err;
  }
  const dataDir = join(dir, 'serve');
  mkdirSync(dataDir, { recursive: true });
  let sqlite: { serve: Server; headers: Record<string, string> } | undefined;
  const dataset = ds;
  const prepared: DenseClickHouse = {
    ds: dataset, dataDir, url, server,
    serveFlags: ['--store', 'clickhouse', '--clickhouse-url', url],
    async probe() {
      await server.setQueryLog(false);
      const sql = (q: string): Promise<string> => server.sql(q);
      const events0 = await readChEvents(sql);
      const t0 = Date.now();
      const cpu0 = procCpuMs(server.pid());
      return {
        async end() {
          const cores = (procCpuMs(server.pid()) - cpu0) / Math.max(1, Date.now() - t0);
          const d = chSelects(events0, await readChEvents(sql));
          await server.setQueryLog(true);
          return { cores, queries: d.selects, marks: d.marks, threadMs: d.threadMs };
        },
      };
    },
    async checkSqlite(name, path, body) {
      if (!sqlite) {
        const keys = JSON.parse(execFileSync(process.execPath, [join(o.root, 'bin/livestats.js'), 'keys', 'create', '--project', DENSE.project,
          '--json', '--data', o.sqliteDir]).toString()) as { token: string };
        // Generous: on a machine at load average 20-30 a server's start alone has taken over a minute.
        const serve = await startProcess([join(o.root, 'bin/livestats.js'), 'serve', '--data', o.sqliteDir, '--port', '0', '--log-level', 'warn',
          '--query-cache-ms', '0', '--retention-days', '30', '--audience-retention-days', '40'], {}, 300_000);
        sqlite = { serve, headers: { 'x-auth-token': keys.token } };
      }
      const res = await fetch(sqlite.serve.url + path, { headers: sqlite.headers });
      const expected = Buffer.from(await res.arrayBuffer());
      if (res.status !== 200 || !expected.equals(body)) {
        let at = 0;
        while (at < body.length && body[at] === expected[at]) at++;
        const diff = `dense clickhouse: ${name}: the ClickHouse answer (${body.length} bytes) differs from SQLite's (HTTP ${res.status}, ` +
          `${expected.length} bytes) from byte ${at}: ${JSON.stringify(body.subarray(at, at + 80).toString())} vs ${JSON.stringify(expected.subarray(at, at + 80).toString())}`;
        o.log(diff);
        return diff;
      }
      o.log(`dense clickhouse: ${name}: answer bytes identical to SQLite's (${body.length} bytes)`);
      return undefined;
    },
    async sameAsSqlite(name, path, body) {
      const diff = await prepared.checkSqlite(name, path, body);
      if (diff !== undefined) throw new Error(diff);
    },
    queryLog: {
      database: DATABASE,
      rows: (sql) => admin.rows(sql),
      exec: (sql) => admin.exec(sql),
    },
    sqlite() {
      return sqlite ? { url: sqlite.serve.url, headers: sqlite.headers } : undefined;
    },
    async close() {
      await sqlite?.serve.stop();
      await admin.close();
      await server.stop();
    },
  };
  return prepared;
}

/**
 * The audience cube (issue 21) of the SQLite dataset, written through the ClickHouse store's write path
 * (the same generator and batches as run-dense.ts writes into SQLite, so the same answers byte for byte),
 * kept apart from the counts and traffic (its own key), so either can be reused without the other.
 */
async function loadAudience(store: ClickHouseStore, admin: ChEndpoint, o: { anchor: number; log: (s: string) => void }): Promise<DenseAudienceStats & { tables: Record<string, number>; bytesOnDisk: number }> {
  const migrations = loadMigrations('clickhouse').filter((m) => AUDIENCE_MIGRATIONS.includes(m.version))
    .map((m) => `${m.version}_${m.name}_${createHash('sha256').update(m.sql).digest('hex').slice(0, 12)}`);
  const key = JSON.stringify({ project: DENSE.project, anchor: o.anchor, audience: DENSE.audience, migrations, format: AUDIENCE_FORMAT });
  const saved = await store.getMeta('bench.dense.audience');
  let stats: DenseAudienceStats;
  if (saved && (JSON.parse(saved) as { key: string }).key === key) {
    stats = JSON.parse(saved) as DenseAudienceStats;
    o.log(`dense clickhouse: reusing the audience cube (${stats.audienceCells} cells)`);
  } else {
    for (const t of AUDIENCE_TABLES) await admin.exec(`TRUNCATE TABLE ${DATABASE}.${t}`);
    o.log(`dense clickhouse: writing the audience cube through the ClickHouse store's write path (${DENSE.audience.headDays} d of head domain 1, ` +
      `${DENSE.audience.days} d of ${DENSE.audience.domains} head domains)`);
    // The audience ends where the query rows do: the last whole hour before the anchor (as run-dense.ts writes it into SQLite).
    stats = await writeDenseAudience(store, DENSE.audience, DENSE.project, denseDomain, o.anchor - 3_600_000, o.log);
    const merging = Date.now();
    for (const t of AUDIENCE_TABLES) await admin.exec(`OPTIMIZE TABLE ${DATABASE}.${t} FINAL`);
    const tables = await tableBytes(admin);
    stats = { ...stats, audienceTableBytes: AUDIENCE_TABLES.reduce((n, t) => n + (tables[t] ?? 0), 0) };
    o.log(`dense clickhouse: audience written in ${(stats.audienceMs / 1000).toFixed(0)} s, merged in ${((Date.now() - merging) / 1000).toFixed(0)} s, ` +
      `${(stats.audienceTableBytes / 2 ** 20).toFixed(0)} MiB`);
    await store.setMeta('bench.dense.audience', JSON.stringify({ key, ...stats }));
  }
  const tables = await tableBytes(admin);
  return { ...stats, tables, bytesOnDisk: Object.values(tables).reduce((a, b) => a + b, 0) };
}

export function denseClickHouseTable(r: { rows: Array<{
  name: string; bytes: number; livestats: { rps: number; p50: number; p99: number; requests: number }; bare: { rps: number }; ratio: number; clickhouse?: DenseClickHouseRow;
  sqlite?: { rps: number; p99: number }; vsSqlite?: number; warm?: WarmResult; mismatches?: string[];
}> }): string {
  const yes = (b: boolean): string => (b ? 'yes' : '**no**');
  return table(
    ['query (uncached, 10 connections)', 'KB/resp', 'ClickHouse req/s', 'p99 ms', 'SQLite req/s (same run)', 'SQLite p99 ms', 'ClickHouse / SQLite',
      '>= 0.5x', 'p99 <= 50 ms', 'bytes = SQLite', 'warm-up s', 'bare req/s (same bytes)', 'x bare', 'CH SELECTs/answer', 'CH cores', 'CH marks/SELECT', 'CH thread ms/SELECT'],
    r.rows.map((x) => [x.name, x.bytes / 1024, x.livestats.rps, x.livestats.p99, x.sqlite?.rps ?? '', x.sqlite?.p99 ?? '', x.vsSqlite ?? '',
      x.vsSqlite === undefined ? '' : yes(x.vsSqlite >= 0.5), yes(x.livestats.p99 <= 50),
      x.mismatches === undefined ? '' : x.mismatches.length === 0 ? 'yes' : '**DIFFERENT**',
      x.warm ? (x.warm.warm ? x.warm.ms / 1000 : `**not warm** (${(x.warm.ms / 1000).toFixed(0)})`) : '',
      x.bare.rps, x.ratio,
      x.clickhouse && x.livestats.requests > 0 ? x.clickhouse.queries / x.livestats.requests : '',
      x.clickhouse?.cores ?? '', x.clickhouse?.marks ?? '', x.clickhouse?.threadMs ?? '']),
  );
}

/** One line per row: where the ClickHouse store reached 0.5x the SQLite store's req/s in the same run (issue 24's target), and its p99. */
export function denseClickHouseVerdicts(r: { rows: Array<{ name: string; livestats: { rps: number; p99: number }; sqlite?: { rps: number; p99: number };
  vsSqlite?: number; warm?: WarmResult; mismatches?: string[] }> }): string[] {
  return r.rows.map((x) => {
    const ratio = x.vsSqlite === undefined ? 'no SQLite figure' : `${x.vsSqlite.toFixed(2)}x SQLite (${x.livestats.rps.toFixed(0)} vs ${x.sqlite?.rps.toFixed(0)} req/s)`;
    const reached = x.vsSqlite !== undefined && x.vsSqlite >= 0.5 ? '0.5x reached' : '**0.5x not reached**';
    const p99 = `p99 ${x.livestats.p99} ms ${x.livestats.p99 <= 50 ? '(<= 50 ms)' : '(> 50 ms)'} vs SQLite ${x.sqlite?.p99 ?? '?'} ms`;
    const notes = [
      ...(x.warm && !x.warm.warm ? ['measured NOT warm (blocks never answered it)'] : []),
      ...((x.mismatches ?? []).length > 0 ? ['**answer bytes differ from SQLite**'] : []),
    ];
    return `- ${x.name}: ${reached}, ${ratio}; ${p99}${notes.length > 0 ? `; ${notes.join('; ')}` : ''}.`;
  });
}

export function denseClickHouseDatasetLines(d: DenseClickHouseDataset): string[] {
  const tables = Object.entries(d.tables).map(([t, b]) => `${t} ${(b / 2 ** 20).toFixed(0)}`).join(', ');
  return [
    `${d.cells} cells (${d.requests} requests, with bytes), ${d.samples} samples, the same as the SQLite dataset (same generator, seed and anchor ${iso(d.anchor)}), ` +
      `loaded through the ClickHouse store's bulk path in ${(d.generatedMs / 1000).toFixed(0)} s${d.reused ? ' (when generated; reused since)' : ''}; ` +
      `${(d.bytesOnDisk / 2 ** 20).toFixed(0)} MiB on disk (active parts, after OPTIMIZE FINAL) = **${d.bytesPerCell.toFixed(2)} bytes per stored cell** (every table, / cells).`,
    `MiB per table: ${tables}.`,
    ...(d.trafficLoad && !fullTraffic(d.trafficLoad) ? [
      `**Traffic cube: only part of it is in ClickHouse** (\`BENCH_CH_TRAFFIC_DAYS=${d.trafficLoad.days}\`${d.trafficLoad.streams ? '' : ', `BENCH_CH_TRAFFIC_STREAMS=0`'}): ` +
        `the per-domain cells of the last ${d.trafficLoad.days} day(s) before the rows' end${d.trafficLoad.streams ? ' and the per-stream cells' : ', no per-stream cells'} ` +
        `(the whole cube did not load in time on this busy machine); the traffic rows' windows are cut to those days, for both stores` +
        `${d.trafficLoad.streams ? '' : ', and the per-stream row is not run'}.`,
    ] : []),
  ];
}
