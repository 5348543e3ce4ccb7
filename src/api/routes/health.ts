import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';

/** GET /healthz: liveness plus what is waiting to be written. Never authenticated. */
export function healthRoute(app: FastifyInstance, ctx: AppContext): void {
  app.get('/healthz', async () => ({
    status: 'ok',
    store: ctx.store.kind,
    pending_records: ctx.aggregator?.stats().pendingRecords ?? 0,
  }));
}
