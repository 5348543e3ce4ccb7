import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { COUNT_SCHEMA } from '../spec/shared.js';
import type { RouteSpec } from '../spec/types.js';

const COUNTS = {
  store: { type: 'string', enum: ['sqlite', 'clickhouse'] },
  pending_records: { ...COUNT_SCHEMA, description: 'Records counted in memory and not yet written to the store' },
  queries_in_flight: { ...COUNT_SCHEMA, description: 'Stats queries holding a slot (at most --max-concurrent-queries)' },
  queries_waiting: { ...COUNT_SCHEMA, description: 'Stats queries waiting for a slot' },
  ingest_batches_pending: { ...COUNT_SCHEMA, description: 'HTTP log batches (X-Batch-Id) accepted and not yet committed' },
} as const;

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
              ...COUNTS,
            },
          },
        },
      },
    },
    503: {
      description: 'The store refuses writes (disk full, locked, unreachable), did not confirm one in time, or failed an X-Batch-Id check; ' +
        'queries still answer. Back to 200 by itself once a write succeeds',
      content: {
        'application/json': {
          schema: {
            type: 'object', required: ['status', 'reason', 'since', 'store', 'pending_records'],
            properties: {
              status: { const: 'degraded' },
              reason: { type: 'string', enum: ['disk_full', 'store_busy', 'store_unreachable', 'store_error'] },
              since: { type: 'string', description: 'When writes started failing (ISO 8601, UTC)' },
              refused_records: { ...COUNT_SCHEMA, description: 'Records refused since the outage began (never counted later)' },
              ...COUNTS,
            },
          },
        },
      },
    },
  },
  errors: [],
};

/**
 * GET /healthz: liveness, what is waiting to be written, and what is in flight. Never
 * authenticated. While the store refuses writes: 503 {"status":"degraded","reason":...};
 * ok again by itself once a write succeeds.
 */
export function healthRoute(app: FastifyInstance, ctx: AppContext): void {
  app.get('/healthz', { config: { openapi: HEALTH_SPEC } }, async (_request, reply) => {
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
