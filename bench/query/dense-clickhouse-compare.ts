// Before/after on the ClickHouse dense dataset, same run:
//   node dist/bench/query/dense-clickhouse-compare.js --baseline <checkout of the older build> [--rounds 3] [--seconds 5] [--connections 10]
// Starts the clickhouse-server of `.bench-data/dense-clickhouse/` (made by `npm run bench -- dense
// --store clickhouse`), one uncached `livestats serve` of this build and one of the baseline build
// on it, and runs each dense query row on both, alternating, several rounds. Besides req/s and
// latency it reports CPU time per request (user + system from /proc) of clickhouse-server and of
// each livestats process, which moves far less than wall time when other work shares the cores.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../../src/paths.js';
import { startClickHouseIn } from '../../test/harness/clickhouse.js';
import { load, type LoadResult } from '../lib/load.js';
import { startProcess, type Server } from '../lib/proc.js';
import { table } from '../lib/table.js';
import { DENSE, denseDomain } from './dense.js';

const HOUR = 3_600_000;
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

const { values } = parseArgs({ options: { baseline: { type: 'string' }, rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '5' }, connections: { type: 'string', default: '10' } } });
if (!values.baseline) throw new Error('--baseline <checkout of the older build> is required');
const root = projectRoot();
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const log = (s: string): void => void process.stderr.write(`${s}\n`);

const dir = join(root, '.bench-data', 'dense-clickhouse');
const server = await startClickHouseIn(join(dir, 'server'), { queryLog: true });
const url = server.url('bench_dense');
const meta = (await server.sql("SELECT argMax(value, version) FROM bench_dense.meta WHERE key = 'bench.dense' FORMAT TSVRaw")).trim();
const anchor = (JSON.parse(meta) as { anchor: number }).anchor;

async function serve(label: string, buildRoot: string): Promise<{ label: string; s: Server; headers: Record<string, string> }> {
  const data = join(dir, `compare-${label}`);
  mkdirSync(data, { recursive: true });
  const keys = JSON.parse(execFileSync(process.execPath, [join(buildRoot, 'bin/livestats.js'), 'keys', 'create', '--project', DENSE.project,
    '--json', '--data', data]).toString()) as { token: string };
  const s = await startProcess([join(buildRoot, 'bin/livestats.js'), 'serve', '--data', data, '--store', 'clickhouse', '--clickhouse-url', url,
    '--port', '0', '--log-level', 'warn', '--query-cache-ms', '0', '--retention-days', '30']);
  return { label, s, headers: { 'x-auth-token': keys.token } };
}

const builds = [await serve('before', values.baseline), await serve('after', root)];
const end = anchor - HOUR;
const top10 = Array.from({ length: 10 }, (_, i) => denseDomain(i + 1)).join(',');
const day = `start_time=${iso(end - 24 * HOUR)}&end_time=${iso(end)}`;
const q = `/v2/${DENSE.project}/stats/httpcodes?play_domains=${top10}&${day}`;
const list = [
  { name: '1 h x 1 domain', path: `/v2/${DENSE.project}/stats/httpcodes?play_domains=${denseDomain(1)}&start_time=${iso(end - HOUR)}&end_time=${iso(end)}` },
  { name: '24 h x 10 domains', path: q },
  { name: '24 h x 10 domains, region GD,SH + isp CMCC + code 200,404', path: `${q}&region=GD,SH&isp=CMCC&code=200,404` },
  { name: '24 h x 10 domains, isp CMCC only', path: `${q}&isp=CMCC` },
  { name: '24 h x 10 domains, region GD only', path: `${q}&region=GD` },
];
type Run = LoadResult & { chCpuPerReq: number; lsCpuPerReq: number; readRows: number; chMs: number };

/** Average rows read and duration of the SELECTs clickhouse-server finished between t0 and t1 (system.query_log). */
async function logged(t0: number, t1: number): Promise<{ readRows: number; chMs: number }> {
  await server.sql('SYSTEM FLUSH LOGS');
  const out = (await server.sql(`SELECT avg(read_rows), avg(query_duration_ms) FROM system.query_log WHERE type = 2
    AND event_time >= toDateTime(${Math.floor(t0 / 1000)}) AND event_time <= toDateTime(${Math.ceil(t1 / 1000)})
    AND query LIKE 'SELECT%' AND query NOT LIKE '%system.%' FORMAT TSV`)).trim().split('\t');
  return { readRows: Number(out[0]) || 0, chMs: Number(out[1]) || 0 };
}
const results = new Map<string, Run[]>();
try {
  for (const s of list) {
    const bodies = await Promise.all(builds.map(async (b) => Buffer.from(await (await fetch(b.s.url + s.path, { headers: b.headers })).arrayBuffer())));
    if (!(bodies[0] as Buffer).equals(bodies[1] as Buffer)) throw new Error(`${s.name}: the two builds answer different bytes`);
    for (let r = 0; r < rounds; r++) {
      for (const b of r % 2 === 0 ? builds : [...builds].reverse()) {
        const ch0 = cpuMs(server.pid());
        const ls0 = cpuMs(b.s.child.pid);
        const t0 = Date.now();
        const res = await load(s.name, b.s.url + s.path, { connections, seconds, headers: b.headers });
        const n = Math.max(1, res.requests);
        const run = { ...res, chCpuPerReq: (cpuMs(server.pid()) - ch0) / n, lsCpuPerReq: (cpuMs(b.s.child.pid) - ls0) / n, ...await logged(t0, Date.now()) };
        log(`${b.label} ${s.name}: ${res.rps.toFixed(1)} req/s, p50 ${res.p50} ms, p99 ${res.p99} ms, clickhouse ${run.chCpuPerReq.toFixed(1)} ms CPU/req, ` +
          `livestats ${run.lsCpuPerReq.toFixed(1)} ms CPU/req, ${Math.round(run.readRows)} rows read/query in ${run.chMs.toFixed(0)} ms`);
        const k = `${s.name}\u0000${b.label}`;
        results.set(k, [...(results.get(k) ?? []), run]);
      }
    }
  }
} finally {
  for (const b of builds) await b.s.stop();
  await server.stop();
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const rowsOut = list.map((s) => {
  const [before, after] = builds.map((b) => results.get(`${s.name}\u0000${b.label}`) ?? []) as [Run[], Run[]];
  const m = (runs: Run[], f: (r: Run) => number): number => median(runs.map(f));
  return [s.name,
    m(before, (r) => r.rps), m(after, (r) => r.rps), m(after, (r) => r.rps) / Math.max(1e-9, m(before, (r) => r.rps)),
    m(before, (r) => r.p50), m(after, (r) => r.p50), m(before, (r) => r.p99), m(after, (r) => r.p99),
    m(before, (r) => r.chCpuPerReq), m(after, (r) => r.chCpuPerReq), m(before, (r) => r.lsCpuPerReq), m(after, (r) => r.lsCpuPerReq),
    Math.round(m(before, (r) => r.readRows)), Math.round(m(after, (r) => r.readRows))];
});
console.log(`\nClickHouse dense rows, before (${values.baseline}) vs after (${root}), median of ${rounds} alternating rounds of ${seconds} s, ${connections} connection(s), uncached\n`);
console.log(table(['query', 'req/s before', 'req/s after', 'ratio', 'p50 before', 'p50 after', 'p99 before', 'p99 after',
  'CH ms CPU/req before', 'CH ms CPU/req after', 'livestats ms CPU/req before', 'livestats ms CPU/req after',
  'CH rows read/query before', 'CH rows read/query after'], rowsOut));
