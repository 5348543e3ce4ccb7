import type { Store } from '../store/types.js';
import type { Aggregator } from './aggregator.js';

const ID = /^[A-Za-z0-9._:-]{1,128}$/;
export const isBatchId = (s: string): boolean => ID.test(s);
export const batchKey = (project: string, id: string): string => `batch:${project}:${id}`;

/**
 * Which X-Batch-Id values were already taken: ids handed to the aggregator but not yet
 * committed (kept in memory), and ids in the store's checkpoints, which commit in the same
 * batch as the counts they cover.
 *
 * An in-memory mark is dropped exactly when the aggregator has written the batch carrying its
 * checkpoint, however the request that claimed it ended (answered, client gone, commit failed
 * and retried later by the aggregator), or by `release` when its counts were never fed. So no
 * mark outlives its batch, and a retry between claim and commit never counts twice.
 */
export class BatchLedger {
  private readonly pending = new Set<string>();

  constructor(private readonly store: Store, aggregator?: Aggregator) {
    aggregator?.onWritten((_projects, keys) => {
      for (const k of keys) this.pending.delete(k);
    });
  }

  /** Ids claimed and not yet committed. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * 'committed' or 'pending' when the key is taken; otherwise reserves it (synchronously after
   * the store check) and answers 'new'.
   */
  async claim(key: string): Promise<'new' | 'pending' | 'committed'> {
    if (this.pending.has(key)) return 'pending';
    const committed = await this.store.getCheckpoint(key);
    if (committed !== undefined) return 'committed';
    if (this.pending.has(key)) return 'pending';
    this.pending.add(key);
    return 'new';
  }

  /** The key's counts were never handed to the aggregator: free the id for a retry. */
  release(key: string): void {
    this.pending.delete(key);
  }
}
