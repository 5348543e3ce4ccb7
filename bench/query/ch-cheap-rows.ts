// The dense bench's two cheapest ClickHouse answers (issue 24: the portrait of a head domain and 1 h x 1
// domain), this build beside a baseline build and the SQLite store, in one run, without the full dense
// bench's load and its other rows:
//
//   node dist/bench/query/ch-cheap-rows.js [--baseline <checkout of an older build>] [--rows portrait,httpcodes1h]
//     [--seconds 5] [--rounds 2] [--query-log off,on] [--cpu-prof <dir>]
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
// (every thread). `--cpu-prof`: this build's server
// runs under node --cpu-prof, its profile written to that directory when it stops.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { projectRoot } from '../../src/paths.js';
import { startClickHouseIn } from '../../test/harness/clickhouse.js';
import { chSelects, readChEvents } from '../lib/ch-events.js';
import { load, type LoadResult } from '../lib/load.js';
import { startProcess, type Server } from '../lib/proc.js';
import { table } from '../lib/table.js';
import { warmRow, type QueryLog } from './dense-clickhouse-warm.js';
import { DENSE, denseDomain } from './dense.js';
import { denseAudienceQueries } from './run-dense-audience.js';

const HOUR = 3_600_000;
const DATABASE = 'bench_dense';
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const { values } = parseArgs({
  options: {
    baseline: { type: 'string' }, seconds: { type: 'string', default: '5' }, rounds: { type: 'string', default: '2' },
    rows: { type: 'string', default: 'portrait,httpcodes1h' }, 'query-log': { type: 'string', default: 'off,on' }, 'cpu-prof': { type: 'string' },
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

/** CPU time (user + system, every thread) of a process so far, in ms (/proc, clock ticks of 10 ms). */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) * 10;
}

const sqliteDir = join(root, '.bench-data', 'dense');
const db = new Database(join(sqliteDir, 'livestats.db'), { readonly: true, fileMustExist: true });
const meta = db.prepare("SELECT value FROM meta WHERE key = 'bench.dense'").pluck().get() as string | undefined;
db.close();
if (!meta) throw new Error(`${sqliteDir}: no bench.dense meta row (not a dense dataset)`);
const end = (JSON.parse(meta) as { anchor: number }).anchor - HOUR;
const portrait = denseAudienceQueries(end).find((q) => q.name.startsWith('portrait'));
const all = [
  { key: 'portrait', name: 'portrait of a head domain (yesterday)', path: portrait?.path ?? '', blocks: 'audience_' },
  { key: 'httpcodes1h', name: '1 h x 1 domain', blocks: 'http_counts',
    path: `/v2/${DENSE.project}/stats/httpcodes?play_domains=${denseDomain(1)}&start_time=${iso(end - HOUR)}&end_time=${iso(end)}` },
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
interface Target { label: string; s: Server; headers: Record<string, string>; ch: boolean }
const serve = async (label: string, buildRoot: string, ch: boolean, node: string[] = []): Promise<Target> => {
  const data = ch ? mkdtempSync(join(tmpdir(), 'livestats-cheap-')) : sqliteDir;
  if (ch) temp.push(data);
  const keys = JSON.parse(execFileSync(process.execPath, [join(buildRoot, 'bin/livestats.js'), 'keys', 'create', '--project', DENSE.project, '--json', '--data', data]).toString()) as { token: string };
  const s = await startProcess([...node, join(buildRoot, 'bin/livestats.js'), 'serve', '--data', data, '--port', '0', '--log-level', 'warn', '--query-cache-ms', '0',
    '--retention-days', '30', '--audience-retention-days', '40', ...(ch ? ['--store', 'clickhouse', '--clickhouse-url', url] : [])], {}, 300_000);
  servers.push(s);
  return { label, s, headers: { 'x-auth-token': keys.token }, ch };
};
try {
  const targets = [
    await serve('ClickHouse, this build', root, true, values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${resolve(values['cpu-prof'])}`] : []),
    ...(values.baseline ? [await serve('ClickHouse, baseline', resolve(values.baseline), true)] : []),
    await serve('SQLite, this build', root, false),
  ];
  const out: Array<Array<string | number>> = [];
  for (const row of list) {
    const sqlite = targets[targets.length - 1] as Target;
    const expected = Buffer.from(await (await fetch(sqlite.s.url + row.path, { headers: sqlite.headers })).arrayBuffer());
    for (const t of targets.filter((x) => x.ch)) {
      const w = await warmRow({ name: `${t.label}: ${row.name}`, url: t.s.url + row.path, headers: t.headers, blocks: row.blocks }, queryLog, say,
        { deadlineMs: 300_000, gapMs: 500 });
      if (!w.warm) throw new Error(`${t.label}: ${row.name}: not warm`);
      if (!w.body.equals(expected)) throw new Error(`${t.label}: ${row.name}: the answer differs from SQLite's`);
    }
    type Run = { r: LoadResult; cpuUs: number; chCores: number; chUs: number; chPerAnswer: number; chMarks: number; chMs: number };
    // Rounds outer, the query log states alternating inside each (their order rotated too): the machine's load drifts
    // over minutes, so the states are measured side by side, not one after the other.
    const byState = new Map(logStates.map((st) => [st, targets.map((): Run[] => [])]));
    for (let round = 0; round < rounds; round++) {
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
          const ch0 = cpuMs(server.pid());
          const r = await load(`${t.label}: ${row.name}`, t.s.url + row.path, { connections: 10, seconds, headers: t.headers });
          const t1 = Date.now();
          const cpuUs = ((cpuMs(t.s.child.pid) - c0) * 1000) / Math.max(1, r.requests);
          const chCores = (cpuMs(server.pid()) - ch0) / Math.max(1, t1 - t0);
          const chUs = ((cpuMs(server.pid()) - ch0) * 1000) / Math.max(1, r.requests);
          const q = chSelects(e0, await readChEvents(chSql));
          const chPerAnswer = q.selects / Math.max(1, r.requests);
          say(`${t.label}: ${row.name} (query log ${state}, round ${round + 1}): ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, server CPU ${cpuUs.toFixed(0)} µs/answer`
            + (t.ch ? `, clickhouse-server ${chCores.toFixed(2)} cores, ${chUs.toFixed(0)} µs/answer, ${chPerAnswer.toFixed(2)} SELECTs/answer (${q.marks.toFixed(1)} marks, ${q.threadMs.toFixed(2)} thread ms each)` : '')
            + `; load average ${loadavg()[0]?.toFixed(1)}`);
          (byTarget[i] as Run[]).push({ r, cpuUs, chCores, chUs, chPerAnswer, chMarks: q.marks, chMs: q.threadMs });
        }
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
        out.push([row.name, state, t.label, m.r.rps, m.r.p99, m.cpuUs, t.ch ? m.r.rps / sq.r.rps : '', t.ch ? m.chPerAnswer : '', t.ch ? m.chCores : '',
          t.ch ? medianChUs[i] ?? '' : '', t.ch ? m.chMarks : '', t.ch ? m.chMs : '']);
      });
    }
  }
  console.log(`\nCheap ClickHouse answers, same run (median of ${rounds} round(s), ${seconds} s each, uncached, 10 connections)\n\n`
    + `(load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')} at the end; "query log": clickhouse-server's system.query_log during the loads; `
    + '"/ SQLite": req/s over the SQLite store\'s in the same query log state; SELECTs, marks and thread ms from system.events, the server\'s own periodic SELECTs included)\n\n'
    + table(['row', 'query log', 'target', 'req/s', 'p99 ms', 'server CPU µs/answer', '/ SQLite', 'CH SELECTs/answer', 'CH cores', 'CH CPU µs/answer (median)',
      'CH marks/SELECT', 'CH thread ms/SELECT'], out) + '\n');
} finally {
  for (const s of servers) await s.stop();
  await server.stop();
  for (const d of temp) rmSync(d, { recursive: true, force: true });
}
