import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { constants, promises as fsp } from 'node:fs';
import { ConfigError, resolveServeConfig } from '../config.js';
import { isProjectId } from '../api/project.js';
import { DEFAULT_NAME_CAPS, NameLimits } from '../ingest/name-limits.js';
import { Aggregator } from '../ingest/aggregator.js';
import { classifyStoreError, StoreUnavailableError } from '../health/store-faults.js';
import { StoreHealth, type HealthLogger } from '../health/store-health.js';
import { ingestFiles } from '../ingest/batch-ingest.js';
import { fileCheckpointKey } from '../ingest/file-checkpoint.js';
import { FormatError } from '../ingest/formats/log-format.js';
import { JSON_FIELDS, parseFieldOptions } from '../ingest/formats/json-lines.js';
import { formatWarnings } from '../ingest/formats/diagnose.js';
import { normalizeDomain } from '../contract/domain.js';
import { emptyNotes } from '../ingest/notes.js';
import { dryRun, firstLines } from './ingest-dry-run.js';
import {
  DEFAULT_MAX_DROPPED_PERCENT, dropLines, EXIT_TOO_MANY_DROPPED, formatHint, runWarnings, summaryLine, tooManyDropped,
} from './ingest-report.js';
import { createLineParser } from '../ingest/formats/presets.js';
import { GeoOverrideError, loadGeoOverrides } from '../ingest/geo/overrides.js';
import type { IngestStats } from '../ingest/processor.js';
import type { ProcessorSettings } from '../ingest/setup.js';
import type { Metrics } from '../metrics/registry.js';
import type { MetricsFile } from '../metrics/textfile.js';
import { createStore } from '../store/index.js';
import { acquireLock, followLockName, LockHeldError, prepareDataDir, type ProcessLock } from '../store/data-dir.js';
import { chooseDataDir, choiceNote, DataDirError } from '../store/data-dir-choice.js';
import { followFiles } from './follow.js';
import { ProgressBar } from './progress.js';

export const INGEST_HELP = `Usage: livestats ingest --project P --format <preset|json|'log_format string'> [options] FILE...

Reads access logs (plain or .gz; '-' is stdin) into the store (same --data as serve).

Options:
  --project P              project the requests count for (required; letters, digits, _ and -)
  --format F               combined_host | combined_host_xff | combined | nginx_json | json |
                           a log_format string as in nginx.conf (docs/ingest.md, "Formats")
  --field NAME=PATH        JSON lines: where a field is (${JSON_FIELDS.join(', ')}); repeatable
  --domain NAME            the domain of lines that log no host (a server with one domain, nginx's default combined)
  --dry-run                parse the first 10 lines and show what each is read as, and why a line would be
                           dropped; nothing is stored
  --max-dropped-percent N  exit 3 when more than N% of the lines are dropped (caps aside) [default 50; 100: never]
  --follow                 keep reading like tail -F (rotation safe, resumes after restart); a file followed
                           for the first time is counted from its start, then new lines; a missing file is waited for
  --from-end               --follow: a file followed for the first time is counted from its end (new lines only)
  --summary-interval S     --follow: print the lines read, accepted and dropped every S seconds [default 60; 0: off]
  --json                   print {"lines":N,"accepted":N,"dropped":{...},"samples":{...}} at the end
                           (--follow: JSON lines: first drops, summaries, events, the total on exit)
  --workers N              parse threads (default: 2 for files over 16 MiB, else 0 = main thread)
  --data DIR               the server's data directory [LIVESTATS_DATA; else ./data only if it already is one]
  --store sqlite|clickhouse, --clickhouse-url URL, --clickhouse-cluster NAME, --clickhouse-replicated,
  --clickhouse-insert-quorum N
                           the store to write to, as for serve (also their LIVESTATS_* variables)
  --start-check quick|header
                           how the SQLite file is checked when it opens, as for serve [default quick]
  --retention-days N       lines older than this are dropped as too_old [default 8]
  --geo-overrides FILE     CSV of CIDR,region,isp checked before ip2region
  --flush-interval-ms N    how often counts are committed [default 1000]
  --poll-ms N              --follow: how often files are checked [default 200]
  --metrics-file FILE      write Prometheus metrics (lines per reason, requests per domain, store writes) to
                           FILE for node_exporter's textfile collector: at the end, and every 15 s with --follow
  --metrics-max-series N   domains per project with their own series in that file [default 1000]
  --max-domains N          distinct domains the project may have stored; lines naming a new one beyond it are
                           dropped as domain_limit [LIVESTATS_MAX_DOMAINS, default 10000]
  --max-streams N          the same for (domain, app, stream) streams: stream_limit [LIVESTATS_MAX_STREAMS, default 200000]
  -h, --help               this help`;

const OPTIONS = {
  project: { type: 'string' }, format: { type: 'string' }, field: { type: 'string', multiple: true },
  follow: { type: 'boolean' }, json: { type: 'boolean' }, workers: { type: 'string' }, data: { type: 'string' },
  store: { type: 'string' }, 'clickhouse-url': { type: 'string' }, 'clickhouse-cluster': { type: 'string' },
  'clickhouse-replicated': { type: 'boolean' }, 'clickhouse-insert-quorum': { type: 'string' },
  'retention-days': { type: 'string' }, 'geo-overrides': { type: 'string' }, 'start-check': { type: 'string' },
  'flush-interval-ms': { type: 'string' }, 'poll-ms': { type: 'string' },
  'metrics-file': { type: 'string' }, 'metrics-max-series': { type: 'string' },
  'max-domains': { type: 'string' }, 'max-streams': { type: 'string' }, help: { type: 'boolean', short: 'h' },
  domain: { type: 'string' }, 'dry-run': { type: 'boolean' }, 'max-dropped-percent': { type: 'string' },
  'from-end': { type: 'boolean' }, 'summary-interval': { type: 'string' },
} as const;

/** How often --follow rewrites --metrics-file. */
export const METRICS_FILE_INTERVAL_MS = 15_000;
/** Store outages on stderr: one line when writes start failing, one summary a minute, one when they succeed again. */
const stderrHealthLogger: HealthLogger = {
  info: (o, msg) => console.error(`livestats ingest: ${msg} ${JSON.stringify(o)}`),
  warn: (o, msg) => console.error(`livestats ingest: ${msg} ${JSON.stringify(o)}`),
  error: (o, msg) => {
    const { err, ...rest } = o as { err?: Error };
    console.error(`livestats ingest: ${msg} ${JSON.stringify({ ...rest, error: err?.message })}`);
  },
};

function fail(msg: string): number {
  console.error(`livestats ingest: ${msg}`);
  return 2;
}

/** `livestats ingest`: batch or follow ingestion of access logs into the configured store. */
export async function ingestCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    return fail(`${(err as Error).message}\n\n${INGEST_HELP}`);
  }
  const v = parsed.values;
  if (v.help) {
    console.log(INGEST_HELP);
    return 0;
  }
  const files = parsed.positionals;
  if (v.project === undefined) return fail('--project is required (letters, digits, _ and -)');
  if (!isProjectId(v.project)) {
    return fail(`--project ${JSON.stringify(v.project)} is not a valid project id: use 1 to 64 letters, digits, _ and -, starting with a letter or digit`);
  }
  if (!v.format) return fail('--format is required');
  if (files.length === 0) return fail('no FILE given (use - for stdin)');
  if (v.follow && files.includes('-')) return fail('--follow needs files, not stdin');
  if (v.follow && v['dry-run']) return fail('--dry-run reads the first lines once: leave out --follow');
  if (!v.follow && (v['from-end'] || v['summary-interval'] !== undefined)) return fail('--from-end and --summary-interval go with --follow');
  const maxDroppedPercent = Number(v['max-dropped-percent'] ?? DEFAULT_MAX_DROPPED_PERCENT);
  if (!Number.isFinite(maxDroppedPercent) || maxDroppedPercent < 0 || maxDroppedPercent > 100) {
    return fail('--max-dropped-percent must be a number from 0 to 100');
  }
  const summaryIntervalS = Number(v['summary-interval'] ?? 60);
  if (!Number.isFinite(summaryIntervalS) || summaryIntervalS < 0 || (summaryIntervalS > 0 && summaryIntervalS < 1)) {
    return fail('--summary-interval must be a number of seconds, at least 1 (0: off)');
  }
  let defaultDomain: string | undefined;
  if (v.domain !== undefined) {
    defaultDomain = normalizeDomain(v.domain);
    if (defaultDomain === undefined) return fail(`--domain ${JSON.stringify(v.domain)} is not a domain name`);
  }
  let settings: ProcessorSettings;
  let config;
  let formatWarningsOf: string[] = [];
  try {
    // The data directory is not resolved here but once below, by chooseDataDir (the rule of every
    // command but serve: an empty LIVESTATS_DATA is unset); config.data is set from that choice.
    const { LIVESTATS_DATA: _data, ...env } = process.env;
    config = resolveServeConfig({
      store: v.store, 'clickhouse-url': v['clickhouse-url'], 'clickhouse-cluster': v['clickhouse-cluster'],
      'clickhouse-replicated': v['clickhouse-replicated'], 'clickhouse-insert-quorum': v['clickhouse-insert-quorum'],
      'retention-days': v['retention-days'], 'geo-overrides': v['geo-overrides'], 'start-check': v['start-check'],
      'flush-interval-ms': v['flush-interval-ms'], 'metrics-max-series': v['metrics-max-series'],
      'max-domains': v['max-domains'], 'max-streams': v['max-streams'],
    }, env);
    settings = {
      format: v.format, fields: parseFieldOptions(v.field ?? []), retentionDays: config.retentionDays,
      geoOverridesFile: config.geoOverrides || undefined, ...(defaultDomain !== undefined ? { defaultDomain } : {}),
    };
    createLineParser(settings.format, { fields: settings.fields });
    formatWarningsOf = formatWarnings(settings.format, { defaultDomain: defaultDomain !== undefined });
    if (settings.geoOverridesFile) loadGeoOverrides(settings.geoOverridesFile);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof FormatError || err instanceof GeoOverrideError) return fail(err.message);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fail((err as Error).message);
    throw err;
  }
  for (const w of formatWarningsOf) console.error(`livestats ingest: warning: ${w}`);
  let totalBytes = 0;
  for (const f of files) {
    if (f === '-') continue;
    const s = await stat(f).catch(() => undefined);
    // --follow waits for a missing file, like tail -F (the follower says so).
    if (!s && v.follow) continue;
    if (!s) return fail(`${f}: no such file`);
    if (!s.isFile()) return fail(`${f}: not a regular file`);
    const denied = await fsp.access(f, constants.R_OK).then(() => undefined, (err: NodeJS.ErrnoException) => err.code ?? 'error');
    if (denied !== undefined) return fail(`${f}: cannot be read (${denied === 'EACCES' ? 'permission denied' : denied})`);
    totalBytes += s.size;
  }
  if (v['dry-run']) return dryRun(files, settings, maxDroppedPercent, (line) => console.log(line));
  const pollMs = Number(v['poll-ms'] ?? 200);
  if (!Number.isInteger(pollMs) || pollMs < 1) return fail('--poll-ms must be a positive whole number');
  const metricsPath = v['metrics-file'];
  if (metricsPath !== undefined && !(await stat(dirname(metricsPath)).catch(() => undefined))?.isDirectory()) {
    return fail(`--metrics-file: directory ${dirname(metricsPath)} does not exist`);
  }
  let metrics: Metrics | undefined;
  let metricsFile: MetricsFile | undefined;
  if (metricsPath !== undefined) {
    // Loaded only when asked for: a plain run does not pay for prom-client.
    const [{ Metrics }, { MetricsFile }] = await Promise.all([import('../metrics/registry.js'), import('../metrics/textfile.js')]);
    // node_exporter exports its own process_* metrics: the file carries only livestats' own.
    metrics = new Metrics({ maxSeries: config.metricsMaxSeries, defaultMetrics: false });
    metricsFile = new MetricsFile(metricsPath, metrics, (err) => console.error(`livestats ingest: --metrics-file: ${(err as Error).message}`));
  }
  // The data directory holds the SQLite store and the follow locks (with either store).
  const locks: ProcessLock[] = [];
  if (config.store === 'sqlite' || v.follow) {
    // The same directory the server reads, found as every command finds it (src/store/data-dir-choice.ts).
    try {
      const choice = chooseDataDir(v.data);
      const note = choiceNote(choice);
      if (note) console.error(`livestats ingest: ${note}`);
      config.data = choice.dir;
      const warning = prepareDataDir(config.data);
      if (warning) console.error(`livestats ingest: ${warning}`);
    } catch (err) {
      if (err instanceof DataDirError) return fail(err.message);
      throw err;
    }
  }
  if (v.follow) {
    // One follower per file: a second one would read the same lines from its own offset and count them again.
    try {
      for (const f of files) locks.push(await acquireLock(config.data, followLockName(f), 'livestats ingest --follow', `followed file ${f}`));
    } catch (err) {
      for (const l of locks) l.release();
      if (err instanceof LockHeldError) {
        console.error(`livestats ingest: ${err.message}; nothing was counted`);
        return 1;
      }
      throw err;
    }
  }
  const releaseLocks = (): void => {
    for (const l of locks) l.release();
  };
  const store = createStore(config);
  try {
    await store.init();
  } catch (err) {
    await store.close().catch(() => undefined);
    releaseLocks();
    const where = config.store === 'sqlite' ? ` ${join(config.data, 'livestats.db')}` : '';
    console.error(`livestats ingest: cannot open the store${where} (${classifyStoreError(err)}): ${(err as Error).message}; nothing was counted`);
    return 1;
  }
  const health = new StoreHealth({ logger: stderrHealthLogger });
  const aggregator = new Aggregator(store, { flushIntervalMs: config.flushIntervalMs, observer: metrics?.flushObserver, health });
  metrics?.aggregator.watch(() => aggregator.stats());
  aggregator.start();
  let names;
  try {
    names = await new NameLimits(store, { ...DEFAULT_NAME_CAPS, maxDomains: config.maxDomains, maxStreams: config.maxStreams }).gate(v.project);
  } catch (err) {
    await aggregator.stop().catch(() => undefined);
    await store.close().catch(() => undefined);
    console.error(`livestats ingest: cannot read the store (${classifyStoreError(err)}): ${(err as Error).message}; nothing was counted`);
    return 1;
  }
  try {
    if (v.follow) {
      metricsFile?.start(METRICS_FILE_INTERVAL_MS);
      try {
        return await followFiles({
          project: v.project, files, settings, aggregator, store, pollMs, metrics: metrics?.ingest, names,
          fromEnd: v['from-end'] === true, summaryIntervalMs: summaryIntervalS * 1000, json: v.json === true,
        });
      } finally {
        await metricsFile?.stop().catch((err: unknown) => console.error(`livestats ingest: --metrics-file: ${(err as Error).message}`));
      }
    }
    const workers = v.workers !== undefined ? Number(v.workers)
      : totalBytes > 16 << 20 ? Math.min(2, availableParallelism()) : 0;
    if (!Number.isInteger(workers) || workers < 0 || workers > 64) return fail('--workers must be 0..64');
    const bar = process.stderr.isTTY && !v.json ? new ProgressBar(process.stderr, files.includes('-') ? undefined : totalBytes) : undefined;
    const started = Date.now();
    const project = v.project;
    const keys = new Map<string, string>();
    const notes = emptyNotes();
    let stats: IngestStats;
    try {
      stats = await ingestFiles({
        project, files, settings, aggregator, workers, names, notes, onProgress: (p) => bar?.update(p),
        skipFile: async (file) => {
          const key = await fileCheckpointKey(project, file);
          if (key === undefined) return false;
          keys.set(file, key);
          if ((await store.getCheckpoint(key)) === undefined) return false;
          console.error(`livestats ingest: ${file}: already counted by an earlier run (same file, size and modification time); skipped`);
          return true;
        },
        commitFile: async (file, s) => {
          const key = keys.get(file);
          // A file of which nothing was counted is not marked as read: after fixing --format it is read again.
          if (key !== undefined && s.accepted > 0) aggregator.checkpoint(key, JSON.stringify({ file, lines: s.lines, accepted: s.accepted, at: Date.now() }), project);
          await aggregator.commit(project);
        },
      });
    } catch (err) {
      // Each file commits whole with its checkpoint: files before this one are counted, this one not at all.
      bar?.done();
      const why = err instanceof StoreUnavailableError ? `the store refused the write (${err.reason}): ${(err.cause as Error)?.message ?? ''}`
        : (err as Error).message;
      console.error(`livestats ingest: ${why}`);
      console.error('livestats ingest: files counted before the failure stay counted; the failed file was not counted at all. ' +
        'Run the same command again: files already counted are skipped, so every line is counted exactly once.');
      await aggregator.stop().catch(() => undefined);
      await metricsFile?.write();
      return 1;
    }
    metrics?.ingest.record('batch', stats);
    await aggregator.stop();
    await metricsFile?.write();
    bar?.done();
    const counted = runWarnings(stats, notes);
    const warnings = [...formatWarningsOf, ...counted];
    const drops = dropLines(stats, notes);
    const hint = drops.length > 0
      ? formatHint(stats, notes, settings.format, await firstLines(files.filter((f) => f !== '-').slice(0, 1), 20).catch(() => []))
      : undefined;
    const failed = tooManyDropped(stats, maxDroppedPercent);
    if (v.json) {
      const samples = Object.keys(notes.samples).length > 0 ? { samples: notes.samples } : {};
      console.log(JSON.stringify({ ...stats, ...samples, ...(hint ? { hint } : {}), ...(warnings.length > 0 ? { warnings } : {}) }));
    } else {
      console.log(summaryLine(stats, Date.now() - started));
    }
    for (const l of drops) console.error(`livestats ingest: ${l}`);
    if (hint) console.error(`livestats ingest: hint: ${hint}`);
    for (const w of counted) console.error(`livestats ingest: warning: ${w}`);
    if (failed) {
      const pct = Math.floor((100 * (stats.lines - stats.accepted)) / stats.lines);
      console.error(`livestats ingest: ${stats.accepted === 0 ? 'every line was dropped' : `${pct}% of the lines were dropped`} ` +
        `(more than --max-dropped-percent ${maxDroppedPercent}): exit ${EXIT_TOO_MANY_DROPPED}; ` +
        (stats.accepted === 0 ? 'nothing was counted, so the same files are read again by the next run: fix --format (try --dry-run) and run again'
          : 'the accepted lines are stored, and files with a line counted are marked as read (the same command skips them)'));
      return EXIT_TOO_MANY_DROPPED;
    }
    return 0;
  } finally {
    await aggregator.stop().catch(() => undefined);
    try {
      await store.close();
    } finally {
      releaseLocks();
    }
  }
}


