import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, apiNotFound, internalError, invalidParameter, payloadTooLarge, queryTimedOut, REASON_HEADER } from '../contract/errors.js';
import { QueryTimeoutError } from '../store/types.js';
import { clientGone } from './query-admission.js';

/** A reason as a header value: printable ASCII only, at most 400 characters. */
const headerSafe = (text: string): string => text.replace(/[^\x20-\x7e]/g, '?').slice(0, 400);

/** Maps anything thrown in a request to the contract's error envelope; internals go to the log only. */
export function toApiError(err: unknown, bodyLimit: number): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof QueryTimeoutError) return queryTimedOut(err.timeoutMs);
  const fe = err as Partial<FastifyError>;
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return payloadTooLarge(bodyLimit);
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return invalidParameter('body', (err as Error).message.replace(/^Body /, 'the body '));
  }
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
    // Counted by livestats_queries_rejected_total; under overload an error line per refusal would add to the load.
    else if (apiErr.kind === 'tooManyRequests') request.log.info('query refused: every query slot busy');
    else if (!(err instanceof ApiError)) request.log.info({ err: { code: (err as FastifyError).code, message: (err as Error).message } }, 'bad request');
    else if (apiErr.status < 500) request.log.info({ error_msg: apiErr.body.error_msg, reason: apiErr.reason }, 'bad request');
    if (apiErr.reason !== undefined) void reply.header(REASON_HEADER, headerSafe(apiErr.reason));
    if (apiErr.retryAfterSeconds !== undefined) void reply.header('Retry-After', String(apiErr.retryAfterSeconds));
    void reply.code(apiErr.status).type('application/json').send(apiErr.body);
  });
  app.setNotFoundHandler((request, reply) => {
    const e = unrouted(request) ?? apiNotFound();
    void reply.code(e.status).type('application/json').send(e.body);
  });
}
