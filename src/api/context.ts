import type { StoreHealth } from '../health/store-health.js';
import type { Aggregator } from '../ingest/aggregator.js';
import type { Metrics } from '../metrics/registry.js';
import type { NameLimits } from '../ingest/name-limits.js';
import type { Store } from '../store/types.js';
import type { Authenticate } from './auth.js';
import type { BodyBudget } from './body-gate.js';
import type { BatchLedger } from '../ingest/batch-ids.js';
import type { ResponseCache } from './cache.js';
import type { QuerySlots } from './query-slots.js';

/** Settings of the HTTP log intake. */
export interface IngestSettings {
  retentionDays: number;
  geoOverridesFile?: string;
  /** Largest body, bytes, before and after gunzip. */
  maxBodyBytes: number;
  /**
   * How long an ingest request waits for the store (X-Batch-Id check and commit) before it is
   * answered 503 (--ingest-commit-timeout-ms, at most 3/4 of --body-timeout-ms so the answer
   * always comes before the connection's idle timeout).
   */
  commitTimeoutMs: number;
}

/** What route plugins get from the app: the store, the aggregator, a clock and the auth hook. */
export interface AppContext {
  store: Store;
  aggregator: Aggregator | undefined;
  now: () => number;
  authenticate: Authenticate;
  ingest: IngestSettings;
  cache: ResponseCache;
  /** Whether the store accepts writes (the aggregator's, or a fresh one without aggregator). */
  health: StoreHealth;
  /** Stats queries' slots (LIVE.100011007 beyond them). */
  slots: QuerySlots;
  /** X-Batch-Id values of HTTP log batches claimed but not yet committed. */
  batches: BatchLedger;
  /** Request bodies held in memory at once (--max-inflight-body-bytes). */
  bodies: BodyBudget;
  /** Where ingest routes report lines and replays (absent: not measured). */
  metrics?: Metrics;
  /** How far back the traffic cube keeps data, ms (the traffic endpoints' look-back is at most this). */
  trafficStoredMs: number;
  /** The per-project name caps (absent: none). */
  names?: NameLimits;
}
