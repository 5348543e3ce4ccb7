import type { Store } from '../store/types.js';

/** Why the store refuses writes, as reported by /healthz and in the logs. */
export type FaultReason = 'disk_full' | 'store_busy' | 'store_unreachable' | 'store_error';

const NOT_APPLIED = 'livestatsNotApplied';

interface CodedError {
  code?: unknown;
  errno?: unknown;
  message?: unknown;
  cause?: unknown;
  [NOT_APPLIED]?: boolean;
}

/** The error and its causes, outermost first (libraries wrap socket errors). */
function chain(err: unknown): CodedError[] {
  const out: CodedError[] = [];
  let e: unknown = err;
  while (e !== null && typeof e === 'object' && out.length < 5) {
    out.push(e as CodedError);
    e = (e as CodedError).cause;
  }
  return out;
}

const codesOf = (err: unknown): string[] =>
  chain(err).flatMap((e) => [e.code, e.errno].filter((c): c is string => typeof c === 'string'));

const CONNECTION = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE|UND_ERR_\w+)$/;

/** Names the fault behind a failed store call: disk full, lock contention, unreachable server or other. */
export function classifyStoreError(err: unknown): FaultReason {
  const codes = codesOf(err);
  const text = chain(err).map((e) => String(e.message ?? '')).join(' ');
  if (codes.some((c) => c === 'SQLITE_FULL' || c === 'ENOSPC') || /database or disk is full|no space left/i.test(text)) return 'disk_full';
  if (codes.some((c) => /^SQLITE_(BUSY|LOCKED)/.test(c)) || /database is locked/i.test(text)) return 'store_busy';
  if (codes.some((c) => CONNECTION.test(c)) || /socket hang up|timeout|timed out|connect/i.test(text)) return 'store_unreachable';
  return 'store_error';
}

/** True when the connection was never made, so the request cannot have reached the server. */
export function neverConnected(err: unknown): boolean {
  return codesOf(err).some((c) => c === 'ECONNREFUSED' || c === 'ENOTFOUND' || c === 'EAI_AGAIN' || c === 'EHOSTUNREACH');
}

/** Marks a failed write as certainly not applied (a store that knows sets this). */
export function markNotApplied<E>(err: E): E {
  if (err !== null && typeof err === 'object') (err as CodedError)[NOT_APPLIED] = true;
  return err;
}

/**
 * Whether a failed `store.write` may have left part of the batch stored. SQLite applies a
 * batch in one transaction, so a failure stored nothing; other stores say so by marking
 * the error (see markNotApplied), and are otherwise "maybe" (ClickHouse has no
 * transactions: an insert may have landed before the failure).
 */
export function failedWriteApplied(store: Store, err: unknown): 'none' | 'maybe' {
  if (store.kind === 'sqlite') return 'none';
  return chain(err).some((e) => e[NOT_APPLIED] === true) ? 'none' : 'maybe';
}

/** A store call that did not answer within the time its caller could wait (a stalled server). */
export class StoreStalledError extends Error {
  override readonly name = 'StoreStalledError';
  readonly code = 'ETIMEDOUT';
  constructor(what: string, ms: number) {
    super(`${what} not answered by the store within ${ms} ms`);
  }
}

/** Thrown to a writer whose data the store refused: none of it was, or will be, stored. */
export class StoreUnavailableError extends Error {
  constructor(readonly reason: FaultReason, override readonly cause: unknown) {
    super(`store unavailable (${reason}): ${String((cause as Error)?.message ?? cause)}`);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * Thrown to a writer whose data the store rejected for the data itself, not because it is down: the
 * write failed while a write of nothing but a checkpoint succeeded right after it. The rest of the
 * flush (other projects) was written; this part is dropped, never stored, and retrying it unchanged
 * fails again. Not a store outage: /healthz stays ok.
 */
export class BatchRejectedError extends Error {
  readonly reason = 'rejected';
  constructor(override readonly cause: unknown) {
    super(`data rejected by the store: ${String((cause as Error)?.message ?? cause)}`);
    this.name = 'BatchRejectedError';
  }
}

/** Faults that say the store itself is down, whatever the data: a write of other data would fail too. */
export const isOutage = (reason: FaultReason): boolean => reason !== 'store_error';
