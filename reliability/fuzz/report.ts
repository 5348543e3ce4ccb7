import { thousands } from '../report.js';
import type { FuzzFailure, FuzzStats } from './stats.js';
import type { IntakeLedger } from './targets/http-intake.js';

export interface FuzzRun {
  startedAt: Date;
  seconds: number;
  seed: number;
  inputsPerTarget: number;
  workers: number;
  targets: Array<{ name: string; title: string; limitMs: number; stats: FuzzStats }>;
  failures: FuzzFailure[];
  http?: { ledger: IntakeLedger; stored: number; serverExit: number | null };
}

/** Defects the fuzzer found, each fixed in the parser with a regression test beside it. */
const FOUND: readonly string[] = [
  '`preset:combined_host`, `log_format`, `preset:combined` (wrong count): an IDN host in nginx\'s default `\\xHH` escaping was `bad_domain` through the HTTP intake and syslog (UTF-8 input), and a host decided differently by file and HTTP ingest when the request path held an invalid byte; fixed in `src/ingest/host.ts` (escaped bytes that spell UTF-8 are that text, whichever way the line was read), tests in `src/ingest/processor.test.ts`.',
  '`preset:nginx_json` (crash): an IPv6 `$remote_addr` with a zone index (`::0%0`) made ip2region throw a RangeError out of the line processor (a 500 for the whole HTTP batch, an uncaught exception in syslog); fixed in `src/ingest/geo/resolver.ts` (full-form address to ip2region), test in `src/ingest/geo/geo.test.ts`.',
  '`http_intake` (500): `?format=valueOf` (any `Object.prototype` member name) was taken for a preset and answered 500 `LIVE.100011005`; fixed in `src/ingest/formats/presets.ts` (own names only), test in `src/ingest/formats/presets.test.ts`.',
];

const reasons = (d: Record<string, number>): string =>
  Object.entries(d).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${thousands(v)}`).join(', ') || '–';

export function fuzzMarkdown(r: FuzzRun): string {
  const total = r.targets.reduce((n, t) => n + t.stats.inputs, 0);
  const bad = r.targets.reduce((n, t) => n + t.stats.crashes + t.stats.hangs + t.stats.undecided + t.stats.wrong, 0);
  const rows = r.targets.map((t) => {
    const s = t.stats;
    return `| \`${t.name}\` | ${t.title} | ${thousands(s.inputs)} | ${thousands(s.accepted)} | ${reasons(s.dropped)} | ${s.crashes} | ${s.hangs} | ${s.undecided} | ${s.wrong} | ${s.maxMs.toFixed(1)} ms (limit ${thousands(t.limitMs)}) |`;
  });
  const lines = [
    '## Fuzzing (`npm run fuzz`)',
    '',
    `Written by \`npm run fuzz\` on ${r.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC: seed ${r.seed}, ${thousands(r.inputsPerTarget)} inputs per target ` +
      `(about half generated from a model whose outcome is known and checked exactly, half mutations of them and noise, which must only be decided), ` +
      `${r.workers} worker threads, ${Math.round(r.seconds)} s, ${thousands(total)} inputs in all. ` +
      `**Crashes, hangs, undecided and wrong outcomes: ${bad}.**`,
    '',
    '"accepted": parsed and counted (a request: acknowledged); "dropped": refused with the reason the code gave; "undecided": neither;',
    '"wrong": a generated input whose expected outcome (count, cell, parameter named, signature valid) came out otherwise; "hangs": over the per-input limit.',
    '',
    '| target | covers | inputs | accepted | dropped, by reason | crashes | hangs | undecided | wrong | slowest input |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ];
  if (r.http) {
    const { ledger, stored } = r.http;
    const diff = stored - ledger.accepted;
    lines.push('', `HTTP intake: ${thousands(ledger.requests)} requests to a real \`livestats serve\` process; ${thousands(ledger.accepted)} lines acknowledged as counted, ` +
      `${thousands(ledger.duplicates)} batch-id retries answered as duplicates. After SIGTERM (exit ${r.http.serverExit}) the store holds ${thousands(stored)}: ` +
      `**${diff < 0 ? thousands(-diff) : 0} lost, ${diff > 0 ? thousands(diff) : 0} double-counted.**`);
  }
  if (r.failures.length > 0) {
    lines.push('', '### Failures', '');
    for (const f of r.failures) {
      lines.push(`- \`${f.target}\` ${f.kind}: ${f.detail.split('\n')[0]} — replay: \`npm run fuzz -- --target ${f.target} --seed ${f.seed} --path ${f.path}\``);
    }
  }
  lines.push('', 'Defects the fuzzer found (each fixed in the parser, with a regression test):', '', ...FOUND.map((f) => `- ${f}`));
  lines.push('', 'Replay any counterexample with `npm run fuzz -- --target NAME --seed SEED --path PATH` (printed with it); ' +
    '`npm test` runs 5,000 inputs per target (`test/fuzz-parsers.test.ts`, `test/fuzz-http.test.ts`), `npm run test:long` 20,000.');
  return lines.join('\n');
}
