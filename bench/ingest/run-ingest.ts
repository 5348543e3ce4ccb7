/**
 * The ingest benchmark: writes a deterministic access log (default 2,000,000 lines, ~50k client
 * IPs mostly in Chinese ranges, 10 domains, one hour), then times on the same file, in the same
 * run and interleaved (best of `rounds`): `livestats ingest` end to end (parse + geo + aggregate +
 * durable SQLite commit, in its own process), an awk count of (host, minute, status), and `wc -l`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { table } from '../lib/table.js';
import { writeLog } from './generate.js';

export interface IngestBenchResult {
  lines: number;
  bytes: number;
  rounds: number;
  rows: Array<{ name: string; seconds: number; linesPerSecond: number; vsAwk: number }>;
}

const AWK = '{ c[$NF " " substr($4, 2, 17) " " $9]++ } END { n = 0; for (k in c) n++; print n }';

function timed(cmd: string, args: string[]): { ms: number; stdout: string } {
  const t = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

export async function runIngestBench(o: { root: string; lines: number; rounds: number; log: (s: string) => void }): Promise<IngestBenchResult> {
  const dir = join(o.root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `access-${o.lines}.log`);
  // Regenerated each run: the times must sit inside the retention window of "now".
  const bytes = await writeLog(file, o.lines, Date.now() - 5 * 60_000, 3600_000);
  o.log(`generated ${o.lines} lines (${(bytes / 2 ** 20).toFixed(0)} MiB): ${file}`);
  const bin = join(o.root, 'bin', 'livestats.js');
  const best = { ingest: Infinity, awk: Infinity, wc: Infinity };
  for (let round = 0; round < o.rounds; round++) {
    const data = mkdtempSync(join(tmpdir(), 'livestats-bench-'));
    try {
      const ingest = timed(process.execPath, [bin, 'ingest', '--project', 'bench', '--format', 'combined_host', '--data', data, '--json', file]);
      const stats = JSON.parse(ingest.stdout.trim().split('\n').pop() ?? '{}') as { accepted?: number };
      if (stats.accepted !== o.lines) throw new Error(`ingest accepted ${stats.accepted} of ${o.lines}: ${ingest.stdout}`);
      best.ingest = Math.min(best.ingest, ingest.ms);
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
    best.awk = Math.min(best.awk, timed('awk', [AWK, file]).ms);
    best.wc = Math.min(best.wc, timed('wc', ['-l', file]).ms);
    o.log(`round ${round + 1}: ingest ${(best.ingest / 1000).toFixed(2)} s, awk ${(best.awk / 1000).toFixed(2)} s (best so far)`);
  }
  const row = (name: string, ms: number): IngestBenchResult['rows'][number] =>
    ({ name, seconds: ms / 1000, linesPerSecond: Math.round(o.lines / (ms / 1000)), vsAwk: best.awk / ms });
  return {
    lines: o.lines, bytes, rounds: o.rounds,
    rows: [row('livestats ingest (end to end, durable)', best.ingest), row('awk count of (host, minute, status)', best.awk), row('wc -l', best.wc)],
  };
}

export function ingestTable(r: IngestBenchResult): string {
  return table(['what', 'seconds', 'lines/s', 'vs awk'], r.rows.map((x) => [x.name, x.seconds, x.linesPerSecond, `${x.vsAwk.toFixed(2)}x`]));
}
