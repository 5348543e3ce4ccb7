import { tooManyRequests } from '../contract/errors.js';

/**
 * Admission of stats queries: at most `limit` hold a slot at once; up to `maxWaiting` more wait,
 * oldest first, at most `waitMs` for one; anything beyond that is LIVE.100011007.
 *
 * What keeps a slot from leaking:
 * - `acquire(signal)` resolves with a Slot, or rejects: with `tooManyRequests()` when every slot
 *   and every waiting place is taken or the wait timed out; with `signal.reason` when the signal
 *   aborts first. An aborted waiter leaves the queue at once and is never handed a slot, so the
 *   capacity goes to the next live waiter.
 * - `Slot.release()` frees the slot on its first call and does nothing on later calls, so
 *   every way a request can end may call it (see query-admission.ts, which ties it to the
 *   response's 'close' event).
 *
 * The same signal reaches the store (`QueryOptions.signal`), which stops the work for a client
 * that has gone: ClickHouse aborts its HTTP request (and kills the query), SQLite drops the
 * result. A worker-pool read (storage v2) honours it the same way: it does not start a job whose
 * signal has already aborted, and when the signal aborts while the job runs it rejects with
 * `signal.reason` and drops the result when it arrives. The slot belongs to the request, never to
 * the worker: the pool bounds its own threads and must not release or keep query slots.
 */
export interface Slot {
  release(): void;
}

export interface QuerySlotsOptions {
  limit: number;
  /** How long a query may wait for a slot (0: refuse at once when all are taken). */
  waitMs: number;
  /** Queries allowed to wait at once (default: `limit`). */
  maxWaiting?: number;
}

interface Waiter {
  grant: (slot: Slot) => void;
  fail: (err: unknown) => void;
}

export class QuerySlots {
  private held = 0;
  private readonly waiters = new Set<Waiter>();
  private readonly limit: number;
  private readonly waitMs: number;
  private readonly maxWaiting: number;

  constructor(o: QuerySlotsOptions) {
    this.limit = o.limit;
    this.waitMs = o.waitMs;
    this.maxWaiting = o.waitMs > 0 ? (o.maxWaiting ?? o.limit) : 0;
  }

  /** Slots currently held. */
  get inFlight(): number {
    return this.held;
  }

  /** Queries currently waiting for a slot. */
  get waiting(): number {
    return this.waiters.size;
  }

  /** A slot when one is free at once (nobody waits and the limit is not reached), else undefined. */
  tryAcquire(): Slot | undefined {
    if (this.held >= this.limit) return undefined;
    this.held++;
    return this.slot();
  }

  acquire(signal: AbortSignal): Promise<Slot> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.held < this.limit) {
      this.held++;
      return Promise.resolve(this.slot());
    }
    if (this.waiters.size >= this.maxWaiting) return Promise.reject(tooManyRequests());
    return new Promise<Slot>((resolve, reject) => {
      const leave = (): void => {
        this.waiters.delete(waiter);
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        leave();
        reject(signal.reason);
      };
      const waiter: Waiter = {
        grant: (slot) => {
          leave();
          resolve(slot);
        },
        fail: (err) => {
          leave();
          reject(err);
        },
      };
      const timer = setTimeout(() => waiter.fail(tooManyRequests()), this.waitMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
    });
  }

  private slot(): Slot {
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        // Hand the slot straight to the oldest waiter (the count stays), or free it.
        const next = this.waiters.values().next();
        if (next.done) this.held--;
        else next.value.grant(this.slot());
      },
    };
  }
}
