import type { StoreHealth } from '../health/store-health.js';
import type { Store } from '../store/types.js';
import type { Aggregator } from './aggregator.js';
import { beforeDeadline, type Deadline } from './deadline.js';

export const BATCH_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const batchKey = (project: string, id: string): string => `batch:${project}:${id}`;

export type Claim =
  | { state: 'new' }
  /** Another request with this id is being committed: `done` settles with its outcome. */
  | { state: 'pending'; done: Promise<void> }
  | { state: 'committed' };

interface Reservation {
  done: Promise<void>;
  follow(outcome: Promise<void>): void;
}

function reservation(): Reservation {
  let follow: (outcome: Promise<void>) => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    follow = (outcome) => outcome.then(resolve, reject);
  });
  done.catch(() => undefined);
  return { done, follow };
}

/**
 * Which X-Batch-Id values were already taken: ids handed to the aggregator but not yet
 * committed (kept in memory with the outcome of their commit), and ids in the store's
 * checkpoints, which commit in the same batch as the counts they cover.
 *
 * An in-memory mark is dropped exactly when the batch carrying its checkpoint is written or
 * refused by the store, however the request that claimed it ended (answered, client gone), or
 * by `release` when its counts were never fed. A refused batch frees its id: the retry is
 * counted; a retry between claim and commit shares the first attempt's outcome.
 */
export class BatchLedger {
  private readonly pending = new Map<string, Reservation>();
  private readonly health: StoreHealth | undefined;

  constructor(private readonly store: Store, aggregator?: Aggregator) {
    this.health = aggregator?.health;
    aggregator?.onWritten((_projects, keys) => {
      for (const k of keys) this.pending.delete(k);
    });
  }

  /** Ids claimed and not yet committed. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Reserves the key (synchronously after the store check) when it is free. The store check fails
   * (rejects, and reports the store unhealthy: a batch with an id cannot be accepted without it)
   * when the store fails it or has not answered by the time `deadline` aborts; nothing is reserved
   * then, even if the store answers later.
   */
  async claim(key: string, deadline?: Deadline): Promise<Claim> {
    const before = this.pending.get(key);
    if (before) return { state: 'pending', done: before.done };
    let committed: string | undefined;
    try {
      committed = await beforeDeadline(this.store.getCheckpoint(key), deadline, 'the X-Batch-Id check');
    } catch (err) {
      this.health?.readFailed(err);
      throw err;
    }
    if (committed !== undefined) return { state: 'committed' };
    const now = this.pending.get(key);
    if (now) return { state: 'pending', done: now.done };
    this.pending.set(key, reservation());
    return { state: 'new' };
  }

  /** The outcome of a 'new' claim's commit: committed or refused, the id is free in memory again. */
  track(key: string, outcome: Promise<void>): void {
    const r = this.pending.get(key);
    if (!r) return;
    r.follow(outcome);
    const forget = (): void => {
      if (this.pending.get(key) === r) this.pending.delete(key);
    };
    outcome.then(forget, forget);
  }

  /** The key's counts were never handed to the aggregator: free the id for a retry. */
  release(key: string): void {
    this.pending.get(key)?.follow(Promise.reject(new Error(`batch ${key} was not fed`)));
    this.pending.delete(key);
  }
}
