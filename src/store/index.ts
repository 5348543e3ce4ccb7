import { join } from 'node:path';
import type { ServeConfig } from '../config.js';
import { ClickHouseStore } from './clickhouse/store.js';
import { ReadPool } from './sqlite/read-pool.js';
import { SqliteStore } from './sqlite/store.js';
import type { StartCheck } from './sqlite/open-check.js';
import { WriteThread } from './sqlite/write-thread.js';
import type { Store } from './types.js';

/** Creates the configured store (not yet initialised). */
export function createStore(
  config: Pick<ServeConfig, 'store' | 'data' | 'clickhouseUrl' | 'clickhouseCluster'> &
    Partial<Pick<ServeConfig, 'clickhouseReplicated' | 'clickhouseInsertQuorum' | 'clickhouseReadsYield' | 'clickhouseHourBlocksMib' | 'clickhouseHourClosedAfterMs'
      | 'clickhouseHourBlockMaxAgeMs' | 'clickhouseHourBlockSqlRuns' | 'clickhouseHourBlockWorkers' | 'queryThreads' | 'queryThreadNice' | 'queryTimeoutMs' | 'startCheck'>>,
  /** Batch writes in a thread of their own (the server: its event loop never runs a write transaction). */
  options: { writeThread?: boolean; startCheck?: StartCheck } = {},
): Store {
  switch (config.store) {
    case 'sqlite': {
      const startCheck = options.startCheck ?? config.startCheck;
      // Reads run in worker threads (compiled builds; from TypeScript sources they run inline).
      return new SqliteStore(join(config.data, 'livestats.db'), import.meta.url.endsWith('.js') ? {
        reader: (file) => new ReadPool(file, { size: config.queryThreads, timeoutMs: config.queryTimeoutMs, ...(config.queryThreadNice !== undefined ? { nice: config.queryThreadNice } : {}) }),
        ...(options.writeThread ? { writer: (file: string) => new WriteThread(file) } : {}),
        ...(startCheck ? { startCheck } : {}),
      } : startCheck ? { startCheck } : {});
    }
    case 'clickhouse':
      return new ClickHouseStore({
        url: config.clickhouseUrl ?? '', cluster: config.clickhouseCluster || undefined, queryTimeoutMs: config.queryTimeoutMs,
        ...(config.queryThreadNice !== undefined ? { queryThreadNice: config.queryThreadNice } : {}),
        ...(config.clickhouseReadsYield !== 'off' ? { readsYield: true } : {}),
        ...(config.clickhouseReplicated ? { replicated: true, insertQuorum: config.clickhouseInsertQuorum } : {}),
        hourBlocks: config.clickhouseHourBlocksMib === 0 ? false : {
          ...(config.clickhouseHourBlocksMib !== undefined ? { budgetBytes: config.clickhouseHourBlocksMib * 2 ** 20 } : {}),
          ...(config.clickhouseHourClosedAfterMs !== undefined ? { closedAfterMs: config.clickhouseHourClosedAfterMs } : {}),
          ...(config.clickhouseHourBlockMaxAgeMs !== undefined ? { maxAgeMs: config.clickhouseHourBlockMaxAgeMs } : {}),
          ...(config.clickhouseHourBlockSqlRuns !== undefined ? { maxSqlRuns: config.clickhouseHourBlockSqlRuns } : {}),
          ...(config.clickhouseHourBlockWorkers !== undefined ? { workers: config.clickhouseHourBlockWorkers } : {}),
        },
      });
  }
}
