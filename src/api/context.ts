import type { Aggregator } from '../ingest/aggregator.js';
import type { Store } from '../store/types.js';
import type { Authenticate } from './auth.js';
import type { ResponseCache } from './cache.js';

/** What route plugins get from the app: the store, the aggregator, a clock and the auth hook. */
export interface AppContext {
  store: Store;
  aggregator: Aggregator | undefined;
  now: () => number;
  authenticate: Authenticate;
  cache: ResponseCache;
}
