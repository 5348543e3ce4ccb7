import { storeRejected, storeUnavailable } from '../contract/errors.js';
import { BatchRejectedError, StoreUnavailableError } from '../health/store-faults.js';
import type { AppContext } from './context.js';

/** Waits for an aggregator commit; a refusal by the store becomes the 503 answer. */
export async function refusedAs503(done: Promise<void>): Promise<void> {
  try {
    await done;
  } catch (err) {
    if (err instanceof StoreUnavailableError) throw storeUnavailable(err.reason);
    if (err instanceof BatchRejectedError) throw storeRejected();
    throw err;
  }
}

/**
 * While the store refuses writes, new data is refused at once (503) without a write attempt;
 * the aggregator's own probe notices the recovery.
 */
export function refuseWhileDegraded(ctx: AppContext): void {
  const h = ctx.health.snapshot();
  if (h.status === 'degraded') throw storeUnavailable(h.reason ?? 'store_error');
}
