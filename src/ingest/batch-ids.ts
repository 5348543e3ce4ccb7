import type { Store } from '../store/types.js';

const ID = /^[A-Za-z0-9._:-]{1,128}$/;
export const isBatchId = (s: string): boolean => ID.test(s);
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
 * Which X-Batch-Id values were already taken: ids handed to the aggregator but not yet known
 * committed (kept in memory with the outcome of their commit), and ids in the store's
 * checkpoints, which commit in the same transaction as the batch's counts. A refused batch
 * frees its id: the retry is counted.
 */
export class BatchLedger {
  private readonly pending = new Map<string, Reservation>();

  constructor(private readonly store: Store) {}

  /** Reserves the key (synchronously after the store check) when it is free. */
  async claim(key: string): Promise<Claim> {
    const before = this.pending.get(key);
    if (before) return { state: 'pending', done: before.done };
    const committed = await this.store.getCheckpoint(key);
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
}
