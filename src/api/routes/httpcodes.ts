import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../contract/errors.js';
import { HTTPCODES_PARAMS, httpCodesJson, parseHttpCodesQuery } from '../../contract/httpcodes.js';
import { parseRawQuery, rawSearch } from '../../contract/query.js';
import { storeBody } from '../body.js';
import type { AppContext } from '../context.js';
import { projectOf } from '../project.js';
import { querySignal } from '../query-admission.js';
import { AUTHENTICATED_ERRORS, COUNT_SCHEMA, PROJECT_PARAMS, UTC_SECOND_SCHEMA } from '../spec/shared.js';
import type { RouteSpec } from '../spec/types.js';

export const HTTPCODES_PATH = '/v2/:project_id/stats/httpcodes';

export const HTTPCODES_SPEC: RouteSpec = {
  method: 'GET', url: HTTPCODES_PATH, operationId: 'ListQueryHttpCode', tags: ['stats'], security: 'credentials',
  summary: 'HTTP status codes of play domains, per minute',
  description: 'One entry per minute of the window (oldest first, zero-filled); counts summed over the domains and filtered by ' +
    'region/isp/code; proportion is the code\'s share of all requests of that minute under the domain/region/isp filters, ' +
    'rounded half-up to 4 decimals. The window is [start, end) in whole minutes; span at most 24 h.',
  parameters: [...PROJECT_PARAMS, ...HTTPCODES_PARAMS],
  responses: {
    200: {
      description: 'The minutes of the window',
      content: {
        'application/json': {
          schema: {
            type: 'object', additionalProperties: false, required: ['data_series'],
            properties: {
              data_series: {
                type: 'array',
                items: {
                  type: 'object', additionalProperties: false, required: ['time', 'http_codes'],
                  properties: {
                    time: { ...UTC_SECOND_SCHEMA, description: 'Start of the minute' },
                    http_codes: {
                      type: 'array',
                      items: {
                        type: 'object', additionalProperties: false, required: ['code', 'count', 'proportion'],
                        properties: {
                          code: { type: 'integer', minimum: 100, maximum: 599 },
                          count: COUNT_SCHEMA,
                          proportion: { type: 'number', minimum: 0, maximum: 1 },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
  errors: [...AUTHENTICATED_ERRORS, 'tooManyRequests'],
};

/** GET /v2/{project_id}/stats/httpcodes (ListQueryHttpCode). */
export function httpCodesRoute(app: FastifyInstance, ctx: AppContext): void {
  app.get(HTTPCODES_PATH, { config: { openapi: HTTPCODES_SPEC } }, async (request, reply) => {
    const project = await projectOf(ctx, request);
    const q = parseHttpCodesQuery(parseRawQuery(rawSearch(request.url)), ctx.now());
    if (q instanceof ApiError) throw q;
    const key = ctx.cache.key(() => `hc\u0000${project}\u0000${q.domains.join(',')}\u0000${q.codes.join(',')}\u0000${q.regions.join(',')}` +
      `\u0000${q.isps.join(',')}\u0000${q.fromMinute}\u0000${q.toMinute}`);
    let body = ctx.cache.get(key);
    if (body === undefined) {
      const filter = { project, domains: q.domains, regions: q.regions, isps: q.isps, fromMinute: q.fromMinute, toMinute: q.toMinute };
      const options = { signal: querySignal(request) };
      // The 24 h answer has ~1440 x codes entries: a store that renders it (in its read workers) sends
      // finished bytes; otherwise it is rendered here straight to JSON text.
      body = ctx.store.httpCodesBody
        ? storeBody(ctx, reply, await ctx.store.httpCodesBody(filter, q.codes, options))
        : httpCodesJson(q, await ctx.store.queryHttpCodes(filter, options));
      ctx.cache.set(project, key, body);
    }
    return reply.type('application/json; charset=utf-8').send(body);
  });
}
