import type { FastifyInstance } from 'fastify';
import { authFailed } from '../../contract/errors.js';
import type { Metrics } from '../../metrics/registry.js';
import type { MetricsAccess } from '../metrics/access.js';
import type { RouteSpec } from '../spec/types.js';

export const METRICS_PATH = '/metrics';

export const METRICS_SPEC: RouteSpec = {
  method: 'GET', url: METRICS_PATH, operationId: 'Metrics', tags: ['operations'], security: 'metrics',
  summary: 'Prometheus metrics',
  description: 'Prometheus text exposition (format 0.0.4) whatever the Accept header says. No credential when the server ' +
    'listens on loopback and no --metrics-token is set; otherwise `Authorization: Bearer <--metrics-token>`, else 401.',
  parameters: [],
  responses: {
    200: { description: 'The metrics', content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: { type: 'string' } } } },
  },
  errors: ['authFailed', 'internal'],
};

/**
 * GET /metrics: Prometheus text exposition (format 0.0.4), whatever the Accept header asks for.
 * Access: see MetricsAccess; a refused scrape is the contract's 401 LIVE.100011002.
 */
export function metricsRoute(app: FastifyInstance, metrics: Metrics, access: MetricsAccess): void {
  app.get(METRICS_PATH, { config: { openapi: METRICS_SPEC } }, async (request, reply) => {
    if (!access.allows(request.headers.authorization)) {
      void reply.header('WWW-Authenticate', 'Bearer realm="livestats metrics"');
      throw authFailed();
    }
    const text = await metrics.text();
    return reply.type(metrics.contentType).header('Cache-Control', 'no-store').send(text);
  });
}
