// The dense audience rows (and the 1 h x 1 domain httpcodes row) against builds side by side, in one run:
//   node dist/bench/query/audience-rows.js --data .bench-data/dense [--build base=/path/to/bin/livestats.js ...]
//     [--build new=bin/livestats.js@--data=.bench-data/dense-new@--query-thread-nice=0] [--seconds 5] [--rounds 1] [--rows portrait,users31] [--serve-flag --query-thread-nice=0]
// The data dir is an already loaded dense dataset (`npm run bench -- dense` writes one; its anchor is read
// from the file's bench.dense meta row). Each build serves the same directory (one at a time, uncached,
// `--query-cache-ms 0`), every row is measured at 10 connections against each build and, in the same
// round, against a bare node:http process sending the identical bytes: the ratios to the bare server
// are what compares across builds (the machine's load moves between rounds). Answers must be byte for
// byte the same across builds.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { projectRoot } from '../../src/paths.js';
import { load, type LoadResult } from '../lib/load.js';
import { startProcess, type Server } from '../lib/proc.js';
import { table } from '../lib/table.js';
import { processCpuMs as cpuMs } from '../lib/child-cpu.js';
import { DENSE, denseDomain } from './dense.js';
import { denseAnchor } from './dense-anchor.js';
import { denseAudienceQueries } from './run-dense-audience.js';

const HOUR = 3_600_000;

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const ROW_KEYS: Record<string, string> = {
  'users 7 d x 1 head domain, 60 s': 'users7', 'users 31 d x 1 head domain, 300 s': 'users31',
  'play-info 10 domains, 1,000 live streams': 'playinfo', 'portrait of a head domain (yesterday)': 'portrait', '1 h x 1 domain': 'httpcodes1h',
};

interface Build { name: string; bin: string; flags: string[]; data?: string }

function args(argv: string[]): { data: string; builds: Build[]; seconds: number; rounds: number; rows: string[] | undefined; serveFlags: string[] } {
  const root = projectRoot();
  let data = join(root, '.bench-data', 'dense');
  const builds: Build[] = [];
  let seconds = 5;
  let rounds = 1;
  let rows: string[] | undefined;
  const serveFlags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const v = argv[i + 1] ?? '';
    if (a === '--data') data = resolve(v);
    else if (a === '--build') {
      // name=path/to/bin/livestats.js[@--flag=value...]: flags of this build's `serve` only.
      const at = v.indexOf('=');
      // A build's own copy of the data: `@--data=DIR` (a newer schema's migration would shut the older build out of the file).
      const [bin, ...flags] = v.slice(at + 1).split('@');
      const own = flags.find((f) => f.startsWith('--data='));
      builds.push({
        name: v.slice(0, at), bin: resolve(bin ?? ''), flags: flags.filter((f) => f !== own).flatMap((f) => f.split('=')),
        ...(own ? { data: resolve(own.slice('--data='.length)) } : {}),
      });
    } else if (a === '--seconds') seconds = Number(v);
    else if (a === '--rounds') rounds = Number(v);
    else if (a === '--rows') rows = v.split(',');
    else if (a === '--serve-flag') serveFlags.push(...v.split('='));
    else throw new Error(`unknown argument ${a}`);
    i++;
  }
  if (builds.length === 0) builds.push({ name: 'this build', bin: join(root, 'bin', 'livestats.js'), flags: [] });
  return { data, builds, seconds, rounds, rows, serveFlags };
}

async function main(): Promise<void> {
  const o = args(process.argv.slice(2));
  const end = denseAnchor(o.data) - HOUR;
  const all = [
    ...denseAudienceQueries(end),
    { name: '1 h x 1 domain', path: `/v2/${DENSE.project}/stats/httpcodes?play_domains=${denseDomain(1)}&start_time=${iso(end - HOUR)}&end_time=${iso(end)}` },
  ];
  const list = all.filter((q) => !o.rows || o.rows.includes(ROW_KEYS[q.name] ?? q.name));
  const tokens = new Map<Build, string>();
  for (const b of o.builds) {
    tokens.set(b, (JSON.parse(execFileSync(process.execPath, [b.bin, 'keys', 'create', '--project', DENSE.project, '--json', '--data', b.data ?? o.data]).toString()) as { token: string }).token);
  }
  // cpu, bareCpu: the server's CPU ms (all threads) per answer during the row: less sensitive to the machine's load than req/s.
  const results: Array<{ round: number; row: string; build: string; bytes: number; ls: LoadResult; bare: LoadResult; cpu: number; bareCpu: number }> = [];
  const bareBin = join(projectRoot(), 'dist', 'bench', 'query', 'bare-server.js');
  for (let round = 1; round <= o.rounds; round++) {
    for (const b of round % 2 === 1 ? o.builds : [...o.builds].reverse()) {
      const headers = { 'x-auth-token': tokens.get(b) ?? '' };
      const serve: Server = await startProcess([b.bin, 'serve', '--data', b.data ?? o.data, '--port', '0', '--log-level', 'warn', '--query-cache-ms', '0',
        '--retention-days', '30', '--audience-retention-days', '40', ...o.serveFlags, ...b.flags], {}, 300_000);
      try {
        for (const q of list) {
          const res = await fetch(serve.url + q.path, { headers });
          const body = Buffer.from(await res.arrayBuffer());
          if (res.status !== 200) throw new Error(`${b.name} ${q.name}: HTTP ${res.status} ${body.toString().slice(0, 200)}`);
          const bodyFile = join(o.data, `bare-body-${process.pid}.json`);
          writeFileSync(bodyFile, body);
          const bare = await startProcess([bareBin, bodyFile]);
          try {
            const c0 = cpuMs(serve.child.pid);
            const ls = await load(q.name, serve.url + q.path, { connections: 10, seconds: o.seconds, headers });
            const c1 = cpuMs(serve.child.pid);
            const b0 = cpuMs(bare.child.pid);
            const bl = await load(`bare: ${q.name}`, bare.url + '/', { connections: 10, seconds: o.seconds });
            const b1 = cpuMs(bare.child.pid);
            results.push({ round, row: q.name, build: b.name, bytes: body.length, ls, bare: bl, cpu: (c1 - c0) / Math.max(1, ls.requests), bareCpu: (b1 - b0) / Math.max(1, bl.requests) });
            process.stderr.write(`round ${round} ${b.name} ${q.name}: ${ls.rps.toFixed(0)} req/s p99 ${ls.p99} ms, bare ${bl.rps.toFixed(0)}: ${(ls.rps / bl.rps).toFixed(3)}x` +
              ` (sha ${(await import('node:crypto')).createHash('sha256').update(body).digest('hex').slice(0, 12)})\n`);
          } finally {
            await bare.stop();
          }
        }
      } finally {
        await serve.stop();
      }
    }
  }
  process.stdout.write(table(['row', 'build', 'round', 'KB', 'req/s', 'p50 ms', 'p99 ms', 'bare req/s', 'x bare', 'CPU µs/answer', 'bare CPU µs', 'x bare CPU'],
    results.map((r) => [r.row, r.build, r.round, r.bytes / 1024, r.ls.rps, r.ls.p50, r.ls.p99, r.bare.rps, r.ls.rps / r.bare.rps, r.cpu * 1000, r.bareCpu * 1000, r.bareCpu / r.cpu])) + '\n');
}

await main();
