import { Gauge, Histogram, type Registry } from 'prom-client';
import type { StoreHealth } from '../health/store-health.js';
import type { Store } from '../store/types.js';

export const QUERY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** A scrape never waits longer than this for the store's answer to its health probe. */
export const PROBE_TIMEOUT_MS = 2000;
const PROBE_KEY = 'livestats.metrics.probe';

/** A store read's name (the Store method, or the typed read a rendered-body read answers; see timed-store.ts). */
export type QueryOperation = string;

/**
 * Store query times, and whether the store is up: it answers a read (probed at every scrape) and,
 * when `health` is given, accepts writes (the same truth as /healthz).
 */
export class StoreMetrics {
  private readonly queries: Histogram<'operation' | 'outcome'>;

  constructor(registry: Registry, private readonly store: Store, private readonly health?: StoreHealth) {
    this.queries = new Histogram({
      name: 'livestats_store_query_duration_seconds',
      help: 'Time of one store read, by operation and outcome (ok, failed)',
      labelNames: ['operation', 'outcome'],
      buckets: QUERY_BUCKETS,
      registers: [registry],
    });
    const probe = (): Promise<number> => this.probe();
    new Gauge({
      name: 'livestats_store_up',
      help: `1 when the store answered a read during this scrape (within ${PROBE_TIMEOUT_MS} ms) and accepts writes (/healthz ok), else 0`,
      labelNames: ['store'],
      registers: [registry],
      async collect(this: Gauge<'store'>) {
        this.set({ store: store.kind }, await probe());
      },
    });
  }

  /** Runs a store read and records its duration. */
  time<T>(operation: QueryOperation, run: () => Promise<T>): Promise<T> {
    return this.since(operation, performance.now(), new Promise<T>((resolve) => resolve(run())));
  }

  /** Records the duration of a read begun at `started` (performance.now()) once `result` settles. */
  async since<T>(operation: QueryOperation, started: number, result: PromiseLike<T>): Promise<T> {
    let outcome = 'failed';
    try {
      const r = await result;
      outcome = 'ok';
      return r;
    } finally {
      this.queries.observe({ operation, outcome }, (performance.now() - started) / 1000);
    }
  }

  private async probe(): Promise<number> {
    if (this.health && !this.health.ok) return 0;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<number>((resolve) => {
      timer = setTimeout(() => resolve(0), PROBE_TIMEOUT_MS);
    });
    try {
      return await Promise.race([this.store.getMeta(PROBE_KEY).then(() => 1, () => 0), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
