import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ChEndpoint, num } from '../../src/store/clickhouse/client.js';
import { ClickHouseStore } from '../../src/store/clickhouse/store.js';
import { ident, quote } from '../../src/store/clickhouse/sql.js';
import { parseClickHouseUrls } from '../../src/store/clickhouse/url.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import type { Store } from '../../src/store/types.js';
import { startClickHouse, type ClickHouseServer } from '../../test/harness/clickhouse.js';

/** Where the query benchmark keeps its dataset, per `--store`. */
export interface BenchTarget {
  /** The `--data` directory of the served processes (credentials; the SQLite file too). */
  dataDir: string;
  /** Whether a previous dataset may exist (then its meta is checked for reuse). */
  mayExist(): boolean;
  open(): Store;
  /** Removes any previous dataset. */
  reset(): Promise<void>;
  /** Extra `livestats serve` flags that select this store and its data. */
  serveFlags: string[];
  bytesOnDisk(): Promise<number>;
  close(): Promise<void>;
}

const du = (dir: string): number => Number(execFileSync('du', ['-sb', dir]).toString().split('\t')[0]);

function sqliteTarget(dir: string): BenchTarget {
  const file = join(dir, 'livestats.db');
  return {
    dataDir: dir,
    mayExist: () => existsSync(file),
    open: () => new SqliteStore(file),
    async reset() {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
    },
    serveFlags: ['--data', dir],
    bytesOnDisk: async () => du(dir),
    close: async () => {},
  };
}

/**
 * ClickHouse: the server(s) in LIVESTATS_CLICKHOUSE_URL (kept between runs, so a dataset can
 * be reused), or else a temporary clickhouse-server started for this run.
 */
async function clickhouseTarget(dir: string, database: string): Promise<BenchTarget> {
  let temp: ClickHouseServer | undefined;
  const given = process.env.LIVESTATS_CLICKHOUSE_URL;
  const url = given
    ? given.split(',').map((u) => Object.assign(new URL(u.trim()), { pathname: `/${database}` }).toString()).join(',')
    : (temp = await startClickHouse()).url(database);
  const first = parseClickHouseUrls(url).endpoints[0];
  if (!first) throw new Error('no ClickHouse URL');
  const admin = new ChEndpoint(first);
  mkdirSync(dir, { recursive: true });
  return {
    dataDir: dir,
    mayExist: () => true,
    open: () => new ClickHouseStore({ url }),
    reset: () => admin.exec(`DROP DATABASE IF EXISTS ${ident(database)}`),
    serveFlags: ['--data', dir, '--clickhouse-url', url],
    async bytesOnDisk() {
      const rows = await admin.rows(`SELECT sum(bytes_on_disk) AS b FROM system.parts WHERE database = ${quote(database)} AND active`);
      return num(rows[0]?.b);
    },
    async close() {
      await admin.close();
      await temp?.destroy();
    },
  };
}

export async function benchTarget(store: string, dir: string, database: string): Promise<BenchTarget> {
  if (store === 'sqlite') return sqliteTarget(dir);
  if (store === 'clickhouse') return clickhouseTarget(dir, database);
  throw new Error(`--store must be sqlite or clickhouse, got ${store}`);
}
