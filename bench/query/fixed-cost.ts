// The fixed cost of one answer through livestats (issue 21 item 6), beside its floors, in one run:
//
//   node dist/bench/query/fixed-cost.js [--baseline <checkout of an older build>] [--row portrait|httpcodes1h]
//     [--seconds 5] [--rounds 3] [--sqlite-baseline-data <dir>]
//
// Targets, each in its own process, at 10 connections, uncached, the order rotated each round:
// - bare node:http sending the row's bytes (bare-server.ts: what issue 21's "x bare" is over);
// - bare Fastify with livestats' route shape sending the same bytes (bare-fastify.ts), and the same with one round trip
//   to a worker thread per answer (`--hop`): the floor of Fastify, and of Fastify plus the read worker hop;
// - livestats serving the SQLite dense dataset (.bench-data/dense), this build and, with --baseline, that build on its
//   own copy of the dataset (--sqlite-baseline-data, default .bench-data/dense-baseline; a data directory is served by
//   one process at a time); `--variant-flags="<serve flags>"`: one more target of this build served with those flags, on
//   .bench-data/dense-variant (another copy).
// Every answer of the livestats targets is checked byte for byte against the bare servers' bytes (this build's first
// answer). Per target: median req/s, p99, "x bare" (req/s over bare node:http's in the same round), and the serving
// process's CPU per answer (every thread, /proc): the fixed cost above the floors is the difference.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../../src/paths.js';
import { load, type LoadResult } from '../lib/load.js';
import { startProcess, type Server } from '../lib/proc.js';
import { processCpuMs as cpuMs } from '../lib/child-cpu.js';
import { table } from '../lib/table.js';
import { DENSE, denseDomain } from './dense.js';
import { denseAnchor } from './dense-anchor.js';
import { denseAudienceQueries } from './run-dense-audience.js';

const HOUR = 3_600_000;
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const { values } = parseArgs({
  options: {
    baseline: { type: 'string' }, row: { type: 'string', default: 'portrait' }, seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' }, 'sqlite-baseline-data': { type: 'string' }, 'variant-flags': { type: 'string' },
  },
});
const root = projectRoot();
const seconds = Number(values.seconds);
const rounds = Math.max(1, Number(values.rounds));
const say = (s: string): void => void process.stderr.write(`${s}\n`);

const dataDir = join(root, '.bench-data', 'dense');
const end = denseAnchor(dataDir) - HOUR;
const rows: Record<string, string> = {
  portrait: denseAudienceQueries(end).find((q) => q.name.startsWith('portrait'))?.path ?? '',
  httpcodes1h: `/v2/${DENSE.project}/stats/httpcodes?play_domains=${denseDomain(1)}&start_time=${iso(end - HOUR)}&end_time=${iso(end)}`,
};
const path = rows[String(values.row)];
if (!path) throw new Error(`--row: one of ${Object.keys(rows).join(', ')}`);

interface Target { label: string; s: Server; headers: Record<string, string>; path: string; livestats: boolean }
const servers: Server[] = [];
const temp: string[] = [];
const serve = async (label: string, buildRoot: string, data: string, flags: string[] = []): Promise<Target> => {
  const keys = JSON.parse(execFileSync(process.execPath, [join(buildRoot, 'bin/livestats.js'), 'keys', 'create', '--project', DENSE.project, '--json', '--data', data]).toString()) as { token: string };
  const s = await startProcess([join(buildRoot, 'bin/livestats.js'), 'serve', '--data', data, '--port', '0', '--log-level', 'warn', '--query-cache-ms', '0',
    '--retention-days', '30', '--audience-retention-days', '40', ...flags], {}, 300_000);
  servers.push(s);
  return { label, s, headers: { 'x-auth-token': keys.token }, path, livestats: true };
};
try {
  const livestats = [await serve('livestats SQLite, this build', root, dataDir)];
  const baselineData = resolve(values['sqlite-baseline-data'] ?? join(root, '.bench-data', 'dense-baseline'));
  if (values.baseline) {
    if (!existsSync(join(baselineData, 'livestats.db'))) throw new Error(`${baselineData}: no copy of the dataset for the baseline build`);
    livestats.push(await serve('livestats SQLite, baseline', resolve(values.baseline), baselineData));
  }
  if (values['variant-flags']) {
    const variantData = join(root, '.bench-data', 'dense-variant');
    if (!existsSync(join(variantData, 'livestats.db'))) throw new Error(`${variantData}: no copy of the dataset for the variant`);
    const flags = values['variant-flags'].split(' ').filter((f) => f !== '');
    livestats.push(await serve(`livestats SQLite, this build (${flags.join(' ')})`, root, variantData, flags));
  }
  const first = livestats[0] as Target;
  const expected = Buffer.from(await (await fetch(first.s.url + path, { headers: first.headers })).arrayBuffer());
  for (const t of livestats) {
    for (let i = 0; i < 50; i++) {
      const body = Buffer.from(await (await fetch(t.s.url + path, { headers: t.headers })).arrayBuffer());
      if (!body.equals(expected)) throw new Error(`${t.label}: the answer differs from this build's first answer`);
    }
  }
  const bodyDir = mkdtempSync(join(tmpdir(), 'livestats-fixed-'));
  temp.push(bodyDir);
  const bodyFile = join(bodyDir, 'body.json');
  writeFileSync(bodyFile, expected);
  const bare = async (label: string, script: string, extra: string[] = []): Promise<Target> => {
    const s = await startProcess([join(root, 'dist', 'bench', 'query', script), bodyFile, ...extra]);
    servers.push(s);
    return { label, s, headers: {}, path: script === 'bare-server.js' ? '/' : path, livestats: false };
  };
  const targets = [
    await bare('bare node:http', 'bare-server.js'),
    await bare('bare Fastify', 'bare-fastify.js'),
    await bare('bare Fastify + worker hop', 'bare-fastify.js', ['--hop']),
    ...livestats,
  ];
  for (const t of targets.filter((x) => !x.livestats)) {
    const body = Buffer.from(await (await fetch(t.s.url + t.path)).arrayBuffer());
    if (!body.equals(expected)) throw new Error(`${t.label}: not the same bytes`);
  }
  type Run = { r: LoadResult; cpuUs: number; bare: number };
  const runs = targets.map((): Run[] => []);
  for (let round = 0; round < rounds; round++) {
    const inRound: Run[] = [];
    let bareRps = 0;
    for (let k = 0; k < targets.length; k++) {
      const i = (k + round) % targets.length;
      const t = targets[i] as Target;
      const c0 = cpuMs(t.s.child.pid);
      const r = await load(t.label, t.s.url + t.path, { connections: 10, seconds, headers: t.headers });
      if (r.non2xx > 0 || r.errors > 0) throw new Error(`${t.label}: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
      const cpuUs = ((cpuMs(t.s.child.pid) - c0) * 1000) / Math.max(1, r.requests);
      say(`${t.label} (round ${round + 1}): ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, server CPU ${cpuUs.toFixed(0)} µs/answer; load average ${loadavg()[0]?.toFixed(1)}`);
      const run = { r, cpuUs, bare: 0 };
      if (i === 0) bareRps = r.rps;
      (runs[i] as Run[]).push(run);
      inRound.push(run);
    }
    for (const run of inRound) run.bare = bareRps;
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const out = targets.map((t, i) => {
    const rs = runs[i] as Run[];
    return [t.label, median(rs.map((x) => x.r.rps)), median(rs.map((x) => x.r.p99)), median(rs.map((x) => x.cpuUs)), median(rs.map((x) => x.r.rps / Math.max(1e-9, x.bare)))];
  });
  console.log(`\nFixed cost of one answer (${String(values.row)}: ${expected.length} bytes), same run, median of ${rounds} round(s) of ${seconds} s, uncached, 10 connections`
    + ` (load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')} at the end; "x bare": req/s over bare node:http's in the same round;`
    + ' server CPU: the serving process, every thread)\n\n'
    + table(['target', 'req/s', 'p99 ms', 'server CPU µs/answer', 'x bare'], out) + '\n');
} finally {
  for (const s of servers) await s.stop();
  for (const d of temp) rmSync(d, { recursive: true, force: true });
}
