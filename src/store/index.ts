import { join } from 'node:path';
import type { ServeConfig } from '../config.js';
import { ClickHouseStore } from './clickhouse/store.js';
import { SqliteStore } from './sqlite/store.js';
import type { Store } from './types.js';

/** Creates the configured store (not yet initialised). */
export function createStore(
  config: Pick<ServeConfig, 'store' | 'data' | 'clickhouseUrl' | 'clickhouseCluster'>,
): Store {
  switch (config.store) {
    case 'sqlite':
      return new SqliteStore(join(config.data, 'livestats.db'));
    case 'clickhouse':
      return new ClickHouseStore({ url: config.clickhouseUrl ?? '', cluster: config.clickhouseCluster || undefined });
  }
}
