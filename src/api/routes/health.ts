import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';

/**
 * GET /healthz: liveness plus what is waiting to be written. Never authenticated. While the
 * store refuses writes: 503 {"status":"degraded","reason":...}; ok again after a write succeeds.
 */
export function healthRoute(app: FastifyInstance, ctx: AppContext): void {
  app.get('/healthz', async (_request, reply) => {
    const h = ctx.health.snapshot();
    const pending = ctx.aggregator?.stats().pendingRecords ?? 0;
    if (h.status === 'ok') return { status: 'ok', store: ctx.store.kind, pending_records: pending };
    return reply.code(503).send({
      status: 'degraded', reason: h.reason, since: new Date(h.since ?? 0).toISOString(),
      store: ctx.store.kind, pending_records: pending, refused_records: h.refusedRecords,
    });
  });
}
