import { StoreStalledError } from '../health/store-faults.js';

/** How long an ingest request may wait for the store: `signal` aborts `ms` after it was made. */
export interface Deadline {
  readonly signal: AbortSignal;
  readonly ms: number;
}

export const deadlineIn = (ms: number): Deadline => ({ signal: AbortSignal.timeout(ms), ms });

/**
 * `p`'s outcome, or a StoreStalledError naming `what` once the deadline passes first (`p` goes
 * on; its outcome is then ignored here).
 */
export function beforeDeadline<T>(p: Promise<T>, deadline: Deadline | undefined, what: string): Promise<T> {
  if (!deadline) return p;
  const { signal } = deadline;
  const stalled = (): StoreStalledError => new StoreStalledError(what, deadline.ms);
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(stalled());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(stalled());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then((v) => {
      signal.removeEventListener('abort', onAbort);
      resolve(v);
    }, (err: unknown) => {
      signal.removeEventListener('abort', onAbort);
      reject(err);
    });
  });
}
