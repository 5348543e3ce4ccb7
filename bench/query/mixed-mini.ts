// The dense bench's mixed row (issue 24: ingest acknowledgement p99 <= 100 ms while the heaviest query
// runs) on a small dataset, both stores in the same run, for a machine too busy for the dense load:
//
//   node dist/bench/query/mixed-mini.js [--baseline <checkout of an older build>] [--domains 10] [--seconds 20]
//     [--rounds 1] [--cpu-prof <dir>] [--trace-gc [--gc-log <file>]] [--variant '<label>=<serve flags, NAME=value environment, node:<node flag>>' ...]
//
// Writes `domains` domains x 26 hours at the dense bench's density (~358 (province, carrier, code) cells
// per domain-minute) through each store's write path, into a temporary SQLite data directory and a
// temporary clickhouse-server (query_log on), then runs the mixed row against `livestats serve` on each
// (this build on ClickHouse, this build on ClickHouse with each --variant's extra `serve` flags (optional, e.g.
// 'nice 0=--query-thread-nice 0'), the baseline build on ClickHouse (optional), this build on SQLite), one after
// the other, `rounds` times in turn: 24 h x all domains (closed hours) at 10 connections, uncached, while
// a probe process (mixed-probe.ts) posts a 500-line batch with an X-Batch-Id 200 ms after each
// acknowledgement and polls /healthz every 50 ms. Prints each store's ack p50/p90/p99/max, the acks over 100 ms, /healthz
// p99/max, and, for each ClickHouse server, the statements of the write path in system.query_log while
// its mixed row ran (count, mean and max duration by kind). With --trace-gc every server runs under node --trace-gc
// and each one's main-thread GC pauses during its mixed rows are summed (count and longest of each kind, pauses
// over 50 ms, GC ms per second) and listed by V8's reason on stderr.
import { execFileSync, fork } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ISPS, REGIONS } from '../../src/contract/values.js';
import { projectRoot } from '../../src/paths.js';
import { ClickHouseStore } from '../../src/store/clickhouse/store.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import type { CountRow } from '../../src/store/types.js';
import { startClickHouseIn } from '../../test/harness/clickhouse.js';
import { load, type LoadResult } from '../lib/load.js';
import { startProcess, type Server } from '../lib/proc.js';
import { seeded } from '../lib/rng.js';
import { table } from '../lib/table.js';
import type { ProbeOptions, ProbeResult } from './mixed-probe.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const CODES = [200, 206, 304, 302, 404, 500];
const CODE_SHARE = [0.85, 0.06, 0.04, 0.02, 0.02, 0.01];
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const { values } = parseArgs({
  options: {
    baseline: { type: 'string' }, domains: { type: 'string', default: '10' }, seconds: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '1' },
    /** A directory: every server runs under node --cpu-prof, its profiles written to <dir>/<ch-new|ch-old|sqlite> when it stops. */
    'cpu-prof': { type: 'string' },
    /** '<label>=<serve flags, space-separated>': one more ClickHouse server of this build, with these flags (a database of its own). */
    variant: { type: 'string', multiple: true, default: [] },
    /** Every server runs under node --trace-gc: its main thread's pauses during the mixed rows are summed per server. */
    'trace-gc': { type: 'boolean', default: false },
    /** With --trace-gc: every server's whole GC output (all its threads, and what a variant's node:--trace-gc-nvp or
     * node:--trace-incremental-marking adds) appended to this file. */
    'gc-log': { type: 'string' },
  },
});
const root = projectRoot();
const domains = Array.from({ length: Number(values.domains) }, (_, i) => `m${String(i + 1).padStart(3, '0')}.mixed.example`);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const log = (s: string): void => void process.stderr.write(`${s}\n`);
const project = 'mixed';
// The window: 24 whole hours that closed at least 10 minutes ago, and one more hour on each side.
const end = Math.floor((Date.now() - 10 * MIN) / HOUR) * HOUR;
const first = end - 25 * HOUR;

// The dense bench's density (~358 (province, carrier, code) cells per domain-minute): the first 2/3 of the (province, carrier) pairs.
const PAIRS = REGIONS.flatMap((region) => ISPS.map((isp) => ({ region, isp })));
PAIRS.length = Math.round(PAIRS.length * 2 / 3);

/** One hour of one domain: each (region, isp) pair of PAIRS, codes by share. */
function hourRows(domain: string, hour: number, rng: () => number, scale: number): CountRow[] {
  const out: CountRow[] = [];
  for (let m = 0; m < 60; m++) {
    for (const { region, isp } of PAIRS) {
      {
        for (let c = 0; c < CODES.length; c++) {
          if (c > 0 && rng() > 0.55) continue;
          const count = Math.max(1, Math.floor(scale * (CODE_SHARE[c] as number) * 4 * (0.5 + rng())));
          out.push({ project, domain, minute: hour + m * MIN, region, isp, code: CODES[c] as number, count, bytes: count * 150_000 });
        }
      }
    }
  }
  return out;
}

const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number);
};

/** One GC pause of a server's main thread, as --trace-gc printed it. */
interface Pause { at: number; kind: 'Scavenge' | 'Mark-sweep' | 'Mark-Compact'; ms: number; heapMb: number; reason: string }

/** Collects a server's --trace-gc lines of its first isolate (the main thread; its workers start later). */
function gcTracer(): { output: (d: Buffer) => void; pauses: Pause[] } {
  const pauses: Pause[] = [];
  let main: string | undefined;
  let rest = '';
  const output = (d: Buffer): void => {
    if (values['gc-log'] !== undefined) appendFileSync(values['gc-log'], d);
    const lines = (rest + d.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      const m = /^\[\d+:(0x[0-9a-f]+)\]\s+\d+ ms: (Scavenge|Mark-sweep|Mark-Compact)[^\d]*([\d.]+) \([\d.]+\) -> [\d.]+ \([\d.]+\) MB, ([\d.]+) \//.exec(line);
      if (!m) continue;
      main ??= m[1];
      if (m[1] !== main) continue;
      const reason = line.slice(line.lastIndexOf(')') + 1).replace(/[;\s]+$/, '').trim();
      pauses.push({ at: Date.now(), kind: m[2] as Pause['kind'], ms: Number(m[4]), heapMb: Number(m[3]), reason });
    }
  };
  return { output, pauses };
}

interface Mixed { query: LoadResult[]; acks: number[]; health: number[]; probeLoopP99: number[]; flushSeconds: number; flushes: number; windows: [number, number][] }

/** The aggregator's successful flushes (the store's write of each batch, as the server's event loop sees it): [sum s, count]. */
async function flushTotals(url: string): Promise<[number, number]> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes('outcome="ok"'));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  return [value('livestats_aggregator_flush_duration_seconds_sum'), value('livestats_aggregator_flush_duration_seconds_count')];
}

/** One mixed row: the heaviest query at 10 connections, the probe in its own process. */
async function mixedRow(url: string, path: string, headers: Record<string, string>, into: Mixed): Promise<void> {
  const options: ProbeOptions = {
    url, token: headers['x-auth-token'] ?? '', project, domains, lines: 500, postGapMs: 200, healthGapMs: 50, latest: end + HOUR - MIN,
  };
  const [sum0, n0] = await flushTotals(url);
  const from = Date.now();
  const child = fork(fileURLToPath(new URL('./mixed-probe.js', import.meta.url)), [JSON.stringify(options)], { stdio: 'inherit' });
  const result = new Promise<ProbeResult>((resolve, reject) => {
    child.once('message', (m) => resolve(m as ProbeResult));
    child.once('exit', (code) => reject(new Error(`mixed probe exited with code ${code} before its result`)));
  });
  try {
    into.query.push(await load('mixed', url + path, { connections: 10, seconds, headers }));
  } finally {
    child.send('stop');
  }
  const p = await result;
  if (p.failures > 0) throw new Error(`mixed row: ${p.failures} ingest or /healthz answers were not 200`);
  into.acks.push(...p.acks);
  into.health.push(...p.health);
  into.probeLoopP99.push(p.loopDelayP99);
  const [sum1, n1] = await flushTotals(url);
  into.windows.push([from, Date.now()]);
  into.flushSeconds += sum1 - sum0;
  into.flushes += n1 - n0;
}

const dir = mkdtempSync(join(tmpdir(), 'livestats-mixed-mini-'));
const chDir = join(dir, 'clickhouse');
mkdirSync(chDir);
const ch = await startClickHouseIn(chDir, { queryLog: true });
const servers: Server[] = [];
try {
  for (const d of ['sqlite', 'ch-new', 'ch-old', ...(values.variant ?? []).map((_, i) => `ch-v${i + 1}`)]) mkdirSync(join(dir, d), { recursive: true });
  const sqliteStore = new SqliteStore(join(dir, 'sqlite', 'livestats.db'));
  await sqliteStore.init();
  const rng = seeded(24);
  let cells = 0;
  const started = Date.now();
  // Each ClickHouse-backed server gets a database of its own (the same data): its writes and its blocks are its own.
  const variants = (values.variant ?? []).map((v, i) => {
    const at = v.indexOf('=');
    if (at < 1) throw new Error(`--variant ${v}: expected <label>=<serve flags>`);
    // NAME=value words are the server's environment (e.g. LIVESTATS_CLICKHOUSE_READS_YIELD=0), the others its flags.
    const words = v.slice(at + 1).split(/\s+/).filter(Boolean);
    // node:<flag> words are node's own flags (e.g. node:--single-threaded-gc, which NODE_OPTIONS refuses).
    const isEnv = (w: string): boolean => /^[A-Z_][A-Z0-9_]*=/.test(w);
    const isNode = (w: string): boolean => w.startsWith('node:');
    const env = Object.fromEntries(words.filter(isEnv).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]));
    return { label: v.slice(0, at), flags: words.filter((w) => !isEnv(w) && !isNode(w)), env, nodeFlags: words.filter(isNode).map((w) => w.slice(5)), db: `mixed_v${i + 1}` };
  });
  const databases = ['mixed_new', ...variants.map((v) => v.db), ...(values.baseline ? ['mixed_old'] : [])];
  const chStores = databases.map((db) => new ClickHouseStore({ url: ch.url(db), hourBlocks: false }));
  for (const s of chStores) await s.init();
  for (let h = first; h < end + HOUR; h += HOUR) {
    const counts = domains.flatMap((domain, d) => hourRows(domain, h, rng, 40 / (d + 1)));
    cells += counts.length;
    const batch = { id: `mixed-mini-${h}`, counts, samples: [], tasks: [], checkpoints: [] };
    await sqliteStore.write(batch);
    for (const s of chStores) await s.write(batch);
  }
  await sqliteStore.close();
  for (const s of chStores) await s.close();
  log(`mixed mini: ${cells} cells (${domains.length} domains x 26 h, ${(cells / domains.length / 26 / 60).toFixed(0)} per domain-minute) written in ${((Date.now() - started) / 1000).toFixed(0)} s`);

  const prof = values['cpu-prof'];
  const serve = async (label: string, buildRoot: string, data: string, flags: string[], env: NodeJS.ProcessEnv = {}, nodeFlags: string[] = []): Promise<{ label: string; s: Server; headers: Record<string, string>; db?: string; gc?: Pause[] }> => {
    const node = [...nodeFlags, ...prof ? ['--cpu-prof', `--cpu-prof-dir=${join(prof, data.split('/').pop() as string)}`] : []];
    const tracer = values['trace-gc'] ? gcTracer() : undefined;
    if (tracer) node.push('--trace-gc');
    const keys = JSON.parse(execFileSync(process.execPath, [join(buildRoot, 'bin/livestats.js'), 'keys', 'create', '--project', project, '--json', '--data', data]).toString()) as { token: string };
    const s = await startProcess([...node, join(buildRoot, 'bin/livestats.js'), 'serve', '--data', data, ...flags, '--port', '0', '--log-level', 'warn', '--query-cache-ms', '0', '--retention-days', '30'], env, 60_000, tracer?.output);
    servers.push(s);
    const db = flags.includes('clickhouse') ? flags[flags.indexOf('--clickhouse-url') + 1]?.split('/').pop() : undefined;
    return { label, s, headers: { 'x-auth-token': keys.token }, ...(db ? { db } : {}), ...(tracer ? { gc: tracer.pauses } : {}) };
  };
  const targets = [
    await serve('ClickHouse, this build', root, join(dir, 'ch-new'), ['--store', 'clickhouse', '--clickhouse-url', ch.url('mixed_new')]),
    ...await Promise.all(variants.map((v, i) => serve(`ClickHouse, this build, ${v.label}`, root, join(dir, `ch-v${i + 1}`),
      ['--store', 'clickhouse', '--clickhouse-url', ch.url(v.db), ...v.flags], v.env, v.nodeFlags))),
    ...(values.baseline ? [await serve('ClickHouse, baseline', values.baseline, join(dir, 'ch-old'), ['--store', 'clickhouse', '--clickhouse-url', ch.url('mixed_old')])] : []),
    await serve('SQLite, this build', root, join(dir, 'sqlite'), []),
  ];
  const path = `/v2/${project}/stats/httpcodes?play_domains=${domains.join(',')}&start_time=${iso(end - 24 * HOUR)}&end_time=${iso(end)}`;
  // Warm: each server answers the row one request at a time until its answer time settles (ClickHouse: its hour
  // blocks built): 10 answers in a row within 1.5x the fastest, after at least 20 s, at most 120 s.
  for (const t of targets) {
    const t0 = Date.now();
    let fastest = Infinity;
    let settled = 0;
    while (Date.now() - t0 < 120_000 && !(settled >= 10 && Date.now() - t0 >= 20_000)) {
      const s = performance.now();
      const res = await fetch(t.s.url + path, { headers: t.headers });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${t.label}: HTTP ${res.status}`);
      const ms = performance.now() - s;
      fastest = Math.min(fastest, ms);
      settled = ms <= 1.5 * fastest ? settled + 1 : 0;
    }
    log(`${t.label}: warm after ${((Date.now() - t0) / 1000).toFixed(0)} s (fastest answer ${fastest.toFixed(0)} ms)`);
  }
  const results = targets.map((): Mixed => ({ query: [], acks: [], health: [], probeLoopP99: [], flushSeconds: 0, flushes: 0, windows: [] }));
  const writes = targets.map((): string[][] => []);
  for (let r = 0; r < rounds; r++) {
    for (const [i, t] of targets.entries()) {
      const from = Math.floor(Date.now() / 1000);
      const acksBefore = (results[i] as Mixed).acks.length;
      await mixedRow(t.s.url, path, t.headers, results[i] as Mixed);
      const m = results[i] as Mixed;
      const round = m.acks.slice(acksBefore);
      log(`${t.label}: round ${r + 1}: ${(m.query.at(-1) as LoadResult).rps.toFixed(0)} req/s; ${m.acks.length} acks so far, p99 ${pct(m.acks, 99)} ms; this round's acks ${round.length}: p50/p90/p99/max ${[50, 90, 99, 100].map((p) => pct(round, p)).join('/')} ms, ${round.filter((a) => a > 100).length} > 100 ms; /healthz p99 ${pct(m.health, 99)} ms; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
      if (t.db) {
        await ch.sql('SYSTEM FLUSH LOGS');
        // The write path's statements: INSERTs by table, the write lane's SELECTs (markers, checkpoints, names) by what they read.
        const text = await ch.sql(`SELECT
            if(startsWith(query, 'INSERT'), concat('INSERT ', extract(query, 'INSERT INTO ([^ (]+)')), concat('SELECT ', extract(query, 'FROM ([^ (]+)'))) AS kind,
            count() AS n, round(avg(query_duration_ms)) AS mean, quantileExact(0.99)(query_duration_ms) AS p99, max(query_duration_ms) AS mx
          FROM system.query_log
          WHERE type = 2 AND event_date = today() AND query_start_time >= toDateTime(${from}) AND query LIKE '%${t.db}%'
            AND (startsWith(query, 'INSERT') OR query LIKE '%checkpoints%')
          GROUP BY kind ORDER BY n DESC FORMAT TabSeparated`);
        for (const line of text.trim().split('\n')) if (line) (writes[i] as string[][]).push([`round ${r + 1}`, ...line.split('\t')]);
      }
    }
  }
  const rows = targets.map((t, i) => {
    const m = results[i] as Mixed;
    const rps = m.query.reduce((a, q) => a + q.rps, 0) / m.query.length;
    return [t.label, Math.round(rps), Math.max(...m.query.map((q) => q.p99)), m.acks.length, pct(m.acks, 50), pct(m.acks, 90), pct(m.acks, 99), Math.round(Math.max(0, ...m.acks)),
      m.acks.filter((a) => a > 100).length,
      Math.round(1000 * m.flushSeconds / Math.max(1, m.flushes)), m.health.length, pct(m.health, 99), Math.round(Math.max(0, ...m.health)), Math.max(...m.probeLoopP99).toFixed(1)];
  });
  console.log(`\nMixed row, same run (${cells} cells, ${domains.length} domains x 26 h; 24 h x ${domains.length} domains at 10 connections, ${seconds} s x ${rounds} per store)\n\n${table(
    ['store', 'query req/s', 'query p99 ms', 'acks', 'ack p50 ms', 'ack p90 ms', 'ack p99 ms', 'ack max ms', 'acks > 100 ms', 'store write mean ms', '/healthz polls', '/healthz p99 ms', '/healthz max ms', 'probe loop p99 ms'], rows)}\n`);
  if (values['trace-gc']) {
    const gcRows = targets.map((t, i) => {
      const w = (results[i] as Mixed).windows;
      const inRows = (t.gc ?? []).filter((p) => w.some(([a, b]) => p.at >= a && p.at <= b));
      const of = (k: Pause['kind']): Pause[] => inRows.filter((p) => p.kind === k);
      const sum = (ps: Pause[]): number => ps.reduce((a, p) => a + p.ms, 0);
      const max = (ps: Pause[]): string => Math.max(0, ...ps.map((p) => p.ms)).toFixed(1);
      const marks = [...of('Mark-sweep'), ...of('Mark-Compact')];
      const seconds = w.reduce((a, [x, y]) => a + (y - x), 0) / 1000;
      return [t.label, of('Scavenge').length, max(of('Scavenge')), marks.length, max(marks), inRows.filter((p) => p.ms > 50).length,
        (sum(inRows) / Math.max(1, seconds)).toFixed(1), Math.max(0, ...marks.map((p) => p.heapMb)).toFixed(0)];
    });
    for (const [i, t] of targets.entries()) {
      const w = (results[i] as Mixed).windows;
      const reasons = new Map<string, number[]>();
      for (const p of t.gc ?? []) {
        if (!w.some(([a, b]) => p.at >= a && p.at <= b)) continue;
        const key = `${p.kind}: ${p.reason}`;
        reasons.set(key, [...(reasons.get(key) ?? []), p.ms]);
      }
      log(`${t.label}: GC by reason: ${[...reasons].map(([k, ms]) => `${k} x${ms.length} (max ${Math.max(...ms).toFixed(0)} ms)`).join('; ')}`);
    }
    console.log(`Main-thread GC pauses during the mixed rows (--trace-gc)\n\n${table(
      ['store', 'scavenges', 'scavenge max ms', 'mark-compacts', 'mark-compact max ms', 'pauses > 50 ms', 'GC ms per s', 'heap before mark max MB'], gcRows)}\n`);
  }
  for (const [i, t] of targets.entries()) {
    if ((writes[i] as string[][]).length === 0) continue;
    console.log(`${t.label}: write-path statements in system.query_log during its mixed row\n\n${table(['round', 'statement', 'count', 'mean ms', 'p99 ms', 'max ms'], writes[i] as string[][])}\n`);
  }
} finally {
  for (const s of servers) await s.stop();
  await ch.destroy();
  rmSync(dir, { recursive: true, force: true });
}
