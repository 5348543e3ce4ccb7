/**
 * Every setting of `livestats serve` in one place: typed default, environment variable,
 * command-line flag and help text. Flags win over environment variables, which win over defaults.
 */
export interface ServeConfig {
  host: string;
  port: number;
  data: string;
  store: 'sqlite';
  demo: boolean;
  logLevel: string;
  flushIntervalMs: number;
  maxConcurrentQueries: number;
  queryCacheMs: number;
  /** JSON file of carousel tasks to run inside the server ('' or absent: none). */
  carousel?: string;
}

interface Setting<K extends keyof ServeConfig> {
  key: K;
  flag: string;
  env: string;
  kind: 'string' | 'int' | 'boolean';
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
  { key: 'store', flag: 'store', env: 'LIVESTATS_STORE', kind: 'string', default: 'sqlite', choices: ['sqlite'], help: 'storage backend' },
  { key: 'demo', flag: 'demo', env: 'LIVESTATS_DEMO', kind: 'boolean', default: false, help: 'generate demo traffic for project "demo" (24 h backfill, then live)' },
  { key: 'logLevel', flag: 'log-level', env: 'LIVESTATS_LOG_LEVEL', kind: 'string', default: 'info', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], help: 'log level' },
  { key: 'flushIntervalMs', flag: 'flush-interval-ms', env: 'LIVESTATS_FLUSH_INTERVAL_MS', kind: 'int', default: 1000, min: 10, max: 60_000, help: 'how often the aggregator writes to the store' },
  { key: 'carousel', flag: 'carousel', env: 'LIVESTATS_CAROUSEL', kind: 'string', default: '', help: 'JSON file of carousel tasks to play and probe inside the server (docs/carousel.md)' },
  { key: 'maxConcurrentQueries', flag: 'max-concurrent-queries', env: 'LIVESTATS_MAX_CONCURRENT_QUERIES', kind: 'int', default: 64, min: 1, max: 100_000, help: 'stats queries in flight before LIVE.100011007' },
  { key: 'queryCacheMs', flag: 'query-cache-ms', env: 'LIVESTATS_QUERY_CACHE_MS', kind: 'int', default: 1000, min: 0, max: 60_000, help: 'serve a repeated stats query from memory for up to this long (0 disables); new local data invalidates at once' },
];

export class ConfigError extends Error {}

function convert(s: AnySetting, raw: string | boolean, source: string): ServeConfig[keyof ServeConfig] {
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
  flags: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv = process.env,
): ServeConfig {
  const out: Record<string, unknown> = {};
  for (const s of SERVE_SETTINGS) {
    const flag = flags[s.flag];
    const fromEnv = env[s.env];
    if (flag !== undefined) out[s.key] = convert(s, flag, `--${s.flag}`);
    else if (fromEnv !== undefined) out[s.key] = convert(s, fromEnv, s.env);
    else out[s.key] = s.default;
  }
  return out as unknown as ServeConfig;
}

/** Options for node:util parseArgs derived from the settings table. */
export function serveParseOptions(): Record<string, { type: 'string' | 'boolean' }> {
  const o: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const s of SERVE_SETTINGS) o[s.flag] = { type: s.kind === 'boolean' ? 'boolean' : 'string' };
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
