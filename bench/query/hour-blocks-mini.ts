// A short same-run comparison of the ClickHouse store's hour blocks (issue 24), for a machine too busy
// for the full dense bench (`npm run bench -- dense --store clickhouse`, whose first load takes many minutes):
//
//   node dist/bench/query/hour-blocks-mini.js [--baseline <checkout of an older build>] [--domains 3] [--seconds 5]
//     [--rows httpcodes,traffic,carousel] [--only <text in a row's name>] [--traffic-hours 26] [--traffic-pairs 136]
//     [--cpu-prof <dir>] [--rounds 1]
//
// The dense bench's "bandwidth 7 d x 100 domains" row at a size this machine can load in a minute:
//   --rows traffic --domains 100 --traffic-hours 168 --traffic-pairs 2
// (7 days of traffic for 100 domains, 2 (province, carrier) pairs x 3 streams per 5-minute slot: every
// (domain, hour) of the week has stamps and a block, as in the dense dataset).
//
// Writes `domains` domains x 26 hours at the dense bench's density (every (province, carrier) pair,
// ~358 (province, carrier, code) cells per domain-minute) through each store's write path, into a
// temporary SQLite data directory and a temporary clickhouse-server, and (rows `traffic`) the traffic
// cube of those hours (every (province, carrier) pair x 3 of 20 streams per 5-minute slot), then runs the
// httpcodes rows of the dense bench (24 h windows of closed hours) and its three traffic rows (their
// windows as there; the data is the last 26 h), and (rows `carousel`) the dense bench's carousel 3 h row over
// one task with a sample every second, against `livestats serve` on each, uncached, 10 connections:
// this build on ClickHouse, the baseline build on ClickHouse (optional), this build on SQLite. Every
// ClickHouse answer is checked byte for byte against SQLite's first. Each ClickHouse build is measured
// only once its blocks answer the row (system.query_log: two answers in a row read nothing but stamps;
// dense-clickhouse-warm.ts), and each of its loads is logged with clickhouse-server's CPU and its
// queries from system.query_log (stamps reads apart: count, duration, rows read and returned).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ISPS, REGIONS } from '../../src/contract/values.js';
import { projectRoot } from '../../src/paths.js';
import { ClickHouseStore } from '../../src/store/clickhouse/store.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import type { TrafficRow } from '../../src/store/traffic.js';
import type { CountRow, SampleRow } from '../../src/store/types.js';
import { allocate, launch } from '../../test/harness/clickhouse.js';
import { load, type LoadResult } from '../lib/load.js';
import { startProcess, type Server } from '../lib/proc.js';
import { seeded } from '../lib/rng.js';
import { table } from '../lib/table.js';
import { warmRow, type QueryLog } from './dense-clickhouse-warm.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const CODES = [200, 206, 304, 302, 404, 500];
const CODE_SHARE = [0.85, 0.06, 0.04, 0.02, 0.02, 0.01];
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const { values } = parseArgs({
  options: {
    baseline: { type: 'string' }, domains: { type: 'string', default: '3' }, seconds: { type: 'string', default: '5' },
    /** Which rows: httpcodes, traffic (the traffic cube is written only when its rows run). */
    rows: { type: 'string', default: 'httpcodes,traffic,carousel' },
    /** Hours of traffic written (ending with the window's last hour and one more): 26 as the counts, up to 31 d. */
    'traffic-hours': { type: 'string', default: '26' },
    /** (province, carrier) pairs per traffic slot (default: every pair). */
    'traffic-pairs': { type: 'string', default: '1000' },
    /** A directory: this build's ClickHouse server runs under node --cpu-prof, its profile written there when it stops. */
    'cpu-prof': { type: 'string' },
    /** Loads per target and row, the targets' order rotated each round; the median is reported. */
    rounds: { type: 'string', default: '1' },
    /** Only the rows whose name contains this text (default: every row of --rows). */
    only: { type: 'string' },
  },
});
const rowSets = new Set(String(values.rows).split(','));
const root = projectRoot();
const domains = Array.from({ length: Number(values.domains) }, (_, i) => `p${String(i + 1).padStart(3, '0')}.mini.example`);
const seconds = Number(values.seconds);
const rounds = Math.max(1, Number(values.rounds));
const log = (s: string): void => void process.stderr.write(`${s}\n`);
const project = 'mini';
// The window: 24 whole hours that closed at least 10 minutes ago, and one more hour on each side.
const end = Math.floor((Date.now() - 10 * MIN) / HOUR) * HOUR;
const first = end - 25 * HOUR;
const trafficFirst = Math.min(first, end - (Number(values['traffic-hours']) - 1) * HOUR);

/** One hour of one domain: every (region, isp) pair, codes by share, ~358 cells a minute. */
function hourRows(domain: string, hour: number, rng: () => number, scale: number): CountRow[] {
  const out: CountRow[] = [];
  for (let m = 0; m < 60; m++) {
    for (const region of REGIONS) {
      for (const isp of ISPS) {
        for (let c = 0; c < CODES.length; c++) {
          const lambda = scale * (CODE_SHARE[c] as number) * 4;
          if (c > 0 && rng() > 0.55) continue;
          const count = Math.max(1, Math.floor(lambda * (0.5 + rng())));
          out.push({ project, domain, minute: hour + m * MIN, region, isp, code: CODES[c] as number, count, bytes: count * 150_000 });
        }
      }
    }
  }
  return out;
}

const STREAMS = 20;
const SLOT = 300_000;
/**
 * One hour of one domain's traffic cube: per 5-minute slot, every (region, isp) pair with 3 of the
 * domain's 20 streams (Zipf-like: the first streams most often), flv or hls, v4 (1 in 10 v6).
 */
const PAIRS = REGIONS.flatMap((region) => ISPS.map((isp) => ({ region, isp }))).slice(0, Number(values['traffic-pairs']));
function trafficRows(domain: string, hour: number, rng: () => number, scale: number): TrafficRow[] {
  const out: TrafficRow[] = [];
  for (let slot = hour; slot < hour + HOUR; slot += SLOT) {
    for (const { region, isp } of PAIRS) {
      {
        for (let k = 0; k < 3; k++) {
          const s = 1 + Math.floor(STREAMS * rng() * rng());
          const requests = Math.max(1, Math.floor(scale * 20 * (0.5 + rng())));
          out.push({
            project, domain, app: 'live', stream: `room-${String(s).padStart(3, '0')}`, protocol: rng() < 0.5 ? 'flv' : 'hls', region, isp,
            ipType: rng() < 0.1 ? 'v6' : 'v4', slot, requests, bytes: requests * 150_000,
          });
        }
      }
    }
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'livestats-hour-blocks-'));
// system.query_log on: each row is measured once its blocks answer it (warmRow), and the ClickHouse queries of each load are summed.
const ch = launch(mkdtempSync(join(tmpdir(), 'livestats-ch-')), await allocate(), undefined, { queryLog: true });
await ch.start();
const queryLog: QueryLog = {
  database: 'hbmini',
  async rows(sql) {
    const text = await ch.sql(`${sql} FORMAT JSONEachRow`);
    return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  },
  async exec(sql) {
    await ch.sql(sql);
  },
};
/** clickhouse-server's CPU so far (ms, from /proc). */
function chCpuMs(): number {
  const pid = ch.pid();
  if (pid === undefined) return 0;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}
/** The SELECTs clickhouse-server finished in [t0, t1] (system.query_log), stamps reads apart from the rest: count, mean duration, rows read and returned. */
async function chQueries(t0: number, t1: number): Promise<string> {
  await queryLog.exec('SYSTEM FLUSH LOGS');
  const rows = await queryLog.rows(`SELECT position(query, '_stamps') > 0 AND position(query, 'traffic_domains') = 0 AND position(query, 'traffic_streams ') = 0
      AND position(query, 'http_counts ') = 0 AND position(query, 'carousel_samples') = 0 AS stamps,
      count() AS n, avg(query_duration_ms) AS ms, quantile(0.99)(query_duration_ms) AS p99, avg(read_rows) AS rr, avg(result_rows) AS res
    FROM system.query_log WHERE type = 2 AND event_time >= toDateTime(${Math.floor(t0 / 1000)}) AND event_time <= toDateTime(${Math.ceil(t1 / 1000)})
      AND query LIKE 'SELECT%' AND query NOT LIKE '%system.%' GROUP BY stamps ORDER BY stamps DESC`);
  return rows.map((r) => `${Number(r.stamps) ? 'stamps reads' : 'other reads'} ${String(r.n)} (mean ${Number(r.ms).toFixed(1)} ms, p99 ${Number(r.p99).toFixed(0)} ms, `
    + `${Number(r.rr).toFixed(0)} rows read, ${Number(r.res).toFixed(0)} returned)`).join('; ') || 'no reads';
}
const url = ch.url('hbmini');
const servers: Server[] = [];
try {
  for (const d of ['sqlite', 'ch-new', 'ch-old']) mkdirSync(join(dir, d), { recursive: true });
  const sqliteStore = new SqliteStore(join(dir, 'sqlite', 'livestats.db'));
  await sqliteStore.init();
  const chStore = new ClickHouseStore({ url, hourBlocks: false });
  await chStore.init();
  const rng = seeded(24);
  let cells = 0;
  let trafficCells = 0;
  const started = Date.now();
  // One write per hour with every domain (a write per domain-hour would take minutes for 100 domains x 7 d).
  for (let h = trafficFirst; h < end + HOUR; h += HOUR) {
    const batch = { counts: [] as CountRow[], traffic: [] as TrafficRow[], samples: [] as SampleRow[] };
    for (const [d, domain] of domains.entries()) {
      const counts = rowSets.has('httpcodes') && h >= first ? hourRows(domain, h, rng, 40 / (d + 1)) : [];
      const traffic = rowSets.has('traffic') ? trafficRows(domain, h, rng, 40 / (d + 1)) : [];
      cells += counts.length;
      trafficCells += traffic.length;
      // One carousel task (rows `carousel`): a sample every second, written with the first domain's hours.
      const samples = rowSets.has('carousel') && d === 0 && h >= first ? Array.from({ length: 3600 }, (_, i) => ({
        project, taskId: 'mini-task', second: h + i * 1000, videoFps: 25 + Math.floor(rng() * 6), videoKbps: 2000 + Math.floor(rng() * 500),
        audioFps: 43 + Math.floor(rng() * 3), audioKbps: 128 + Math.floor(rng() * 8),
      })) : [];
      for (const r of counts) batch.counts.push(r);
      for (const r of traffic) batch.traffic.push(r);
      for (const r of samples) batch.samples.push(r);
    }
    const id = `mini-${h}`;
    await sqliteStore.write({ id, counts: batch.counts, samples: batch.samples, tasks: [], checkpoints: [], traffic: batch.traffic });
    await chStore.write({ id, counts: batch.counts, samples: batch.samples, tasks: [], checkpoints: [], traffic: batch.traffic });
  }
  await sqliteStore.close();
  await chStore.close();
  log(`hour-blocks mini: ${cells} cells (${domains.length} domains x 26 h, ${(cells / domains.length / 26 / 60).toFixed(0)} per domain-minute), `
    + `${trafficCells} traffic cells (${(trafficCells / domains.length / ((end + HOUR - trafficFirst) / HOUR) / 12).toFixed(0)} per domain-slot) written in ${((Date.now() - started) / 1000).toFixed(0)} s`);

  const serve = async (label: string, buildRoot: string, data: string, flags: string[], node: string[] = []): Promise<{ label: string; s: Server; headers: Record<string, string> }> => {
    const keys = JSON.parse(execFileSync(process.execPath, [join(buildRoot, 'bin/livestats.js'), 'keys', 'create', '--project', project, '--json', '--data', data]).toString()) as { token: string };
    const s = await startProcess([...node, join(buildRoot, 'bin/livestats.js'), 'serve', '--data', data, ...flags, '--port', '0', '--log-level', 'warn', '--query-cache-ms', '0', '--retention-days', '30']);
    servers.push(s);
    return { label, s, headers: { 'x-auth-token': keys.token } };
  };
  const targets = [
    await serve('ClickHouse, this build', root, join(dir, 'ch-new'), ['--store', 'clickhouse', '--clickhouse-url', url],
      values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : []),
    ...(values.baseline ? [await serve('ClickHouse, baseline', values.baseline, join(dir, 'ch-old'), ['--store', 'clickhouse', '--clickhouse-url', url])] : []),
    await serve('SQLite, this build', root, join(dir, 'sqlite'), []),
  ];
  const all = domains.join(',');
  const day = `start_time=${iso(end - 24 * HOUR)}&end_time=${iso(end)}`;
  const q = `/v2/${project}/stats/httpcodes?play_domains=${all}&${day}`;
  const window = (ms: number): string => `start_time=${iso(end - ms)}&end_time=${iso(end)}`;
  const base = `/v2/${project}/stats`;
  const list = ([
    ...(rowSets.has('httpcodes') ? [
      // The dense bench's cheapest httpcodes row: the last closed hour of one domain.
      { name: '1 h x 1 domain', path: `/v2/${project}/stats/httpcodes?play_domains=${domains[0]}&${window(HOUR)}`, blocks: 'http_counts' },
      { name: `24 h x ${domains.length} domains`, path: q, blocks: 'http_counts' },
      { name: `24 h x ${domains.length} domains, region GD,SH + isp CMCC + code 200,404`, path: `${q}&region=GD,SH&isp=CMCC&code=200,404`, blocks: 'http_counts' },
      { name: `24 h x ${domains.length} domains, isp CMCC only`, path: `${q}&isp=CMCC`, blocks: 'http_counts' },
      { name: '24 h x 1 domain, region GD only', path: `/v2/${project}/stats/httpcodes?play_domains=${domains[0]}&${day}&region=GD`, blocks: 'http_counts' },
    ] : []),
    // The dense bench's traffic rows (run-dense-traffic.ts), over this dataset's 26 hours of traffic.
    ...(rowSets.has('traffic') ? [
      { name: `bandwidth 7 d x ${domains.length} domains, 300 s`, path: `${base}/bandwidth/detail?play_domains=${all}&interval=300&${window(7 * 24 * HOUR)}`, blocks: 'traffic_' },
      { name: `traffic 31 d x ${domains.length} domains, 3600 s`, path: `${base}/traffic/detail?play_domains=${all}&interval=3600&${window(31 * 24 * HOUR)}`, blocks: 'traffic_' },
      { name: 'traffic 24 h x 1 stream, region GD,SH + isp CMCC', path: `${base}/traffic/detail?play_domains=${domains[0]}&app=live&stream=room-001&region=GD,SH&isp=CMCC&${window(24 * HOUR)}`, blocks: 'traffic_' },
    ] : []),
    ...(rowSets.has('carousel') ? [
      { name: 'carousel 3 h', path: `${base}/carousel-task/detail?carousel_task_id=mini-task&start_time=${iso(end - 3 * HOUR)}&end_time=${iso(end)}`, blocks: 'carousel_' },
    ] : []),
  ]).filter((row) => values.only === undefined || row.name.includes(values.only));
  const rows: Array<Array<string | number>> = [];
  // Every row once on this build first: its blocks (every hour of every row) are built in the background meanwhile.
  for (const row of list) await (await fetch((targets[0] as (typeof targets)[0]).s.url + row.path, { headers: (targets[0] as (typeof targets)[0]).headers })).arrayBuffer();
  for (const row of list) {
    const bodies: Buffer[] = [];
    for (const t of targets) {
      const res = await fetch(t.s.url + row.path, { headers: t.headers });
      const body = Buffer.from(await res.arrayBuffer());
      if (res.status !== 200) throw new Error(`${row.name} on ${t.label}: HTTP ${res.status} ${body.toString().slice(0, 200)}`);
      bodies.push(body);
    }
    if (!bodies.every((b) => b.equals(bodies[bodies.length - 1] as Buffer))) throw new Error(`${row.name}: the answers differ between the stores`);
    // Each ClickHouse build is measured once its blocks answer the row: two answers in a row that made clickhouse-server
    // read nothing of the row's tables but their stamps (system.query_log; dense-clickhouse-warm.ts), at most 10 minutes.
    const warm: string[] = [];
    for (const t of targets.slice(0, -1)) {
      const w = await warmRow({ name: `${t.label}: ${row.name}`, url: t.s.url + row.path, headers: t.headers, blocks: row.blocks }, queryLog, log,
        { deadlineMs: 600_000, gapMs: 500 });
      warm.push(w.warm ? 'warm' : 'NOT warm');
    }
    // `rounds` rounds, each target once per round in a rotated order (a busy machine's load drifts: no build always goes first);
    // each target's round with the median req/s is reported.
    const byTarget: LoadResult[][] = targets.map(() => []);
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < targets.length; k++) {
        const i = (k + round) % targets.length;
        const t = targets[i] as (typeof targets)[0];
        const t0 = Date.now();
        const cpu0 = chCpuMs();
        const r = await load(`${t.label}: ${row.name}`, t.s.url + row.path, { connections: 10, seconds, headers: t.headers });
        const t1 = Date.now();
        const chLine = i < targets.length - 1
          ? ` (${warm[i] ?? ''}; clickhouse-server ${((chCpuMs() - cpu0) / Math.max(1, t1 - t0)).toFixed(2)} cores, ${await chQueries(t0, t1)})` : '';
        log(`${t.label}: ${row.name}${rounds > 1 ? ` (round ${round + 1})` : ''}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms${chLine}`);
        (byTarget[i] as LoadResult[]).push(r);
      }
    }
    const results = byTarget.map((rs) => [...rs].sort((a, b) => a.rps - b.rps)[Math.floor(rs.length / 2)] as LoadResult);
    const sq = results[results.length - 1] as LoadResult;
    rows.push([row.name, (bodies[0] as Buffer).length / 1024, ...results.flatMap((r) => [r.rps, r.p99]),
      ...results.slice(0, -1).map((r) => r.rps / sq.rps)]);
  }
  const heads = ['query (uncached, 10 connections)', 'KB/resp', ...targets.flatMap((t) => [`${t.label} req/s`, 'p99 ms']),
    ...targets.slice(0, -1).map((t) => `${t.label} / SQLite`)];
  console.log(`\nHour blocks, same run (${cells} cells, ${trafficCells} traffic cells over ${(end + HOUR - trafficFirst) / HOUR} h, ${domains.length} domains x 26 h)\n\n${table(heads, rows)}\n`);
} finally {
  for (const s of servers) await s.stop();
  await ch.destroy();
  rmSync(dir, { recursive: true, force: true });
}
