import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, apiNotFound, internalError, invalidParameter, payloadTooLarge, queryTimedOut } from '../contract/errors.js';
import { QueryTimeoutError } from '../store/types.js';
import { clientGone } from './query-admission.js';

/** Maps anything thrown in a request to the contract's error envelope; internals go to the log only. */
export function toApiError(err: unknown, bodyLimit: number): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof QueryTimeoutError) return queryTimedOut(err.timeoutMs);
  const fe = err as Partial<FastifyError>;
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return payloadTooLarge(bodyLimit);
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return invalidParameter('body');
  return internalError();
}

export function registerErrorHandling(
  app: FastifyInstance, bodyLimit: number, unrouted: (request: FastifyRequest) => ApiError | undefined = () => undefined,
): void {
  app.setErrorHandler((err, request, reply) => {
    if (clientGone(request)) {
      // Nobody reads this answer: the query was cancelled (or never got a slot). Not a failure.
      request.log.info({ reason: (err as Error).message }, 'client closed the connection before the answer; query cancelled');
      void reply.code(499).type('application/json').send(internalError().body);
      return;
    }
    const apiErr = toApiError(err, bodyLimit);
    // A refused write was already logged (once per outage) by the store's health; not per request.
    if (apiErr.status >= 500 && apiErr.retryAfterSeconds === undefined) request.log.error({ err }, 'request failed');
    else if (!(err instanceof ApiError)) request.log.info({ err: { code: (err as FastifyError).code, message: (err as Error).message } }, 'bad request');
    if (apiErr.retryAfterSeconds !== undefined) void reply.header('Retry-After', String(apiErr.retryAfterSeconds));
    void reply.code(apiErr.status).type('application/json').send(apiErr.body);
  });
  app.setNotFoundHandler((request, reply) => {
    const e = unrouted(request) ?? apiNotFound();
    void reply.code(e.status).type('application/json').send(e.body);
  });
}
