import type { Aggregator } from '../ingest/aggregator.js';
import type { Store } from '../store/types.js';
import type { Authenticate } from './auth.js';
import type { ResponseCache } from './cache.js';

/** Settings of the HTTP log intake. */
export interface IngestSettings {
  retentionDays: number;
  geoOverridesFile?: string;
  /** Largest body, bytes, before and after gunzip. */
  maxBodyBytes: number;
}

/** What route plugins get from the app: the store, the aggregator, a clock and the auth hook. */
export interface AppContext {
  store: Store;
  aggregator: Aggregator | undefined;
  now: () => number;
  authenticate: Authenticate;
  ingest: IngestSettings;
  cache: ResponseCache;
  /** How far back the traffic cube keeps data, ms (the traffic endpoints' look-back is at most this). */
  trafficStoredMs: number;
}
