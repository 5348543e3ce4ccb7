import { isIdent } from './sql.js';

export interface Endpoint {
  /** Origin only, e.g. http://127.0.0.1:8123 (credentials kept apart so they never reach logs). */
  url: string;
  username: string;
  password: string;
}

export interface ClickHouseTarget {
  endpoints: Endpoint[];
  database: string;
}

export class ClickHouseUrlError extends Error {}

export const DEFAULT_DATABASE = 'livestats';

/**
 * Parses `--clickhouse-url`: one `http[s]://user:pass@host:port/db` URL, or several separated
 * by commas (every shard server in cluster mode). All must name the same database.
 */
export function parseClickHouseUrls(raw: string): ClickHouseTarget {
  const parts = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (parts.length === 0) throw new ClickHouseUrlError('a ClickHouse URL is required with --store clickhouse');
  const endpoints: Endpoint[] = [];
  let database: string | undefined;
  for (const part of parts) {
    let u: URL;
    try {
      u = new URL(part);
    } catch {
      throw new ClickHouseUrlError(`not a URL: ${redact(part)}`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new ClickHouseUrlError(`ClickHouse URL must be http:// or https://, got ${u.protocol}`);
    }
    if (u.search || u.hash) throw new ClickHouseUrlError('ClickHouse URL must not have a query or fragment');
    const path = u.pathname.replace(/^\/+|\/+$/g, '');
    const db = path === '' ? DEFAULT_DATABASE : decodeURIComponent(path);
    if (!isIdent(db)) throw new ClickHouseUrlError(`invalid ClickHouse database name: ${JSON.stringify(db)}`);
    if (database !== undefined && database !== db) {
      throw new ClickHouseUrlError(`all ClickHouse URLs must name the same database (${database} vs ${db})`);
    }
    database = db;
    endpoints.push({
      url: u.origin,
      username: u.username === '' ? 'default' : decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
    });
  }
  return { endpoints, database: database ?? DEFAULT_DATABASE };
}

/** The URL with any password replaced, for messages. */
export function redact(raw: string): string {
  return raw.replace(/\/\/([^/@:]*):[^/@]*@/g, '//$1:***@');
}
