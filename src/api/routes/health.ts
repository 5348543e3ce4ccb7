import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { COUNT_SCHEMA } from '../spec/shared.js';
import type { RouteSpec } from '../spec/types.js';

export const HEALTH_SPEC: RouteSpec = {
  method: 'GET', url: '/healthz', operationId: 'Health', tags: ['operations'], security: 'none',
  summary: 'Liveness, and what is waiting to be written',
  parameters: [],
  responses: {
    200: {
      description: 'The server is up',
      content: {
        'application/json': {
          schema: {
            type: 'object', required: ['status', 'store', 'pending_records'],
            properties: {
              status: { const: 'ok' },
              store: { type: 'string', enum: ['sqlite', 'clickhouse'] },
              pending_records: { ...COUNT_SCHEMA, description: 'Records counted in memory and not yet written to the store' },
            },
          },
        },
      },
    },
  },
  errors: [],
};

/** GET /healthz: liveness, what is waiting to be written, and what is in flight. Never authenticated. */
export function healthRoute(app: FastifyInstance, ctx: AppContext): void {
  app.get('/healthz', { config: { openapi: HEALTH_SPEC } }, async () => ({
    status: 'ok',
    store: ctx.store.kind,
    pending_records: ctx.aggregator?.stats().pendingRecords ?? 0,
    queries_in_flight: ctx.slots.inFlight,
    queries_waiting: ctx.slots.waiting,
    ingest_batches_pending: ctx.batches.size,
  }));
}
