import { join } from 'node:path';
import type { ServeConfig } from '../config.js';
import { SqliteStore } from './sqlite/store.js';
import type { Store } from './types.js';

/** Creates the configured store (not yet initialised). */
export function createStore(config: Pick<ServeConfig, 'store' | 'data'>): Store {
  switch (config.store) {
    case 'sqlite':
      return new SqliteStore(join(config.data, 'livestats.db'));
  }
}
