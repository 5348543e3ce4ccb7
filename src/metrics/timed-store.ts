import type { Store } from '../store/types.js';
import type { StoreMetrics } from './store.js';

/**
 * Store methods that are not reads: lifecycle, writes, deletes and buffer hand-back. They pass
 * through untimed. Anything else the inner store has is a read, timed under its own name.
 */
const NOT_READS = new Set<PropertyKey>(['init', 'close', 'getMeta', 'releaseBody']);
const NOT_READ_PREFIX = /^(write|set|delete|release)/;

/** Reads timed as the query they answer (the rendered-body forms of the typed reads). */
const TIMED_AS: Readonly<Record<string, string>> = { httpCodesBody: 'queryHttpCodes', carouselBody: 'querySamples' };

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';

const isRead = (name: PropertyKey): name is string =>
  typeof name === 'string' && !NOT_READS.has(name) && !NOT_READ_PREFIX.test(name);

/**
 * The store seen through livestats_store_query_duration_seconds: a Proxy, not a hand-written
 * forwarder, so every method the inner store has (one added tomorrow included) is there with all
 * its arguments (the client-gone signal in a read's options reaches the store), and a method the
 * inner store lacks is absent here too (the routes test for the optional ones). Every read is timed.
 */
export function timedStore(inner: Store, metrics: StoreMetrics): Store {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(inner, {
    get(target, name) {
      const value: unknown = Reflect.get(target, name, target);
      if (typeof value !== 'function') return value;
      let fn = wrapped.get(name);
      if (fn === undefined) {
        const method = value as (...args: unknown[]) => unknown;
        const operation = TIMED_AS[name as string] ?? (name as string);
        // Timed when it answers with a promise; a synchronous method (initNow, bulk...) stays synchronous,
        // its value returned and its throw thrown as the store gives them.
        fn = isRead(name)
          ? (...args: unknown[]): unknown => {
            const started = performance.now();
            const result: unknown = method.apply(target, args);
            return isThenable(result) ? metrics.since(operation, started, result) : result;
          }
          : (...args: unknown[]): unknown => method.apply(target, args);
        wrapped.set(name, fn);
      }
      return fn;
    },
  });
}
