/**
 * The one error registry: every error livestats answers with, its HTTP status,
 * its stable provider error code and a message that never leaks internals.
 */
export interface ErrorBody {
  error_code: string;
  error_msg: string;
}

export const ErrorCodes = {
  invalidParameter: { status: 400, code: 'LIVE.100011001' },
  methodNotAllowed: { status: 400, code: 'LIVE.100011011' },
  authFailed: { status: 401, code: 'LIVE.100011002' },
  projectMismatch: { status: 401, code: 'LIVE.100011015' },
  notFound: { status: 404, code: 'LIVE.103011019' },
  apiNotFound: { status: 404, code: 'APIGW.0101' },
  payloadTooLarge: { status: 413, code: 'LIVE.100011001' },
  requestTimeout: { status: 408, code: 'LIVE.100011001' },
  internal: { status: 500, code: 'LIVE.100011005' },
  tooManyRequests: { status: 500, code: 'LIVE.100011007' },
  // Not in the contract (which has no 503): the internal-error code, so clients that switch on
  // codes still see a server-side failure, with the status and Retry-After saying "try again".
  storeUnavailable: { status: 503, code: 'LIVE.100011005' },
  // Not in the contract either: the "too many concurrent requests" code with 503 and Retry-After.
  busy: { status: 503, code: 'LIVE.100011007' },
} as const;

export type ErrorKind = keyof typeof ErrorCodes;

export class ApiError extends Error {
  readonly status: number;
  readonly body: ErrorBody;
  /** Sent as Retry-After (seconds) when set. */
  retryAfterSeconds: number | undefined;
  /**
   * Why a parameter was refused, in words (never in the body: error_msg stays the contract's).
   * Written to the server log and sent in the REASON_HEADER response header.
   */
  reason: string | undefined;
  /** Which registry entry this is: two kinds can share a code (LIVE.100011007 is both a refused query and a busy 503). */
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string) {
    super(message);
    this.name = 'ApiError';
    this.kind = kind;
    const def = ErrorCodes[kind];
    this.status = def.status;
    this.body = { error_code: def.code, error_msg: message };
  }
}

/**
 * 400 `Invalid request parameter: <name>`. `reason` says why (e.g. "2026-12-01T08:00:00+08:00: an offset
 * is not accepted; ..."); it reaches the server log and the REASON_HEADER header, never the body.
 */
export const invalidParameter = (name: string, reason?: string): ApiError => {
  const e = new ApiError('invalidParameter', `Invalid request parameter: ${name}`);
  e.reason = reason;
  return e;
};

/**
 * The response header carrying an ApiError's reason. Not part of the contract; the official Huawei
 * SDKs (Node and Python) read only error_code/error_msg from the body and X-Request-Id from the
 * headers, so they ignore it: test/api-error-reasons.test.ts runs the Node SDK; the Python core's
 * DefaultExceptionHandler (huaweicloudsdkcore/exceptions/exception_handler.py) was read for the same.
 */
export const REASON_HEADER = 'X-Livestats-Error-Reason';

/** A value as quoted in a reason: JSON-escaped (so the header stays ASCII) and cut at 80 characters. */
export function quoted(value: string): string {
  const cut = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return JSON.stringify(cut).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
export const methodNotAllowed = (): ApiError =>
  new ApiError('methodNotAllowed', 'The HTTP method is not supported for this API');
export const authFailed = (): ApiError => new ApiError('authFailed', 'Authentication failed');
export const projectMismatch = (): ApiError => new ApiError('projectMismatch', 'Project id check failed');
export const resourceNotFound = (what: string): ApiError =>
  new ApiError('notFound', `The resource does not exist: ${what}`);
export const apiNotFound = (): ApiError =>
  new ApiError('apiNotFound', 'The API does not exist or has not been published in the environment');
export const payloadTooLarge = (limitBytes: number): ApiError =>
  new ApiError('payloadTooLarge', `Request body too large: the limit is ${limitBytes} bytes`);
export const requestTimeout = (): ApiError =>
  new ApiError('requestTimeout', 'Invalid request parameter: request (not received in time)');
export const internalError = (): ApiError => new ApiError('internal', 'Internal error');
export const queryTimedOut = (ms: number): ApiError =>
  new ApiError('internal', `Query timed out after ${ms} ms, retry later or narrow the query`);
/**
 * 500 (the contract's status for this code): every query slot is taken and the wait ran out. An
 * overload answer, not a fault: it carries `Retry-After: 1` and is logged at info, never as an error.
 */
export const tooManyRequests = (): ApiError => {
  const e = new ApiError('tooManyRequests', 'Too many concurrent requests, retry later');
  e.retryAfterSeconds = 1;
  return e;
};

/** 400: a new carousel task beyond the project's --max-carousel-tasks. */
export const carouselTaskLimit = (max: number): ApiError =>
  new ApiError('invalidParameter', `Invalid request parameter: task_id (the project already has the most carousel tasks allowed, ${max}; no sample was stored)`);
/** 503: the request bodies held in memory would pass --max-inflight-body-bytes; nothing was read or counted. */
export const bodiesBusy = (): ApiError => {
  const e = new ApiError('busy', 'Too many request bodies in flight, retry later');
  e.retryAfterSeconds = 1;
  return e;
};
/** 503: a request that arrived on an open connection while the server stops; nothing of it was read or counted. */
export const shuttingDown = (): ApiError => {
  const e = new ApiError('busy', 'The server is stopping, retry later');
  e.retryAfterSeconds = 1;
  return e;
};
/**
 * 500: the store rejected this request's data itself while it took other writes (a store limit, not an
 * outage); nothing of the request was counted and sending it again unchanged fails again.
 */
export const storeRejected = (): ApiError =>
  new ApiError('internal', 'Internal error: the store cannot take this request\'s data; nothing of it was counted, do not retry it unchanged');

/** Seconds a client is asked to wait (Retry-After) when the store refuses writes. */
export const STORE_RETRY_AFTER_SECONDS = 5;

/** 503: the store refuses writes (disk full, locked, unreachable); nothing of the request was counted. */
export const storeUnavailable = (reason: string): ApiError => {
  const e = new ApiError('storeUnavailable', `Service unavailable: the store cannot accept writes (${reason}); nothing of this request was counted, retry later`);
  e.retryAfterSeconds = STORE_RETRY_AFTER_SECONDS;
  return e;
};

/**
 * 503: the store did not confirm the write in time and may still apply it (a ClickHouse insert that
 * was sent); it is never refused later. A retry with the same X-Batch-Id is never counted twice; a
 * retry without one may be.
 */
export const storeInDoubt = (what: 'batch' | 'samples' = 'batch'): ApiError => {
  const e = new ApiError('storeUnavailable', 'Service unavailable: the store did not confirm the write in time (store_unreachable); ' + (what === 'batch'
    ? 'this request may still be counted: retry later with the same X-Batch-Id, which is never counted twice'
    : 'these samples may still be stored: a retry later is safe (a sample replaces the one of the same second)'));
  e.retryAfterSeconds = STORE_RETRY_AFTER_SECONDS;
  return e;
};
