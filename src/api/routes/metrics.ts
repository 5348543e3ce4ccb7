import type { FastifyInstance } from 'fastify';
import { authFailed } from '../../contract/errors.js';
import type { Metrics } from '../../metrics/registry.js';
import type { MetricsAccess } from '../metrics/access.js';

export const METRICS_PATH = '/metrics';

/**
 * GET /metrics: Prometheus text exposition (format 0.0.4), whatever the Accept header asks for.
 * Access: see MetricsAccess; a refused scrape is the contract's 401 LIVE.100011002.
 */
export function metricsRoute(app: FastifyInstance, metrics: Metrics, access: MetricsAccess): void {
  app.get(METRICS_PATH, async (request, reply) => {
    if (!access.allows(request.headers.authorization)) {
      void reply.header('WWW-Authenticate', 'Bearer realm="livestats metrics"');
      throw authFailed();
    }
    const text = await metrics.text();
    return reply.type(metrics.contentType).header('Cache-Control', 'no-store').send(text);
  });
}
