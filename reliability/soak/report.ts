import { thousands } from '../report.js';
import type { ErrorLog } from './http.js';
import { median, quantile } from './model.js';

export interface WayResult {
  name: string;
  domain: string;
  generated: number;
  lost: number;
  double: number;
  acks: number[];
  rate: number;
}

export interface SoakResult {
  startedAt: Date;
  minutes: number;
  rate: number;
  warmupMin: number;
  ackLimitMs: number;
  /** A batch `livestats ingest` run must end within this. */
  batchLimitMs: number;
  seconds: number;
  drainMs: number;
  perWay: WayResult[];
  rss: Array<{ t: number; bytes: number }>;
  queries: number;
  queryLatencies: number[];
  polls: number;
  samples: number;
  samplesWrong: number;
  errors: ErrorLog;
  /** The second tenant sending extreme values (reliability/soak/ways.ts, poisonTenant). */
  poison?: { posts: number; accepted: number; badBytes: number; stored: number };
}

const mib = (b: number): string => (b / 2 ** 20).toFixed(1);
const ms = (v: number): string => `${Math.round(v)} ms`;

/** The soak's verdict and its RELIABILITY.md section. */
export function soakMarkdown(r: SoakResult): { markdown: string; pass: boolean } {
  const warm = r.warmupMin * 60_000;
  const endT = r.rss.length ? (r.rss[r.rss.length - 1] as { t: number }).t : 0;
  const window = Math.min(60_000, Math.max(10_000, (endT - warm) / 3));
  const atWarm = median(r.rss.filter((s) => s.t >= warm && s.t < warm + window).map((s) => s.bytes));
  const atEnd = median(r.rss.filter((s) => s.t > endT - window).map((s) => s.bytes));
  const growth = atWarm > 0 ? (atEnd - atWarm) / atWarm : Infinity;
  const total = r.perWay.reduce((n, w) => n + w.generated, 0);
  const held = total / r.seconds;
  const lost = r.perWay.reduce((n, w) => n + w.lost, 0);
  const double = r.perWay.reduce((n, w) => n + w.double, 0);
  const acksOver = r.perWay.filter((w) => w.name === 'HTTP intake').flatMap((w) => w.acks).filter((v) => v > r.ackLimitMs).length;
  const batchOver = r.perWay.filter((w) => w.name.startsWith('batch')).flatMap((w) => w.acks).filter((v) => v > r.batchLimitMs).length;
  const checks: Array<[string, boolean]> = [
    [`load held: ${thousands(held)} lines/s (target ${thousands(r.rate)}, >= 20,000)`, held >= 0.97 * r.rate && (r.minutes < 30 || held >= 20_000)],
    [`server RSS after warm-up: ${mib(atWarm)} MiB at minute ${Number(r.warmupMin.toFixed(2))}, ${mib(atEnd)} MiB at the end (${(growth * 100).toFixed(1)} %, limit 10 %)`, growth <= 0.1],
    [`errors: ${r.errors.total}`, r.errors.total === 0],
    [`HTTP acks over ${thousands(r.ackLimitMs)} ms: ${acksOver}; batch runs over ${thousands(r.batchLimitMs / 1000)} s: ${batchOver}`, acksOver === 0 && batchOver === 0],
    [`lines lost: ${thousands(lost)}, double-counted: ${thousands(double)} (of ${thousands(total)})`, lost === 0 && double === 0],
    [`carousel seconds read back wrong: ${r.samplesWrong} of ${thousands(r.samples)}`, r.samplesWrong === 0],
    ...(r.poison ? [[`poison tenant (one cell, lines of 2^53 - 1 and of 2^40 bytes): ${thousands(r.poison.posts)} batches, ${thousands(r.poison.badBytes)} lines dropped as bad_bytes, ` +
      `${thousands(r.poison.accepted)} counted, ${thousands(r.poison.stored)} stored`, r.poison.posts > 0 && r.poison.stored === r.poison.accepted && r.poison.badBytes === r.poison.accepted] as [string, boolean]] : []),
  ];
  const pass = checks.every(([, ok]) => ok);
  const step = Math.max(1, Math.round(r.minutes / 10));
  const memRows: string[] = [];
  for (let m = 0; m <= Math.ceil(endT / 60_000); m += step) {
    const near = r.rss.filter((s) => Math.abs(s.t - m * 60_000) < 30_000).map((s) => s.bytes);
    if (near.length) memRows.push(`| ${m} | ${mib(median(near))} |`);
  }
  const lines = [
    '## Soak (`npm run soak -- --minutes 30`)',
    '',
    `Written by \`npm run soak\` on ${r.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC: ${r.minutes} minutes against a real \`livestats serve\` process ` +
      `(SQLite store, syslog over TCP), with \`livestats ingest --follow\` and a batch \`livestats ingest\` every 10 s as their own processes, ` +
      `10 query connections over both endpoints with moving windows, a dashboard-like poller every 10 s and one carousel sample per second. ` +
      `**Verdict: ${pass ? 'PASS' : 'FAIL'}.**`,
    '',
    ...checks.map(([text, ok]) => `- ${ok ? 'ok' : '**FAILED**'}: ${text}`),
    '',
    '| way in | lines | lines/s | lost | double-counted | ack latency p50 / p99 / max |',
    '|---|---|---|---|---|---|',
    ...r.perWay.map((w) => `| ${w.name} | ${thousands(w.generated)} | ${thousands(w.rate)} | ${w.lost} | ${w.double} | ${w.acks.length ? `${ms(quantile(w.acks, 0.5))} / ${ms(quantile(w.acks, 0.99))} / ${ms(Math.max(...w.acks))}` : 'no acks (counted at the end)'} |`),
    '',
    `Queries: ${thousands(r.queries)} (latency p50 ${ms(quantile(r.queryLatencies, 0.5))}, p99 ${ms(quantile(r.queryLatencies, 0.99))}), dashboard polls ${thousands(r.polls)}. ` +
      `After the load stopped, every count was visible within ${(r.drainMs / 1000).toFixed(1)} s; the exact check compares every (domain, minute, code) of the API's answer with the generated model.`,
    '',
    'Server memory (RSS, median of the samples within 30 s of each minute):',
    '',
    '| minute | RSS MiB |',
    '|---|---|',
    ...memRows,
  ];
  if (r.errors.samples.length) lines.push('', 'First errors:', '', ...r.errors.samples.map((s) => `- \`${s.replace(/`/g, "'")}\``));
  return { markdown: lines.join('\n'), pass };
}
