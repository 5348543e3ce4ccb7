// The dense bench's two cheapest ClickHouse answers (issue 24: the portrait of a head domain and 1 h x 1
// domain; `httpcodes24h`: 24 h x 10 domains, the dense bench's row), this build beside a baseline build and the SQLite store, in one run, without the full dense
// bench's load and its other rows:
//
//   node dist/bench/query/ch-cheap-rows.js [--baseline <checkout of an older build>] [--rows portrait,httpcodes1h]
//     [--seconds 5] [--rounds 2] [--query-log off,on] [--cpu-prof <dir>] [--sqlite-baseline-data <dir>]
//
// The other dense audience rows are here too (issue 21): `--rows users7,users31,playinfo` (users 7 d at 60 s and
// 31 d at 300 s of a head domain, play-info of 10 domains). With --baseline the SQLite store of the baseline build
// is measured as well, on its own copy of the SQLite dataset (a data directory is served by one process at a time):
// --sqlite-baseline-data, default .bench-data/dense-baseline (`cp -r .bench-data/dense .bench-data/dense-baseline`;
// left out when missing). Every round ends with a
// bare node:http server sending the row's bytes (bare-server.ts): the "x bare" column is each target's req/s over
// the bare server's in the same round (the figure issue 21's targets are in).
//
// Needs the loaded dense datasets in this checkout's .bench-data/: `dense` (SQLite) and `dense-clickhouse`
// (`npm run bench -- dense --store clickhouse` writes both; copies of them do). clickhouse-server is started on
// .bench-data/dense-clickhouse/server (system.query_log on), each build serves it from a temporary data directory
// (its keys), the SQLite store serves .bench-data/dense. Every row: each ClickHouse build warmed up until its
// blocks answer (dense-clickhouse-warm.ts, reading system.query_log), every answer checked byte for byte against
// SQLite's, then `rounds` rounds of uncached loads at 10 connections (the targets' order rotated each round), each
// round once per `--query-log` state (default both: `off`, clickhouse-server's query log off as in the dense bench's
// loads, and `on`, as the benches ran before, so the log's cost shows in the same run, the states alternating within
// each round; test/harness/clickhouse.ts setQueryLog; its cost is best read from clickhouse-server's CPU per answer). Each ClickHouse load is logged with clickhouse-server's CPU, its SELECTs per answer, their marks and
// thread time (system.events: bench/lib/ch-events.ts), and every load with the serving process's CPU per answer
// (every thread). `--cpu-prof`: this build's servers
// run under node --cpu-prof, their profiles written when they stop: the ClickHouse one's to that directory, the SQLite
// one's to its `sqlite` subdirectory (bench/lib/profile-phases.js reads them). `--serve-flags="<flags>"`: more
// `livestats serve` flags for this build's ClickHouse target (e.g. "--query-thread-nice 0"); `--variant-flags="<flags>"`:
// one more ClickHouse target of this build served with those flags, beside the plain one, in the same rounds.
// `--node-variant="<node flags>"` (repeatable, e.g. `--node-variant=--max-semi-space-size=4`): one more ClickHouse target
// of this build per value, its server run by node with those flags (space-separated), in the same rounds. Every load is
// logged with the serving process's CPU per answer by thread group (bench/lib/thread-cpu.ts: main thread, V8's platform
// threads (GC helpers), later threads (workers)). `--trace-gc`: every server runs under node --trace-gc, and each load
// is logged with its main thread's GC pauses (scavenges, mark-compacts, their ms per answer).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../../src/paths.js';
import { startClickHouseIn } from '../../test/harness/clickhouse.js';
import { chSelects, readChEvents } from '../lib/ch-events.js';
import { processCpuMs as cpuMs } from '../lib/child-cpu.js';
import { load, type LoadResult } from '../lib/load.js';
import { startProcess, type Server } from '../lib/proc.js';
import { table } from '../lib/table.js';
import { startupThreads, threadCpuMs, type ThreadCpu } from '../lib/thread-cpu.js';
import { warmRow, type QueryLog } from './dense-clickhouse-warm.js';
import { DENSE, denseDomain } from './dense.js';
import { denseAnchor } from './dense-anchor.js';
import { denseAudienceQueries } from './run-dense-audience.js';

const HOUR = 3_600_000;
const DATABASE = 'bench_dense';
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const { values } = parseArgs({
  options: {
    baseline: { type: 'string' }, seconds: { type: 'string', default: '5' }, rounds: { type: 'string', default: '2' },
    rows: { type: 'string', default: 'portrait,httpcodes1h' }, 'query-log': { type: 'string', default: 'off,on' }, 'cpu-prof': { type: 'string' },
    'sqlite-baseline-data': { type: 'string' }, 'serve-flags': { type: 'string' }, 'variant-flags': { type: 'string' },
    'node-variant': { type: 'string', multiple: true }, 'trace-gc': { type: 'boolean', default: false },
  },
});
const root = projectRoot();
const seconds = Number(values.seconds);
const rounds = Math.max(1, Number(values.rounds));
const logStates = String(values['query-log']).split(',').map((m) => {
  if (m !== 'on' && m !== 'off') throw new Error(`--query-log: on, off or both (off,on), not ${m}`);
  return m;
});
const say = (s: string): void => void process.stderr.write(`${s}\n`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

const sqliteDir = join(root, '.bench-data', 'dense');
const end = denseAnchor(sqliteDir) - HOUR;
const audienceRow = (prefix: string): string => denseAudienceQueries(end).find((q) => q.name.startsWith(prefix))?.path ?? '';
const all = [
  { key: 'users7', name: 'users 7 d x 1 head domain, 60 s', path: audienceRow('users 7 d'), blocks: 'audience_' },
  { key: 'users31', name: 'users 31 d x 1 head domain, 300 s', path: audienceRow('users 31 d'), blocks: 'audience_' },
  { key: 'playinfo', name: 'play-info 10 domains, 1,000 live streams', path: audienceRow('play-info'), blocks: 'audience_' },
  { key: 'portrait', name: 'portrait of a head domain (yesterday)', path: audienceRow('portrait'), blocks: 'audience_' },
  { key: 'httpcodes1h', name: '1 h x 1 domain', blocks: 'http_counts',
    path: `/v2/${DENSE.project}/stats/httpcodes?play_domains=${denseDomain(1)}&start_time=${iso(end - HOUR)}&end_time=${iso(end)}` },
  { key: 'httpcodes24h', name: '24 h x 10 domains', blocks: 'http_counts',
    path: `/v2/${DENSE.project}/stats/httpcodes?play_domains=${Array.from({ length: 10 }, (_, i) => denseDomain(i + 1)).join(',')}&start_time=${iso(end - 24 * HOUR)}&end_time=${iso(end)}` },
];
const wanted = new Set(String(values.rows).split(','));
const list = all.filter((r) => wanted.has(r.key));

const server = await startClickHouseIn(join(root, '.bench-data', 'dense-clickhouse', 'server'), { queryLog: true });
const url = server.url(DATABASE);
const chSql = (q: string): Promise<string> => server.sql(q);
const queryLog: QueryLog = {
  database: DATABASE,
  async rows(sql) {
    const text = await server.sql(`${sql} FORMAT JSONEachRow`);
    return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  },
  async exec(sql) {
    await server.sql(sql);
  },
};
const temp: string[] = [];
const servers: Server[] = [];
interface Target { label: string; s: Server; headers: Record<string, string>; ch: boolean; startup: number; gc: GcCounts }

/** A server's main-thread GC pauses so far (--trace-gc). */
interface GcCounts { scavenges: number; markCompacts: number; ms: number }

/** Counts a server's --trace-gc pauses of its first isolate (the main thread: its lines come first, from the start). */
function gcCounter(): { output: (d: Buffer) => void; counts: GcCounts } {
  const counts: GcCounts = { scavenges: 0, markCompacts: 0, ms: 0 };
  let main: string | undefined;
  let rest = '';
  const output = (d: Buffer): void => {
    const lines = (rest + d.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      const m = /^\[\d+:(0x[0-9a-f]+)\]\s+\d+ ms: (Scavenge|Mark-Compact|Mark-sweep)[^\d]*[\d.]+ \([\d.]+\) -> [\d.]+ \([\d.]+\) MB, ([\d.]+) \//.exec(line);
      if (!m) continue;
      main ??= m[1];
      if (m[1] !== main) continue;
      if (m[2] === 'Scavenge') counts.scavenges++;
      else counts.markCompacts++;
      counts.ms += Number(m[3]);
    }
  };
  return { output, counts };
}

const sqliteBaselineDir = resolve(values['sqlite-baseline-data'] ?? join(root, '.bench-data', 'dense-baseline'));
/** Serve flags given on the command line (`--serve-flags="--query-thread-nice 0"`: the = is needed), split at spaces. */
const flagsOf = (text: string | undefined): string[] => (text ?? '').split(' ').filter((f) => f !== '');
const serve = async (label: string, buildRoot: string, ch: boolean, node: string[] = [], sqliteData = sqliteDir, flags: string[] = []): Promise<Target> => {
  const data = ch ? mkdtempSync(join(tmpdir(), 'livestats-cheap-')) : sqliteData;
  if (ch) temp.push(data);
  const keys = JSON.parse(execFileSync(process.execPath, [join(buildRoot, 'bin/livestats.js'), 'keys', 'create', '--project', DENSE.project, '--json', '--data', data]).toString()) as { token: string };
  const nodeFlags = [...node, ...(values['trace-gc'] ? ['--trace-gc'] : [])];
  const gc = gcCounter();
  const s = await startProcess([...nodeFlags, join(buildRoot, 'bin/livestats.js'), 'serve', '--data', data, '--port', '0', '--log-level', 'warn', '--query-cache-ms', '0',
    '--retention-days', '30', '--audience-retention-days', '40', ...(ch ? ['--store', 'clickhouse', '--clickhouse-url', url] : []), ...flags], {}, 300_000,
  gc.output);
  servers.push(s);
  return { label, s, headers: { 'x-auth-token': keys.token }, ch, startup: startupThreads(nodeFlags), gc: gc.counts };
};
try {
  const targets = [
    await serve(values['serve-flags'] ? `ClickHouse, this build (${values['serve-flags']})` : 'ClickHouse, this build', root, true,
      values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${resolve(values['cpu-prof'])}`] : [], sqliteDir, flagsOf(values['serve-flags'])),
    ...(values['variant-flags'] ? [await serve(`ClickHouse, this build (${values['variant-flags']})`, root, true, [], sqliteDir, flagsOf(values['variant-flags']))] : []),
    ...await (async () => {
      const vs: Target[] = [];
      for (const v of values['node-variant'] ?? []) vs.push(await serve(`ClickHouse, this build (node ${v})`, root, true, flagsOf(v)));
      return vs;
    })(),
    ...(values.baseline ? [await serve('ClickHouse, baseline', resolve(values.baseline), true)] : []),
    ...(values.baseline && existsSync(join(sqliteBaselineDir, 'livestats.db')) ? [await serve('SQLite, baseline', resolve(values.baseline), false, [], sqliteBaselineDir)] : []),
    await serve('SQLite, this build', root, false, values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${resolve(values['cpu-prof'], 'sqlite')}`] : []),
  ];
  const out: Array<Array<string | number>> = [];
  const bareBin = join(root, 'dist', 'bench', 'query', 'bare-server.js');
  const bodyDir = mkdtempSync(join(tmpdir(), 'livestats-bare-'));
  temp.push(bodyDir);
  for (const row of list) {
    const sqlite = targets[targets.length - 1] as Target;
    const expected = Buffer.from(await (await fetch(sqlite.s.url + row.path, { headers: sqlite.headers })).arrayBuffer());
    for (const t of targets.filter((x) => x.ch)) {
      const w = await warmRow({ name: `${t.label}: ${row.name}`, url: t.s.url + row.path, headers: t.headers, blocks: row.blocks }, queryLog, say,
        { deadlineMs: 300_000, gapMs: 500 });
      if (!w.warm) throw new Error(`${t.label}: ${row.name}: not warm`);
      if (!w.body.equals(expected)) throw new Error(`${t.label}: ${row.name}: the answer differs from SQLite's`);
    }
    for (const t of targets.filter((x) => !x.ch)) {
      // The SQLite targets warmed up too (their first answers read the file into the page cache): 20 answers.
      for (let i = 0; i < 20; i++) {
        const body = Buffer.from(await (await fetch(t.s.url + row.path, { headers: t.headers })).arrayBuffer());
        if (!body.equals(expected)) throw new Error(`${t.label}: ${row.name}: the answer differs from this build's SQLite answer`);
      }
    }
    const bodyFile = join(bodyDir, `${row.key}.json`);
    writeFileSync(bodyFile, expected);
    type Run = { r: LoadResult; cpuUs: number; threads: ThreadCpu; gc: GcCounts; chCores: number; chUs: number; chPerAnswer: number; chMarks: number; chMs: number; bare: number };
    // Rounds outer, the query log states alternating inside each (their order rotated too): the machine's load drifts
    // over minutes, so the states are measured side by side, not one after the other.
    const byState = new Map(logStates.map((st) => [st, targets.map((): Run[] => [])]));
    for (let round = 0; round < rounds; round++) {
      const roundRuns: Run[] = [];
      for (let j = 0; j < logStates.length; j++) {
        const state = logStates[(j + round) % logStates.length] as 'on' | 'off';
        const byTarget = byState.get(state) as Run[][];
        await server.setQueryLog(state === 'on');
        for (let k = 0; k < targets.length; k++) {
          const i = (k + round) % targets.length;
          const t = targets[i] as Target;
          const e0 = await readChEvents(chSql);
          const t0 = Date.now();
          const c0 = cpuMs(t.s.child.pid);
          const th0 = threadCpuMs(t.s.child.pid, t.startup);
          const gc0 = { ...t.gc };
          const ch0 = cpuMs(server.pid());
          const r = await load(`${t.label}: ${row.name}`, t.s.url + row.path, { connections: 10, seconds, headers: t.headers });
          const t1 = Date.now();
          const cpuUs = ((cpuMs(t.s.child.pid) - c0) * 1000) / Math.max(1, r.requests);
          const th1 = threadCpuMs(t.s.child.pid, t.startup);
          const perAnswer = (ms: number): number => (ms * 1000) / Math.max(1, r.requests);
          const threads: ThreadCpu = { main: perAnswer(th1.main - th0.main), platform: perAnswer(th1.platform - th0.platform), later: perAnswer(th1.later - th0.later) };
          const gc: GcCounts = { scavenges: t.gc.scavenges - gc0.scavenges, markCompacts: t.gc.markCompacts - gc0.markCompacts, ms: t.gc.ms - gc0.ms };
          const chCores = (cpuMs(server.pid()) - ch0) / Math.max(1, t1 - t0);
          const chUs = ((cpuMs(server.pid()) - ch0) * 1000) / Math.max(1, r.requests);
          const q = chSelects(e0, await readChEvents(chSql));
          const chPerAnswer = q.selects / Math.max(1, r.requests);
          say(`${t.label}: ${row.name} (query log ${state}, round ${round + 1}): ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, server CPU ${cpuUs.toFixed(0)} µs/answer (main ${threads.main.toFixed(0)}, V8 platform ${threads.platform.toFixed(0)}, later threads ${threads.later.toFixed(0)})`
            + (values['trace-gc'] ? `, main-thread GC ${gc.scavenges} scavenges, ${gc.markCompacts} mark-compacts, ${gc.ms.toFixed(0)} ms` : '')
            + (t.ch ? `, clickhouse-server ${chCores.toFixed(2)} cores, ${chUs.toFixed(0)} µs/answer, ${chPerAnswer.toFixed(2)} SELECTs/answer (${q.marks.toFixed(1)} marks, ${q.threadMs.toFixed(2)} thread ms each)` : '')
            + `; load average ${loadavg()[0]?.toFixed(1)}`);
          const rec: Run = { r, cpuUs, threads, gc, chCores, chUs, chPerAnswer, chMarks: q.marks, chMs: q.threadMs, bare: 0 };
          (byTarget[i] as Run[]).push(rec);
          roundRuns.push(rec);
        }
      }
      // The bare server sending the same bytes, in the same round: each target's "x bare" is over it.
      const bare = await startProcess([bareBin, bodyFile]);
      try {
        const b = await load(`bare: ${row.name}`, `${bare.url}/`, { connections: 10, seconds });
        say(`bare: ${row.name} (round ${round + 1}): ${b.rps.toFixed(0)} req/s, p99 ${b.p99} ms; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
        for (const rec of roundRuns) rec.bare = b.rps;
      } finally {
        await bare.stop();
      }
    }
    await server.setQueryLog(true);
    for (const [state, byTarget] of byState) {
      const med = byTarget.map((rs) => [...rs].sort((a, b) => a.r.rps - b.r.rps)[Math.floor(rs.length / 2)] as Run);
      // clickhouse-server's CPU per answer: the median over the rounds of its own (it moves less with the load than req/s).
      const medianChUs = byTarget.map((rs) => ([...rs].sort((a, b) => a.chUs - b.chUs)[Math.floor(rs.length / 2)] as Run).chUs);
      const sq = med[med.length - 1] as Run;
      targets.forEach((t, i) => {
        const m = med[i] as Run;
        const xBare = median((byTarget[i] ?? []).map((x) => x.r.rps / Math.max(1e-9, x.bare)));
        const secs = m.r.requests / Math.max(1e-9, m.r.rps);
        out.push([row.name, state, t.label, m.r.rps, m.r.p99, m.cpuUs, m.threads.main, m.threads.platform, m.threads.later,
          values['trace-gc'] ? m.gc.markCompacts / secs : '', values['trace-gc'] ? m.gc.scavenges / secs : '', values['trace-gc'] ? (m.gc.ms * 1000) / Math.max(1, m.r.requests) : '',
          xBare, t.ch ? m.r.rps / sq.r.rps : '', t.ch ? m.chPerAnswer : '', t.ch ? m.chCores : '',
          t.ch ? medianChUs[i] ?? '' : '', t.ch ? m.chMarks : '', t.ch ? m.chMs : '']);
      });
    }
  }
  console.log(`\nCheap ClickHouse answers, same run (median of ${rounds} round(s), ${seconds} s each, uncached, 10 connections)\n\n`
    + `(load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')} at the end; "query log": clickhouse-server's system.query_log during the loads; `
    + '"/ SQLite": req/s over the SQLite store\'s in the same query log state; SELECTs, marks and thread ms from system.events, the server\'s own periodic SELECTs included)\n\n'
    + table(['row', 'query log', 'target', 'req/s', 'p99 ms', 'server CPU µs/answer', 'main µs', 'V8 platform µs', 'later threads µs',
      'mark-compacts/s', 'scavenges/s', 'main GC µs/answer', 'x bare', '/ SQLite', 'CH SELECTs/answer', 'CH cores', 'CH CPU µs/answer (median)',
      'CH marks/SELECT', 'CH thread ms/SELECT'], out) + '\n');
} finally {
  for (const s of servers) await s.stop();
  await server.stop();
  for (const d of temp) rmSync(d, { recursive: true, force: true });
}
