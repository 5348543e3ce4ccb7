import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';

/**
 * GET /healthz: liveness, what is waiting to be written, and what is in flight. Never
 * authenticated. While the store refuses writes: 503 {"status":"degraded","reason":...};
 * ok again by itself once a write succeeds.
 */
export function healthRoute(app: FastifyInstance, ctx: AppContext): void {
  app.get('/healthz', async (_request, reply) => {
    const h = ctx.health.snapshot();
    const common = {
      store: ctx.store.kind,
      pending_records: ctx.aggregator?.stats().pendingRecords ?? 0,
      queries_in_flight: ctx.slots.inFlight,
      queries_waiting: ctx.slots.waiting,
      ingest_batches_pending: ctx.batches.size,
    };
    if (h.status === 'ok') return { status: 'ok', ...common };
    return reply.code(503).send({
      status: 'degraded', reason: h.reason, since: new Date(h.since ?? 0).toISOString(), ...common, refused_records: h.refusedRecords,
    });
  });
}
