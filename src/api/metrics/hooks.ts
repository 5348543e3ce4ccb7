import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../../contract/errors.js';
import type { ApiMetrics } from '../../metrics/api.js';

/** The route pattern a request matched (never its URL); the dashboard's built files count as one route. */
export function routeLabel(request: FastifyRequest): string {
  const url = request.routeOptions.url;
  if (url === undefined) return '_unmatched';
  return url.startsWith('/assets/') ? '/assets/*' : url;
}

/** Times every request by route pattern and status, and counts LIVE.100011007 refusals. Adds hooks only. */
export function registerRequestMetrics(app: FastifyInstance, metrics: ApiMetrics): void {
  // Callback-style hooks (synchronous code only): no promise per request.
  app.addHook('onResponse', (request, reply, done) => {
    metrics.request(request.method, routeLabel(request), reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  app.addHook('onError', (_request, _reply, err, done) => {
    // By kind, not code: a body refused with 503 (kind busy) shares LIVE.100011007 and is not a refused query.
    if (err instanceof ApiError && err.kind === 'tooManyRequests') metrics.queryRejected();
    done();
  });
}
