// `npm run bench [-- query|dense|audience|ingest] [--quick] [--store sqlite|clickhouse] [--rows audience]`: runs the benchmarks
// (`dense --store clickhouse --rows audience`: the dense audience rows alone, only the audience cube loaded into ClickHouse)
// (`ingest --store clickhouse`: both stores' write paths in one run, bench/ingest/clickhouse-ingest.ts),
// prints tables, writes bench/results/*.json (git-ignored) and the matching BENCHMARKS.md sections.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../src/paths.js';
import { machine, updateSection } from './lib/report.js';
import { denseIngestTable, ingestTable, overheadLine, runIngestBench } from './ingest/run-ingest.js';
import { freshnessTable, queryTable, runQueryBench } from './query/run-query.js';
import { denseTable, mixedTable, mixedTableBeside, runDenseBench } from './query/run-dense.js';
import { DENSE } from './query/dense.js';
import { denseClickHouseDatasetLines, denseClickHouseTable, denseClickHouseVerdicts } from './query/dense-clickhouse.js';
import { AUDIENCE_BENCH, audienceTable, runAudienceBench } from './query/audience.js';
import { clickHouseIngestTable, runClickHouseIngestBench } from './ingest/clickhouse-ingest.js';

const { values, positionals } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, store: { type: 'string', default: 'sqlite' }, rows: { type: 'string' } },
  allowPositionals: true,
});
const suite = positionals[0] ?? 'all';
const root = projectRoot();
const log = (s: string): void => void process.stderr.write(`${s}\n`);
mkdirSync(join(root, 'bench/results'), { recursive: true });
const stamp = new Date().toISOString();

if (suite === 'all' || suite === 'query') {
  const r = await runQueryBench({ root, quick: values.quick ?? false, store: values.store ?? 'sqlite', log });
  writeFileSync(join(root, `bench/results/query-${r.store}.json`), JSON.stringify({ stamp, machine: machine(), ...r }, null, 2));
  const t = queryTable(r);
  const ft = freshnessTable(r);
  console.log(`\nQuery latency (${r.store}${r.quick ? ', quick' : ''})\n${t}\n\n${ft}\n`);
  if (!r.quick) {
    const d = r.dataset;
    updateSection(join(root, 'BENCHMARKS.md'), `query-${r.store}`, [
      `### Query latency, ${r.store} store`,
      '',
      `Run ${stamp} on ${machine()}.`,
      `Dataset: ${d.spec.days} days x ${d.spec.domains} domains (${d.countRows} count rows, ${d.requests} requests) and ` +
        `${d.spec.tasks} carousel tasks (${d.sampleRows} per-second samples); ${(d.bytesOnDisk / 2 ** 20).toFixed(0)} MiB on disk.`,
      `Load: autocannon in the benchmark process, 10 connections, 10 s per row, against \`livestats serve\` in its own process;`,
      'the baseline is a bare Fastify process answering a fixed ~40 KB JSON, run in the same invocation.',
      '"no cache" rows run against `--query-cache-ms 0` (every request queries the store); "1 s cache" rows against the',
      'default configuration, where a repeated identical query within 1 s is answered from memory (local writes invalidate it).',
      '',
      t,
    ].join('\n'));
  }
}

if (values.rows !== undefined && values.rows !== 'audience') throw new Error(`--rows: only "audience" (the dense audience rows alone), not ${JSON.stringify(values.rows)}`);
if (suite === 'dense' && values.store === 'clickhouse' && values.rows === 'audience') {
  const loadStart = loadavg().map((x) => x.toFixed(1)).join(' / ');
  const r = await runDenseBench({ root, log, seconds: values.quick ? 2 : 8, store: 'clickhouse', rows: 'audience' });
  const loadEnd = loadavg().map((x) => x.toFixed(1)).join(' / ');
  writeFileSync(join(root, 'bench/results/dense-clickhouse-audience.json'), JSON.stringify({ stamp, machine: machine(), ...r }, null, 2));
  const t = denseClickHouseTable(r);
  console.log(`\nDense audience rows, ClickHouse store beside the SQLite store\n${t}\n`);
  const a = r.clickhouse;
  if (!values.quick && a) {
    updateSection(join(root, 'BENCHMARKS.md'), 'query-dense-clickhouse-audience', [
      '### Dense audience rows, ClickHouse store beside the SQLite store (same run)',
      '',
      `Run ${stamp} on ${machine()}; \`npm run bench -- dense --store clickhouse --rows audience\`.`,
      `The dense dataset's audience cube (\`bench/query/dense-audience.ts\`, the same batches as the SQLite dense dataset) written through the ClickHouse ` +
        `store's write path${a.audienceMs === undefined ? '' : ` in ${(a.audienceMs / 1000).toFixed(0)} s`} (when loaded): ${a.audienceCells ?? 0} cells, ` +
        `${a.audienceHlsViewers ?? 0} HLS viewer-minutes, ${a.audienceUsers ?? 0} daily users; ${((a.audienceTableBytes ?? 0) / 2 ** 20).toFixed(0)} MiB on disk ` +
        '(active parts of the audience tables after OPTIMIZE FINAL). `--rows audience` loads nothing else into ClickHouse (the httpcodes cells and the ' +
        'traffic cube take tens of minutes on this machine) and runs no mixed row.',
      'Each row uncached (`--query-cache-ms 0`), autocannon 10 connections, 8 s, against the ClickHouse-backed `livestats serve` (after its warm-up), ' +
        'then the SQLite-backed one on the same dataset, then a bare `node:http` process sending the same bytes; every ClickHouse answer was checked ' +
        'byte for byte against the SQLite store\'s before its row ran. "x SQLite" = ClickHouse req/s / SQLite req/s (issue 24: >= 0.5). ' +
        'The ClickHouse load runs with clickhouse-server\'s query log off (on for its warm-up); its SELECTs, marks and thread time per SELECT ' +
        'from system.events (the server\'s own periodic SELECTs included), its cores from /proc.',
      `Load average (1 / 5 / 15 min) at the start ${loadStart}, at the end ${loadEnd}.`,
      '',
      t,
    ].join('\n'));
  }
} else if (suite === 'dense' && values.store === 'clickhouse') {
  const r = await runDenseBench({ root, log, seconds: values.quick ? 2 : 8, store: 'clickhouse' });
  writeFileSync(join(root, 'bench/results/dense-clickhouse.json'), JSON.stringify({ stamp, machine: machine(), ...r }, null, 2));
  const t = denseClickHouseTable(r);
  const mt = mixedTableBeside(r);
  const verdicts = denseClickHouseVerdicts(r);
  console.log(`\nDense dataset, ClickHouse store beside the SQLite store (load average ${r.loadStart} at the start, ${r.loadEnd} at the end)\n${t}\n\n${verdicts.join('\n')}\n\n${mt}\n`);
  if (!values.quick && r.clickhouse) {
    updateSection(join(root, 'BENCHMARKS.md'), 'query-dense-clickhouse', [
      '### Dense dataset, ClickHouse store beside the SQLite store (clickhouse-server 18.16, started by the bench)',
      '',
      `Run ${stamp} on ${machine()}; load average (1 / 5 / 15 min) ${r.loadStart} when the first row started, ${r.loadEnd} after the mixed rows ` +
        '(other sessions\' work shares the 2 cores: read the ratios, each between two stores measured one after the other in the same run).',
      ...denseClickHouseDatasetLines(r.clickhouse),
      'The dense rows of the SQLite table above (the audience rows too, once the ClickHouse dataset holds the audience cube) and the mixed row, uncached',
      '(`--query-cache-ms 0`), autocannon 10 connections, 8 s each: first against `livestats serve --store clickhouse`, then against an uncached',
      '`livestats serve` on the SQLite dataset (same cells), then a bare `node:http` process sending the identical bytes. Before its row, each',
      'ClickHouse row is warmed up until two answers in a row cost clickhouse-server nothing but the stamps read (system.query_log: every',
      'closed hour answered from the node\'s hour blocks, the traffic cells or the audience blocks; "warm-up s"). The ClickHouse',
      'answer is checked byte for byte against the SQLite store\'s three times: the first answer (SQL), the last warm-up answer (blocks) and one',
      'right after the row. The ClickHouse load runs with clickhouse-server\'s query log off (on for the warm-ups; the log costs every query,',
      'its cost on the two cheapest rows: `node dist/bench/query/ch-cheap-rows.js`). "CH SELECTs/answer": SELECTs started during the row',
      '(system.events SelectQuery, the server\'s own periodic ones included) / answers; "CH cores": its CPU time (user + system, /proc) / the',
      'row\'s seconds; "CH marks/SELECT" (marks selected, 8,192 rows each at most: 18.16 counts no rows) and "CH thread ms/SELECT" (its',
      'threads\' real time): per SELECT, from system.events.',
      '',
      t,
      '',
      'Issue 24\'s target, row by row (ClickHouse req/s >= 0.5x the SQLite store\'s in the same run, p99 <= 50 ms):',
      '',
      ...verdicts,
      '',
      mt,
    ].join('\n'));
  }
} else if ((suite === 'all' && values.store === 'sqlite') || suite === 'dense') {
  const r = await runDenseBench({ root, log, seconds: values.quick ? 2 : 8 });
  writeFileSync(join(root, 'bench/results/dense.json'), JSON.stringify({ stamp, machine: machine(), ...r }, null, 2));
  const d = r.dataset;
  const t = denseTable(r);
  const mt = mixedTable(r);
  console.log(`\nDense dataset, SQLite store v2\n${t}\n\n${mt}\n`);
  if (!values.quick) {
    updateSection(join(root, 'BENCHMARKS.md'), 'query-dense', [
      '### Dense dataset (a real platform\'s density), SQLite store v2',
      '',
      `Run ${stamp} on ${machine()}.`,
      `Dataset (\`bench/query/dense.ts\`, written through the store's bulk path${d.reused ? ', reused' : ` in ${(d.generatedMs / 1000).toFixed(0)} s`}): ` +
        `7 days x 100 domains with Zipf popularity; the top 10 have traffic in nearly every (province, carrier) pair with 6 codes ` +
        `(least busy head domain: ${d.headCellsPerMinute} cells in its quietest minute), the tail is sparse; 20 carousel tasks x 7 days of per-second samples.`,
      `${d.cells} cells (${d.requests} requests, with bytes), ${d.samples} samples; ${(d.countBytesOnDisk / 2 ** 20).toFixed(0)} MiB on disk = ` +
        `**${d.bytesPerCell.toFixed(2)} bytes per stored cell** (file size without the traffic cube's tables: all httpcodes levels and the samples included, / cells; ` +
        `the whole file with the traffic cube is ${(d.bytesOnDisk / 2 ** 20).toFixed(0)} MiB).`,
      `Traffic cube (\`bench/query/dense-traffic.ts\`): ${d.trafficDays} days x 100 domains, ${d.trafficStreams} streams (100 Zipf streams per head domain) ` +
        `with per-stream cells on the last ${DENSE.traffic.streamDays} days; ${d.trafficDomainCells} domain and ${d.trafficStreamCells} stream cells ` +
        `(${d.trafficRequests} requests, equal to the httpcodes cube's per domain, province, carrier and 5 minutes on its days); ` +
        `**${(d.trafficBytesPerDay / 2 ** 20).toFixed(1)} MiB on disk per day** (SQLite pages of the traffic tables, dbstat, / the days each covers).`,
      ...(d.audienceCells === undefined ? [] : [
        `Audience cube (\`bench/query/dense-audience.ts\`, issue 21, through the store's write path in ${((d.audienceMs ?? 0) / 1000).toFixed(0)} s): ` +
          `${DENSE.audience.streams} streams and ~${DENSE.audience.viewers} concurrent viewers (Zipf) on each of the ${DENSE.audience.domains} head domains ` +
          `(FLV sessions over ${DENSE.audience.geoGroups} (province, carrier) groups per stream-minute; in the last ${DENSE.audience.hlsHours} hour(s) half of them HLS ` +
          `viewers, one client IP each), every head domain on the last ${DENSE.audience.days} day(s) and head domain 1 on ${DENSE.audience.headDays}; ` +
          `${d.audienceCells} cells, ${d.audienceHlsViewers} HLS viewer-minutes, ${d.audienceUsers} daily users; ` +
          `${((d.audienceTableBytes ?? 0) / 2 ** 20).toFixed(0)} MiB on disk (dbstat, cubes and exact sets).`,
      ]),
      'Every row is uncached (`--query-cache-ms 0`), autocannon 10 connections; beside each row a bare `node:http` process sends the',
      'identical response bytes (`bench/query/bare-server.ts`), same run: "x bare" = livestats req/s / bare req/s.',
      '',
      t,
      '',
      mt,
    ].join('\n'));
  }
}

if (suite === 'all' || suite === 'audience') {
  const audienceLoad = loadavg().map((x) => x.toFixed(1)).join(' / ');
  const r = await runAudienceBench({ root, log, quick: values.quick ?? false });
  const audienceLoadEnd = loadavg().map((x) => x.toFixed(1)).join(' / ');
  writeFileSync(join(root, 'bench/results/audience.json'), JSON.stringify({ stamp, machine: machine(), ...r }, null, 2));
  const t = audienceTable(r);
  console.log(`\nAudience endpoints (SQLite)\n${t}\n`);
  if (!r.quick) {
    const d = r.dataset;
    const a = AUDIENCE_BENCH;
    updateSection(join(root, 'BENCHMARKS.md'), 'audience', [
      '### Audience endpoints (viewers, play-info, portraits), SQLite store',
      '',
      `Run ${stamp} on ${machine()}.`,
      `Dataset (\`bench/query/audience.ts\`, written through the store's write path in ${(d.generatedMs / 1000).toFixed(0)} s): one head domain with ` +
        `${a.headViewers} concurrent HTTP-FLV viewers over ${a.streams} streams (Zipf) in every minute of ${a.days} days, spread over ${a.geoGroups} ` +
        `(province, carrier) groups, and its distinct users per day; in the last ${a.liveHours} hours every one of ${a.domains} domains has ${a.streams} live ` +
        `streams with HTTP-FLV sessions and ${a.hlsPerStream} HLS viewers (distinct IPs) per stream and minute. ${d.cells} cells and IP rows, ` +
        `${(d.bytesOnDisk / 2 ** 20).toFixed(0)} MiB on disk.`,
      'Every row is uncached (`--query-cache-ms 0`), autocannon 10 connections, 8 s; beside each row a bare `node:http` process sends the',
      'identical response bytes (`bench/query/bare-server.ts`), same run: "x bare" = livestats req/s / bare req/s. Targets: p99 <= 50 ms, >= 0.3x bare.',
      `Load average (1 / 5 / 15 min) at the start ${audienceLoad}, at the end ${audienceLoadEnd}.`,
      '',
      t,
    ].join('\n'));
  }
}

if (suite === 'ingest' && values.store === 'clickhouse') {
  // The ClickHouse store's write path beside the SQLite store's, same run (bench/ingest/clickhouse-ingest.ts).
  const lines = values.quick ? 120_000 : Number(process.env.BENCH_DENSE_LINES ?? 600_000);
  const loadStart = loadavg().map((x) => x.toFixed(1)).join(' / ');
  const r = await runClickHouseIngestBench({ root, lines, rounds: values.quick ? 1 : Number(process.env.BENCH_ROUNDS ?? 2), mixedSeconds: values.quick ? 4 : 15, log });
  const loadEnd = loadavg().map((x) => x.toFixed(1)).join(' / ');
  writeFileSync(join(root, 'bench/results/ingest-clickhouse.json'), JSON.stringify({ stamp, machine: machine(), ...r }, null, 2));
  const t = clickHouseIngestTable(r);
  console.log(`\nIngest, ClickHouse store vs SQLite store (${r.lines} dense lines)\n${t}\n`);
  if (!values.quick) {
    updateSection(join(root, 'BENCHMARKS.md'), 'ingest-clickhouse', [
      '### Ingest, ClickHouse store beside the SQLite store (same run)',
      '',
      `Run ${stamp} on ${machine()}; load average (1 / 5 / 15 min) ${loadStart} at the start, ${loadEnd} at the end.`,
      `The dense file (\`bench/ingest/generate-dense.ts\`, ${r.lines} lines, ${(r.bytes / 2 ** 20).toFixed(0)} MiB, one hour) through \`livestats ingest\` into each store,`,
      `${r.rounds} interleaved rounds, best wall time (CPU time of that round beside; clickhouse-server 18.16 started by the bench). Then on each`,
      'store\'s ingested data: the heaviest httpcodes query (10 domains, region GD,SH + isp CMCC + code 200,404: the detail table) uncached at',
      `10 connections for ${r.mixedSeconds} s while a probe process posts 500-line ingest batches (\`X-Batch-Id\`, one every 200 ms after each ack) and polls /healthz every 50 ms.`,
      '',
      t,
    ].join('\n'));
  }
} else if (suite === 'all' || suite === 'ingest') {
  const lines = values.quick ? 200_000 : Number(process.env.BENCH_LINES ?? 2_000_000);
  const loadStart = loadavg().map((x) => x.toFixed(1)).join(' / ');
  const denseLines = values.quick ? 240_000 : Number(process.env.BENCH_DENSE_LINES ?? 2_400_000);
  const r = await runIngestBench({ root, lines, denseLines, rounds: values.quick ? 1 : Number(process.env.BENCH_ROUNDS ?? 5), log });
  writeFileSync(join(root, 'bench/results/ingest.json'), JSON.stringify({ stamp, machine: machine(), ...r }, null, 2));
  const t = ingestTable(r);
  const dt = denseIngestTable(r);
  console.log(`\nIngest throughput (${r.lines} lines)\n${t}\n\n${overheadLine(r)}\n\nDense file (${r.dense.lines} lines)\n${dt}\n`);
  if (!values.quick) {
    updateSection(join(root, 'BENCHMARKS.md'), 'ingest', [
      '### Ingest throughput',
      '',
      `Run ${stamp} on ${machine()}.`,
      `File: ${r.lines} \`combined_host\` lines (${(r.bytes / 2 ** 20).toFixed(0)} MiB), ~50k client IPs (90% in Chinese ranges), 10 domains,`,
      'one hour, a live-streaming status mix (`bench/ingest/generate.ts`, deterministic). Best of ' + r.rounds + ' interleaved rounds.',
      '`livestats ingest` runs end to end in its own process: parse, geo-locate, aggregate, commit to SQLite (2 parse workers).',
      'The baseline is `awk` counting (host, minute, status) on the same file; `wc -l` is the I/O floor.',
      'The "with metrics" row is the same command with `--metrics-file` (the Prometheus collection the server does too),',
      'alternating with the plain one in every round. CPU time (user + system of the ingest process, from /proc) barely',
      `moves when other processes compete for the cores; wall time does (load average ${loadStart} at the start of this run).`,
      '',
      t,
      '',
      overheadLine(r),
      '',
      `Dense file (\`bench/ingest/generate-dense.ts\`, deterministic): ${r.dense.lines} lines (${(r.dense.bytes / 2 ** 20).toFixed(0)} MiB), one hour, ` +
        '10 play domains each with traffic from every (province, carrier) pair of the ip2region data in every minute, ~6 status codes ' +
        '(300+ (province, carrier, code) cells per domain-minute), FLV and HLS URIs of 300 streams per domain (Zipf), `$bytes_sent`, 6 % IPv6 clients. ' +
        'Same rounds, best wall time each; CPU time of that run beside it.',
      '',
      dt,
    ].join('\n'));
  }
}
