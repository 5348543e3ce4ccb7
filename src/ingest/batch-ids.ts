import type { Store } from '../store/types.js';

export const BATCH_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const batchKey = (project: string, id: string): string => `batch:${project}:${id}`;

/**
 * Which X-Batch-Id values were already taken: ids handed to the aggregator but not yet known
 * committed (kept in memory until a flush succeeds), and ids in the store's checkpoints,
 * which commit in the same transaction as the batch's counts.
 */
export class BatchLedger {
  private readonly pending = new Set<string>();

  constructor(private readonly store: Store) {}

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

  /** The key's counts are committed (or were never fed): forget the in-memory mark. */
  settle(key: string): void {
    this.pending.delete(key);
  }
}
