/**
 * The ingest benchmark: writes a deterministic access log (default 2,000,000 lines, ~50k client
 * IPs mostly in Chinese ranges, 10 domains, one hour), then times on the same file, in the same
 * run and interleaved (best of `rounds`): `livestats ingest` end to end (parse + geo + aggregate +
 * durable SQLite commit, in its own process), the same with Prometheus metrics on
 * (`--metrics-file`, the collection the server does), an awk count of (host, minute, status), and `wc -l`;
 * then the same ingest and awk rows on the dense file (`generate-dense.ts`: a real platform's density).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childrenCpuMs } from '../lib/child-cpu.js';
import { table } from '../lib/table.js';
import { DENSE_FORMAT, writeDenseLog } from './generate-dense.js';
import { writeLog } from './generate.js';

export interface IngestBenchResult {
  lines: number;
  bytes: number;
  rounds: number;
  rows: IngestRow[];
  /** The dense file's rows (same rounds): ingest end to end and awk on that file, with CPU time. */
  dense: { lines: number; bytes: number; rows: IngestRow[] };
  /**
   * Metrics on vs off, same run, in %: wall time best vs best, and medians of the per-round
   * ratios of wall time and of CPU time (user + system of the ingest process, threads included).
   */
  metricsOverhead: { wallBestPercent: number; wallMedianPercent: number; cpuMedianPercent: number | undefined };
}

export interface IngestRow {
  name: string;
  seconds: number;
  linesPerSecond: number;
  vsAwk: number;
  /** CPU time (user + system, threads included) of the best-wall-time run, when /proc has it. */
  cpuSeconds?: number;
}

const AWK = '{ c[$NF " " substr($4, 2, 17) " " $9]++ } END { n = 0; for (k in c) n++; print n }';

function timed(cmd: string, args: string[]): { ms: number; cpuMs: number | undefined; stdout: string } {
  const cpu0 = childrenCpuMs();
  const t = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = performance.now() - t;
  const cpu1 = childrenCpuMs();
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr}`);
  return { ms, cpuMs: cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined, stdout: r.stdout };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return ((s[(s.length - 1) >> 1] as number) + (s[s.length >> 1] as number)) / 2;
};

export async function runIngestBench(o: {
  root: string; lines: number; denseLines: number; rounds: number; log: (s: string) => void;
}): Promise<IngestBenchResult> {
  const dir = join(o.root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `access-${o.lines}.log`);
  // Regenerated each run: the times must sit inside the retention window of "now".
  const bytes = await writeLog(file, o.lines, Date.now() - 5 * 60_000, 3600_000);
  o.log(`generated ${o.lines} lines (${(bytes / 2 ** 20).toFixed(0)} MiB): ${file}`);
  const denseFile = join(dir, `access-dense-${o.denseLines}.log`);
  const denseBytes = await writeDenseLog(denseFile, o.denseLines, Date.now() - 5 * 60_000, 3600_000);
  o.log(`generated ${o.denseLines} dense lines (${(denseBytes / 2 ** 20).toFixed(0)} MiB): ${denseFile}`);
  const bin = join(o.root, 'bin', 'livestats.js');
  const best = { ingest: Infinity, metrics: Infinity, awk: Infinity, wc: Infinity };
  const wallRatios: number[] = [];
  const cpuRatios: number[] = [];
  const dense = { ingest: { ms: Infinity, cpuMs: undefined as number | undefined }, awk: { ms: Infinity, cpuMs: undefined as number | undefined } };
  const keepBest = (b: { ms: number; cpuMs: number | undefined }, r: ReturnType<typeof timed>): void => {
    if (r.ms < b.ms) {
      b.ms = r.ms;
      b.cpuMs = r.cpuMs;
    }
  };
  const ingest = (withMetrics: boolean, target = file, lines = o.lines, format = 'combined_host'): ReturnType<typeof timed> => {
    const data = mkdtempSync(join(tmpdir(), 'livestats-bench-'));
    const metricsFile = join(data, 'livestats.prom');
    try {
      const r = timed(process.execPath, [
        bin, 'ingest', '--project', 'bench', '--format', format, '--data', data, '--json',
        ...(withMetrics ? ['--metrics-file', metricsFile] : []), target,
      ]);
      const stats = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { accepted?: number };
      if (stats.accepted !== lines) throw new Error(`ingest accepted ${stats.accepted} of ${lines}: ${r.stdout}`);
      if (withMetrics && !readFileSync(metricsFile, 'utf8').includes(`livestats_ingest_lines_accepted_total{source="batch"} ${o.lines}`)) {
        throw new Error('the metrics file does not show every line accepted');
      }
      return r;
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  };
  for (let round = 0; round < o.rounds; round++) {
    // Alternate which variant goes first, so neither always runs on the warmer page cache.
    const first = round % 2 === 0;
    const a = ingest(!first);
    const b = ingest(first);
    const [off, on] = first ? [a, b] : [b, a];
    best.ingest = Math.min(best.ingest, off.ms);
    best.metrics = Math.min(best.metrics, on.ms);
    wallRatios.push(on.ms / off.ms);
    if (on.cpuMs !== undefined && off.cpuMs !== undefined && off.cpuMs > 0) cpuRatios.push(on.cpuMs / off.cpuMs);
    best.awk = Math.min(best.awk, timed('awk', [AWK, file]).ms);
    best.wc = Math.min(best.wc, timed('wc', ['-l', file]).ms);
    const di = ingest(false, denseFile, o.denseLines, DENSE_FORMAT.slice(1, -1));
    keepBest(dense.ingest, di);
    const da = timed('awk', [AWK, denseFile]);
    keepBest(dense.awk, da);
    const cpu = (r: ReturnType<typeof timed>): string => (r.cpuMs === undefined ? '' : ` (cpu ${(r.cpuMs / 1000).toFixed(2)} s)`);
    o.log(`round ${round + 1}: ingest ${(off.ms / 1000).toFixed(2)} s${cpu(off)}, with metrics ${(on.ms / 1000).toFixed(2)} s${cpu(on)}, ` +
      `awk ${(best.awk / 1000).toFixed(2)} s (best so far); dense: ingest ${(di.ms / 1000).toFixed(2)} s${cpu(di)}, awk ${(da.ms / 1000).toFixed(2)} s${cpu(da)}`);
  }
  const row = (name: string, ms: number): IngestRow =>
    ({ name, seconds: ms / 1000, linesPerSecond: Math.round(o.lines / (ms / 1000)), vsAwk: best.awk / ms });
  const denseRow = (name: string, b: { ms: number; cpuMs: number | undefined }): IngestRow => ({
    name, seconds: b.ms / 1000, linesPerSecond: Math.round(o.denseLines / (b.ms / 1000)), vsAwk: dense.awk.ms / b.ms,
    ...(b.cpuMs !== undefined ? { cpuSeconds: b.cpuMs / 1000 } : {}),
  });
  return {
    lines: o.lines, bytes, rounds: o.rounds,
    dense: {
      lines: o.denseLines, bytes: denseBytes,
      rows: [denseRow('livestats ingest, dense file (end to end, durable)', dense.ingest), denseRow('awk count of (host, minute, status), dense file', dense.awk)],
    },
    rows: [
      row('livestats ingest (end to end, durable)', best.ingest),
      row('  same, with metrics (--metrics-file)', best.metrics),
      row('awk count of (host, minute, status)', best.awk), row('wc -l', best.wc),
    ],
    metricsOverhead: {
      wallBestPercent: (best.metrics / best.ingest - 1) * 100,
      wallMedianPercent: (median(wallRatios) - 1) * 100,
      cpuMedianPercent: cpuRatios.length > 0 ? (median(cpuRatios) - 1) * 100 : undefined,
    },
  };
}

export function overheadLine(r: IngestBenchResult): string {
  const pct = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(1)} %`;
  const m = r.metricsOverhead;
  return `Metrics overhead on ingest (same run, ${r.rounds} paired rounds): wall time ${pct(m.wallBestPercent)} best vs best, ` +
    `${pct(m.wallMedianPercent)} median per round` + (m.cpuMedianPercent === undefined ? '.' : `; CPU time ${pct(m.cpuMedianPercent)} median per round.`);
}

export function ingestTable(r: IngestBenchResult): string {
  return table(['what', 'seconds', 'lines/s', 'vs awk'], r.rows.map((x) => [x.name, x.seconds, x.linesPerSecond, `${x.vsAwk.toFixed(2)}x`]));
}

export function denseIngestTable(r: IngestBenchResult): string {
  return table(['what (dense file)', 'seconds', 'CPU s', 'lines/s', 'vs awk'], r.dense.rows.map((x) => [
    x.name, x.seconds, x.cpuSeconds === undefined ? '' : x.cpuSeconds.toFixed(2), x.linesPerSecond, `${x.vsAwk.toFixed(2)}x`,
  ]));
}
