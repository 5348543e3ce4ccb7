/**
 * `npm run bench:ingest`: writes a deterministic access log (default 2,000,000 lines, ~50k
 * client IPs mostly in Chinese ranges, 10 domains), then times on the same file:
 * `livestats ingest` end to end (parse + geo + aggregate + durable SQLite commit), an awk count
 * of (host, minute, status), and `wc -l`. Prints lines/s and the ratios. Not a test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../src/paths.js';
import { writeLog } from './generate.js';

const LINES = Number(process.env.BENCH_LINES ?? 2_000_000);

function timed(cmd: string, args: string[]): { ms: number; stdout: string } {
  const t = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

async function main(): Promise<void> {
  const root = projectRoot();
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `access-${LINES}.log`);
  const now = Date.now();
  // Regenerated each run: the times must sit inside the retention window of "now".
  const t = performance.now();
  const bytes = await writeLog(file, LINES, now - 5 * 60_000, 3600_000);
  console.log(`generated ${LINES} lines, ${(bytes / 2 ** 20).toFixed(0)} MiB in ${((performance.now() - t) / 1000).toFixed(1)} s: ${file}`);

  const data = mkdtempSync(join(tmpdir(), 'livestats-bench-'));
  const bin = join(root, 'bin', 'livestats.js');
  const rows: Array<[string, number]> = [];
  try {
    const ingest = timed(process.execPath, [bin, 'ingest', '--project', 'bench', '--format', 'combined_host', '--data', data, '--json', file]);
    const stats = JSON.parse(ingest.stdout.trim().split('\n').pop() ?? '{}') as { lines: number; accepted: number };
    if (stats.accepted !== LINES) throw new Error(`ingest accepted ${stats.accepted} of ${LINES}: ${ingest.stdout}`);
    rows.push(['livestats ingest (end to end, durable)', ingest.ms]);
    const awkProgram = '{ c[$NF " " substr($4, 2, 17) " " $9]++ } END { n = 0; for (k in c) n++; print n }';
    rows.push([`awk count of (host, minute, status)`, timed('awk', [awkProgram, file]).ms]);
    rows.push(['wc -l', timed('wc', ['-l', file]).ms]);
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
  const awkMs = rows[1]?.[1] as number;
  console.log(`\n${'what'.padEnd(42)}${'seconds'.padStart(9)}${'lines/s'.padStart(13)}${'vs awk'.padStart(9)}`);
  for (const [name, ms] of rows) {
    console.log(`${name.padEnd(42)}${(ms / 1000).toFixed(2).padStart(9)}${Math.round(LINES / (ms / 1000)).toLocaleString('en-US').padStart(13)}${(awkMs / ms).toFixed(2).padStart(8)}x`);
  }
  console.log(`\nfile ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB; kept for re-runs? ${existsSync(file)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
