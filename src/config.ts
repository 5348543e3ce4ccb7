import { isIdent } from './store/clickhouse/sql.js';
import { parseClickHouseUrls } from './store/clickhouse/url.js';

/**
 * Every setting of `livestats serve` in one place: typed default, environment variable,
 * command-line flag and help text. Flags win over environment variables, which win over defaults.
 */
export interface ServeConfig {
  host: string;
  port: number;
  data: string;
  store: 'sqlite' | 'clickhouse';
  /** ClickHouse server URL(s), `http://user:pass@host:8123/db`; several (comma-separated) in cluster mode. */
  clickhouseUrl?: string;
  /** ClickHouse cluster name (remote_servers); empty for a single server. */
  clickhouseCluster?: string;
  /** Replicated layout: Replicated*MergeTree tables (ZooKeeper), reads and writes fail over across the listed servers. */
  clickhouseReplicated?: boolean;
  /** Replicated layout: replicas of a shard that must hold an insert before it is confirmed (insert_quorum). */
  clickhouseInsertQuorum?: number;
  /** Memory for the ClickHouse store's hour blocks of closed hours, MiB (0: none, every query by SQL); see docs/clickhouse.md. */
  clickhouseHourBlocksMib?: number;
  /** ClickHouse: 'on' (default): reads at a lower `priority` than the write path's statements (see ChEndpointOptions.readsYield); 'off': no priorities. */
  clickhouseReadsYield?: 'on' | 'off';
  /** An hour is read from hour blocks once it ended this many ms ago. */
  clickhouseHourClosedAfterMs?: number;
  /** An hour block is rebuilt this many ms after it was built even when its stamp is unchanged. */
  clickhouseHourBlockMaxAgeMs?: number;
  /** At most this many SQL reads (stale hours, edges) beside the hour blocks in one answer; more: the whole query by SQL. */
  clickhouseHourBlockSqlRuns?: number;
  /** Worker threads of the request counts' hour blocks (each holds every block, in shared memory). */
  clickhouseHourBlockWorkers?: number;
  demo: boolean;
  logLevel: string;
  flushIntervalMs: number;
  maxConcurrentQueries: number;
  /** How long a stats query waits for a free slot before LIVE.100011007 (0: refuse at once). */
  queryWaitMs: number;
  /** Days of data kept; older data is deleted daily and older log lines are dropped as too_old. */
  retentionDays: number;
  trafficRetentionDays: number;
  /** Days the audience cube keeps (viewers, play-info, portraits, and the exact IP sets behind them). */
  audienceRetentionDays: number;
  /** Largest accepted request body (ingest intake), bytes; also the gunzipped size limit. */
  maxBodyBytes: number;
  /** Syslog listeners, e.g. udp://127.0.0.1:5140, tcp://127.0.0.1:5140. */
  syslog: string[];
  syslogProject: string;
  syslogFormat: string;
  /** Syslog lines kept while the store refuses writes; more are dropped as buffer_full. */
  syslogBufferLines: number;
  /** CSV of CIDR,region,isp checked before ip2region ('' = none). */
  geoOverrides: string;
  queryCacheMs: number;
  /** See src/api/http-limits.ts. */
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
  /** At SIGTERM/SIGINT, how long requests in flight may take to finish before their connections are closed (src/shutdown.ts). */
  shutdownGraceMs: number;
  /** Worker threads running SQLite store reads (0: one per core, at most 4). */
  queryThreads: number;
  /** Nice value of the query worker threads of either store (SQLite reads, ClickHouse blocks and rendering; 0..19; the main and write threads keep theirs). */
  queryThreadNice: number;
  /** A stats query not answered within this many ms fails (LIVE.100011005, "query timed out"). */
  queryTimeoutMs: number;
  ingestCommitTimeoutMs: number;
  /** How the SQLite file is checked when it opens: 'quick' (PRAGMA quick_check) or 'header' (header and schema only). */
  startCheck: 'quick' | 'header';
  /** JSON file of carousel tasks to run inside the server ('' or absent: none). */
  carousel?: string;
  /** Bearer token GET /metrics requires ('' or absent: none; then only a loopback server answers it). */
  metricsToken?: string;
  /** Domains and carousel tasks per project with their own metric series; the rest fold into "_other". */
  metricsMaxSeries: number;
  /** Distinct play domains one project may have stored; lines naming a new one beyond it are dropped as domain_limit. */
  maxDomains: number;
  /** Distinct (domain, app, stream) streams one project may have stored; lines naming a new one beyond it are dropped as stream_limit. */
  maxStreams: number;
  /** Carousel tasks one project may have; a new one beyond it is refused (LIVE.100011001, "carousel task limit"). */
  maxCarouselTasks: number;
  /** Host header names answered besides the loopback names of a loopback listener ('*': any); see src/api/request-guard.ts. */
  allowedHosts: string[];
  /** Request bodies held in memory at once, all requests together, bytes; beyond it 503 LIVE.100011007. */
  maxInflightBodyBytes: number;
  /** nginx-rtmp statistics pages to poll, `URL[#project=P&domain=D&name=N]` (docs/origin.md). */
  originStat: string[];
  /** How often each statistics page is polled, ms. */
  originPollIntervalMs: number;
  /** Live publish streams probed at once (all origins together); 0: no probes. */
  probeMaxStreams: number;
  /** Live publish streams probed at once per origin. */
  probePerOrigin: number;
  /** Where a live stream is read for probing: {origin} {app} {stream} are filled in. */
  probeRtmpUrl: string;
}

interface Setting<K extends keyof ServeConfig> {
  key: K;
  flag: string;
  env: string;
  kind: 'string' | 'int' | 'boolean' | 'list';
  default: ServeConfig[K];
  help: string;
  choices?: readonly string[];
  min?: number;
  max?: number;
}

type AnySetting = { [K in keyof ServeConfig]-?: Setting<K> }[keyof ServeConfig];

export const SERVE_SETTINGS: readonly AnySetting[] = [
  { key: 'host', flag: 'host', env: 'LIVESTATS_HOST', kind: 'string', default: '127.0.0.1', help: 'address to listen on' },
  { key: 'port', flag: 'port', env: 'LIVESTATS_PORT', kind: 'int', default: 8080, min: 0, max: 65535, help: 'TCP port (0 picks a free one)' },
  { key: 'data', flag: 'data', env: 'LIVESTATS_DATA', kind: 'string', default: './data', help: 'data directory (SQLite file: <data>/livestats.db)' },
  { key: 'store', flag: 'store', env: 'LIVESTATS_STORE', kind: 'string', default: 'sqlite', choices: ['sqlite', 'clickhouse'], help: 'storage backend' },
  { key: 'clickhouseUrl', flag: 'clickhouse-url', env: 'LIVESTATS_CLICKHOUSE_URL', kind: 'string', default: '', help: 'with --store clickhouse: http://user:pass@host:8123/db (cluster mode: one URL per shard server, comma-separated)' },
  { key: 'clickhouseCluster', flag: 'clickhouse-cluster', env: 'LIVESTATS_CLICKHOUSE_CLUSTER', kind: 'string', default: '', help: 'ClickHouse cluster name: local tables on every listed server + Distributed tables' },
  { key: 'clickhouseReplicated', flag: 'clickhouse-replicated', env: 'LIVESTATS_CLICKHOUSE_REPLICATED', kind: 'boolean', default: false, help: 'with --clickhouse-cluster: Replicated*MergeTree tables kept in ZooKeeper (servers need the {shard} and {replica} macros); list every replica in --clickhouse-url, reads and writes fail over between them' },
  { key: 'clickhouseReadsYield', flag: 'clickhouse-reads-yield', env: 'LIVESTATS_CLICKHOUSE_READS_YIELD', kind: 'string', default: 'on', choices: ['on', 'off'], help: 'with --store clickhouse: on: reads run at a lower ClickHouse query priority than the write path (the priority setting: a read pauses at its next block while an insert, the X-Batch-Id check or a checkpoint runs), so ingest acknowledgements wait less behind heavy queries; off: every request at the same priority' },
  { key: 'clickhouseHourBlocksMib', flag: 'clickhouse-hour-blocks-mib', env: 'LIVESTATS_CLICKHOUSE_HOUR_BLOCKS_MIB', kind: 'int', default: 256, min: 0, max: 1_048_576, help: 'with --store clickhouse: memory for closed hours of request counts kept in this node (hour blocks, checked against their stamps on every query; least recently built dropped first; 1/8 of it holds the filtered traffic cells and 1/8 the carousel hours), MiB; 0: none, every httpcodes and traffic query by SQL' },
  { key: 'clickhouseHourClosedAfterMs', flag: 'clickhouse-hour-closed-after-ms', env: 'LIVESTATS_CLICKHOUSE_HOUR_CLOSED_AFTER_MS', kind: 'int', default: 300_000, min: 0, max: 86_400_000, help: 'with --store clickhouse: an hour is read from hour blocks once it ended this long ago (before: by SQL; a block of an hour still written would be rebuilt at every write)' },
  { key: 'clickhouseHourBlockMaxAgeMs', flag: 'clickhouse-hour-block-max-age-ms', env: 'LIVESTATS_CLICKHOUSE_HOUR_BLOCK_MAX_AGE_MS', kind: 'int', default: 900_000, min: 1000, max: 86_400_000, help: 'with --store clickhouse: an hour block is rebuilt this long after it was built even if its stamp is unchanged (bounds what a batch whose stamp view failed and whose node died before its retry could hide)' },
  { key: 'clickhouseHourBlockSqlRuns', flag: 'clickhouse-hour-block-sql-runs', env: 'LIVESTATS_CLICKHOUSE_HOUR_BLOCK_SQL_RUNS', kind: 'int', default: 4, min: 1, max: 1000, help: 'with --store clickhouse: at most this many SQL reads (runs of hours without a current block, and the edges) beside the hour blocks in one answer; more: the whole query by SQL' },
  { key: 'clickhouseHourBlockWorkers', flag: 'clickhouse-hour-block-workers', env: 'LIVESTATS_CLICKHOUSE_HOUR_BLOCK_WORKERS', kind: 'int', default: 2, min: 1, max: 16, help: 'with --store clickhouse: worker threads that build and answer from the request counts\' hour blocks; each holds every block in shared memory (the --clickhouse-hour-blocks-mib budget is not multiplied), concurrent answers go to the least busy' },
  { key: 'clickhouseInsertQuorum', flag: 'clickhouse-insert-quorum', env: 'LIVESTATS_CLICKHOUSE_INSERT_QUORUM', kind: 'int', default: 2, min: 0, max: 16, help: 'with --clickhouse-replicated: an insert is confirmed only when this many replicas of its shard hold it (ClickHouse insert_quorum; 0 or 1: one replica)' },
  { key: 'demo', flag: 'demo', env: 'LIVESTATS_DEMO', kind: 'boolean', default: false, help: 'generate demo traffic for project "demo" (24 h backfill, then live)' },
  { key: 'logLevel', flag: 'log-level', env: 'LIVESTATS_LOG_LEVEL', kind: 'string', default: 'info', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], help: 'log level' },
  { key: 'flushIntervalMs', flag: 'flush-interval-ms', env: 'LIVESTATS_FLUSH_INTERVAL_MS', kind: 'int', default: 1000, min: 10, max: 60_000, help: 'how often the aggregator writes to the store' },
  { key: 'retentionDays', flag: 'retention-days', env: 'LIVESTATS_RETENTION_DAYS', kind: 'int', default: 8, min: 1, max: 3650, help: 'days of data kept (older data deleted daily, older log lines dropped)' },
  { key: 'audienceRetentionDays', flag: 'audience-retention-days', env: 'LIVESTATS_AUDIENCE_RETENTION_DAYS', kind: 'int', default: 32, min: 2, max: 3650, help: 'days of audience data kept (viewers per minute, play-info, stream portraits and the client-IP sets that keep them exact; deleted daily; see docs/storage.md for its cost)' },
  { key: 'trafficRetentionDays', flag: 'traffic-retention-days', env: 'LIVESTATS_TRAFFIC_RETENTION_DAYS', kind: 'int', default: 400, min: 7, max: 3650, help: 'days of traffic/bandwidth data kept (the traffic cube; deleted daily); the traffic endpoints look back at most min(365, this) days' },
  { key: 'maxBodyBytes', flag: 'max-body-bytes', env: 'LIVESTATS_MAX_BODY_BYTES', kind: 'int', default: 64 * 1024 * 1024, min: 1024, max: 2 ** 31, help: 'largest request body (and gunzipped ingest body) accepted, bytes' },
  { key: 'syslog', flag: 'syslog', env: 'LIVESTATS_SYSLOG', kind: 'list', default: [], help: 'syslog listener udp://HOST:PORT or tcp://HOST:PORT (repeatable; env: comma separated)' },
  { key: 'syslogProject', flag: 'syslog-project', env: 'LIVESTATS_SYSLOG_PROJECT', kind: 'string', default: 'default', help: 'project that syslog-received lines count for' },
  { key: 'syslogFormat', flag: 'syslog-format', env: 'LIVESTATS_SYSLOG_FORMAT', kind: 'string', default: 'combined_host', help: 'format of syslog-received lines (preset, json, or log_format string)' },
  { key: 'syslogBufferLines', flag: 'syslog-buffer-lines', env: 'LIVESTATS_SYSLOG_BUFFER_LINES', kind: 'int', default: 1_000_000, min: 1, max: 1_000_000_000, help: 'syslog lines kept while the store refuses writes (more are dropped as buffer_full)' },
  { key: 'geoOverrides', flag: 'geo-overrides', env: 'LIVESTATS_GEO_OVERRIDES', kind: 'string', default: '', help: 'CSV file of CIDR,region,isp checked before ip2region' },
  { key: 'carousel', flag: 'carousel', env: 'LIVESTATS_CAROUSEL', kind: 'string', default: '', help: 'JSON file of carousel tasks to play and probe inside the server (docs/carousel.md)' },
  { key: 'maxConcurrentQueries', flag: 'max-concurrent-queries', env: 'LIVESTATS_MAX_CONCURRENT_QUERIES', kind: 'int', default: 64, min: 1, max: 100_000, help: 'stats queries in flight before LIVE.100011007' },
  { key: 'headersTimeoutMs', flag: 'headers-timeout-ms', env: 'LIVESTATS_HEADERS_TIMEOUT_MS', kind: 'int', default: 10_000, min: 100, max: 600_000, help: 'a request\'s headers must arrive within this (slowloris); else 408 and the connection is closed' },
  { key: 'bodyTimeoutMs', flag: 'body-timeout-ms', env: 'LIVESTATS_BODY_TIMEOUT_MS', kind: 'int', default: 30_000, min: 100, max: 3_600_000, help: 'longest silence on a connection while a body is received or an answer sent (clients that stall or never read); then it is closed' },
  { key: 'requestTimeoutMs', flag: 'request-timeout-ms', env: 'LIVESTATS_REQUEST_TIMEOUT_MS', kind: 'int', default: 120_000, min: 100, max: 3_600_000, help: 'a whole request (headers and body) must arrive within this; else 408 and the connection is closed' },
  { key: 'keepAliveTimeoutMs', flag: 'keep-alive-timeout-ms', env: 'LIVESTATS_KEEP_ALIVE_TIMEOUT_MS', kind: 'int', default: 5_000, min: 100, max: 600_000, help: 'an idle keep-alive connection is closed after this' },
  { key: 'maxConnections', flag: 'max-connections', env: 'LIVESTATS_MAX_CONNECTIONS', kind: 'int', default: 10_000, min: 1, max: 1_000_000, help: 'open HTTP connections at most; further ones are closed at once' },
  { key: 'shutdownGraceMs', flag: 'shutdown-grace-ms', env: 'LIVESTATS_SHUTDOWN_GRACE_MS', kind: 'int', default: 10_000, min: 0, max: 600_000, help: 'at SIGTERM/SIGINT, how long requests in flight may take to finish; then their connections are closed (a body not yet received is not acknowledged and not counted) and pending data is flushed' },
  { key: 'queryWaitMs', flag: 'query-wait-ms', env: 'LIVESTATS_QUERY_WAIT_MS', kind: 'int', default: 1000, min: 0, max: 60_000, help: 'how long a stats query beyond --max-concurrent-queries waits for a free slot before LIVE.100011007 (0: refuse at once)' },
  { key: 'queryThreads', flag: 'query-threads', env: 'LIVESTATS_QUERY_THREADS', kind: 'int', default: 0, min: 0, max: 64, help: 'worker threads running SQLite reads (0: one per core, at most 4)' },
  { key: 'queryThreadNice', flag: 'query-thread-nice', env: 'LIVESTATS_QUERY_THREAD_NICE', kind: 'int', default: 10, min: 0, max: 19, help: 'nice value of the query worker threads (SQLite: the read threads; ClickHouse: the block and rendering threads), so heavy queries leave the CPU to HTTP, /healthz and ingest acknowledgements first (0: same priority; Linux)' },
  { key: 'queryTimeoutMs', flag: 'query-timeout-ms', env: 'LIVESTATS_QUERY_TIMEOUT_MS', kind: 'int', default: 10_000, min: 100, max: 600_000, help: 'a stats query not answered within this long fails with "query timed out" (ClickHouse: stopped on the server too)' },
  { key: 'ingestCommitTimeoutMs', flag: 'ingest-commit-timeout-ms', env: 'LIVESTATS_INGEST_COMMIT_TIMEOUT_MS', kind: 'int', default: 20_000, min: 100, max: 3_600_000, help: 'an ingest request the store has not committed within this long is answered 503 (store_unreachable) instead of waiting; at most 3/4 of --body-timeout-ms' },
  { key: 'startCheck', flag: 'start-check', env: 'LIVESTATS_START_CHECK', kind: 'string', default: 'quick', choices: ['quick', 'header'], help: 'how the SQLite file is checked when it opens: quick (PRAGMA quick_check, every page: about 0.4 s per GiB when cached) or header (its header and schema only)' },
  { key: 'metricsToken', flag: 'metrics-token', env: 'LIVESTATS_METRICS_TOKEN', kind: 'string', default: '', help: 'bearer token GET /metrics requires; without one, /metrics answers only when --host is loopback (else 401)' },
  { key: 'metricsMaxSeries', flag: 'metrics-max-series', env: 'LIVESTATS_METRICS_MAX_SERIES', kind: 'int', default: 1000, min: 1, max: 1_000_000, help: 'domains and carousel tasks per project with their own metric series (more fold into domain="_other")' },
  { key: 'maxDomains', flag: 'max-domains', env: 'LIVESTATS_MAX_DOMAINS', kind: 'int', default: 10_000, min: 1, max: 8_000_000, help: 'distinct play domains per project (stored ones count, across restarts); lines naming a new domain beyond this are dropped as domain_limit' },
  { key: 'maxStreams', flag: 'max-streams', env: 'LIVESTATS_MAX_STREAMS', kind: 'int', default: 200_000, min: 1, max: 30_000_000, help: 'distinct streams (domain, app, stream) per project (stored ones count); lines naming a new stream beyond this are dropped as stream_limit' },
  { key: 'maxCarouselTasks', flag: 'max-carousel-tasks', env: 'LIVESTATS_MAX_CAROUSEL_TASKS', kind: 'int', default: 1000, min: 1, max: 1_000_000, help: 'carousel tasks per project; samples for a new task beyond this are refused with LIVE.100011001' },
  { key: 'allowedHosts', flag: 'allowed-hosts', env: 'LIVESTATS_ALLOWED_HOSTS', kind: 'list', default: [], help: 'Host header names answered (repeatable; env: comma separated; * for any); a loopback --host always answers localhost, 127.x.x.x and [::1]; with none listed, a loopback --host answers only those and any other --host answers every name' },
  { key: 'maxInflightBodyBytes', flag: 'max-inflight-body-bytes', env: 'LIVESTATS_MAX_INFLIGHT_BODY_BYTES', kind: 'int', default: 256 * 1024 * 1024, min: 1024, max: 2 ** 40, help: 'request bodies held in memory at once, all requests together (gunzipped ingest bodies included), bytes, at least --max-body-bytes; a body that does not fit gets 503 LIVE.100011007 with Retry-After' },
  { key: 'originStat', flag: 'origin-stat', env: 'LIVESTATS_ORIGIN_STAT', kind: 'list', default: [], help: 'nginx-rtmp statistics page (rtmp_stat all) to poll: URL[#project=P&domain=D&name=N] (repeatable; env: comma separated; docs/origin.md)' },
  { key: 'originPollIntervalMs', flag: 'origin-poll-interval-ms', env: 'LIVESTATS_ORIGIN_POLL_INTERVAL_MS', kind: 'int', default: 10_000, min: 500, max: 3_600_000, help: 'how often each --origin-stat page is polled (sessions start and end at most this late when notifications are missed)' },
  { key: 'probeMaxStreams', flag: 'probe-max-streams', env: 'LIVESTATS_PROBE_MAX_STREAMS', kind: 'int', default: 20, min: 0, max: 10_000, help: 'live publish streams probed with ffprobe at once, all origins together (per-second fps, bitrate, GOP, timestamps; about 1.5 % of a core each, see BENCHMARKS.md); 0: no probes' },
  { key: 'probePerOrigin', flag: 'probe-per-origin', env: 'LIVESTATS_PROBE_PER_ORIGIN', kind: 'int', default: 8, min: 1, max: 10_000, help: 'live publish streams probed at once per origin (the oldest sessions first)' },
  { key: 'probeRtmpUrl', flag: 'probe-rtmp-url', env: 'LIVESTATS_PROBE_RTMP_URL', kind: 'string', default: 'rtmp://{origin}/{app}/{stream}', help: 'where a live stream is read for probing; {origin} (the origin name: by default its address), {app} and {stream} are filled in' },
  { key: 'queryCacheMs', flag: 'query-cache-ms', env: 'LIVESTATS_QUERY_CACHE_MS', kind: 'int', default: 1000, min: 0, max: 60_000, help: 'serve a repeated stats query from memory for up to this long (0 disables); new local data invalidates at once' },
];

export class ConfigError extends Error {}

/** The ClickHouse settings must be complete and well-formed before anything starts. */
function checkClickHouse(c: ServeConfig): void {
  if (c.store !== 'clickhouse') {
    if (c.clickhouseUrl || c.clickhouseCluster || c.clickhouseReplicated) throw new ConfigError('--clickhouse-url/--clickhouse-cluster/--clickhouse-replicated need --store clickhouse');
    return;
  }
  let servers: number;
  try {
    servers = parseClickHouseUrls(c.clickhouseUrl ?? '').endpoints.length;
  } catch (err) {
    throw new ConfigError(`--clickhouse-url: ${(err as Error).message}`);
  }
  if (servers > 1 && !c.clickhouseCluster) throw new ConfigError('--clickhouse-url lists several servers: name their cluster with --clickhouse-cluster');
  if (c.clickhouseCluster && !isIdent(c.clickhouseCluster)) {
    throw new ConfigError(`--clickhouse-cluster: "${c.clickhouseCluster}" is not a valid cluster name`);
  }
  if (c.clickhouseReplicated && !c.clickhouseCluster) throw new ConfigError('--clickhouse-replicated needs --clickhouse-cluster');
}

function convert(s: AnySetting, raw: string | boolean | string[], source: string): ServeConfig[keyof ServeConfig] {
  if (s.kind === 'list') {
    const items = Array.isArray(raw) ? raw : String(raw).split(',');
    return items.map((v) => v.trim()).filter((v) => v !== '');
  }
  if (Array.isArray(raw)) return convert(s, raw[raw.length - 1] ?? '', source);
  if (s.kind === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off|)$/i.test(raw)) return false;
    throw new ConfigError(`${source}: expected true or false, got "${raw}"`);
  }
  const text = String(raw);
  if (s.kind === 'int') {
    if (!/^\d+$/.test(text)) throw new ConfigError(`${source}: expected a whole number, got "${text}"`);
    const n = Number(text);
    if ((s.min !== undefined && n < s.min) || (s.max !== undefined && n > s.max)) {
      throw new ConfigError(`${source}: ${n} is outside ${s.min}..${s.max}`);
    }
    return n;
  }
  if (s.choices && !s.choices.includes(text)) {
    throw new ConfigError(`${source}: "${text}" is not one of ${s.choices.join(', ')}`);
  }
  if (text.length === 0) throw new ConfigError(`${source}: must not be empty`);
  return text;
}

/** Resolves the configuration from parsed flags and the environment. */
export function resolveServeConfig(
  flags: Record<string, string | boolean | string[] | undefined>, env: NodeJS.ProcessEnv = process.env,
): ServeConfig {
  const out: Record<string, unknown> = {};
  for (const s of SERVE_SETTINGS) {
    const flag = flags[s.flag];
    const fromEnv = env[s.env];
    if (flag !== undefined) out[s.key] = convert(s, flag, `--${s.flag}`);
    else if (fromEnv !== undefined) out[s.key] = convert(s, fromEnv, s.env);
    else out[s.key] = s.default;
  }
  const config = out as unknown as ServeConfig;
  checkClickHouse(config);
  if (config.maxInflightBodyBytes < config.maxBodyBytes) {
    throw new ConfigError(`--max-inflight-body-bytes (${config.maxInflightBodyBytes}) must be at least --max-body-bytes (${config.maxBodyBytes})`);
  }
  if (config.headersTimeoutMs > config.requestTimeoutMs) {
    throw new ConfigError(`--headers-timeout-ms (${config.headersTimeoutMs}) must not exceed --request-timeout-ms (${config.requestTimeoutMs})`);
  }
  return config;
}

/** Options for node:util parseArgs derived from the settings table. */
export function serveParseOptions(): Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> {
  const o: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const s of SERVE_SETTINGS) {
    o[s.flag] = s.kind === 'list' ? { type: 'string', multiple: true } : { type: s.kind === 'boolean' ? 'boolean' : 'string' };
  }
  return o;
}

export function serveHelp(): string {
  const lines = ['Usage: livestats serve [options]', '', 'Options (each also an environment variable):'];
  for (const s of SERVE_SETTINGS) {
    const arg = s.kind === 'boolean' ? '' : s.choices ? ` <${s.choices.join('|')}>` : ' <value>';
    lines.push(`  --${s.flag}${arg}`.padEnd(40) + `${s.help} [${s.env}, default ${JSON.stringify(s.default)}]`);
  }
  return lines.join('\n');
}
