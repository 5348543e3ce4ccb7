import { storeInDoubt, storeRejected, storeUnavailable } from '../contract/errors.js';
import { BatchRejectedError, StoreStalledError, StoreUnavailableError } from '../health/store-faults.js';
import { beforeDeadline, deadlineIn, type Deadline } from '../ingest/deadline.js';
import type { ProjectNames } from '../ingest/name-limits.js';
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

/** The deadline of an ingest request that waits for the store (see IngestSettings.commitTimeoutMs). */
export const commitDeadline = (ctx: AppContext): Deadline => deadlineIn(ctx.ingest.commitTimeoutMs);

/**
 * Waits for an aggregator commit (`done`, from commit()) until the request's deadline, so that the
 * client always gets an answer before its connection's idle timeout. A refusal is the 503 answer.
 * When the store has not answered by the deadline, the store is reported unreachable and the data
 * is withdrawn if it was not sent yet (503: nothing counted, ever); when its write is under way
 * (a ClickHouse insert may still land) the 503 says it may still be counted, and that a retry with
 * the same X-Batch-Id is safe (the id stays taken until the write settles); for samples, that any
 * retry is safe.
 */
export async function committedBy(ctx: AppContext, done: Promise<void>, deadline: Deadline, what: 'batch' | 'samples' = 'batch'): Promise<void> {
  try {
    await refusedAs503(beforeDeadline(done, deadline, 'the write'));
  } catch (err) {
    if (!(err instanceof StoreStalledError) || !ctx.aggregator) throw err;
    const outcome = ctx.aggregator.abandon(done, err);
    if (outcome === 'settled') return refusedAs503(done);
    if (outcome === 'in_doubt') throw storeInDoubt(what);
    throw storeUnavailable('store_unreachable');
  }
}

/**
 * A retry of an X-Batch-Id whose first attempt is being committed shares its outcome, until the
 * deadline: then 503, saying a retry with the same id is safe (the first attempt's own request
 * withdraws it or reports it in doubt).
 */
export async function pendingBy(pending: Promise<void>, deadline: Deadline): Promise<void> {
  try {
    await refusedAs503(beforeDeadline(pending, deadline, 'the first attempt of this X-Batch-Id'));
  } catch (err) {
    if (err instanceof StoreStalledError) throw storeInDoubt();
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

/**
 * The project's name gate (its stored names are read from the store on its first use in this
 * process), within the request's deadline. A store that fails or stalls that read is reported
 * unhealthy, like a failed X-Batch-Id check, and the request gets the 503: nothing was counted.
 */
export async function namesBy(ctx: AppContext, project: string, deadline: Deadline): Promise<ProjectNames | undefined> {
  if (!ctx.names) return undefined;
  try {
    return await beforeDeadline(ctx.names.gate(project), deadline, 'reading the project\'s stored names');
  } catch (err) {
    throw storeUnavailable(ctx.health.readFailed(err));
  }
}
