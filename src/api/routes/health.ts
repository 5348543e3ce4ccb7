import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';

/** GET /healthz: liveness, what is waiting to be written, and what is in flight. Never authenticated. */
export function healthRoute(app: FastifyInstance, ctx: AppContext): void {
  app.get('/healthz', async () => ({
    status: 'ok',
    store: ctx.store.kind,
    pending_records: ctx.aggregator?.stats().pendingRecords ?? 0,
    queries_in_flight: ctx.slots.inFlight,
    queries_waiting: ctx.slots.waiting,
    ingest_batches_pending: ctx.batches.size,
  }));
}
