import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../contract/errors.js';
import { parseHttpCodesQuery, shapeHttpCodes } from '../../contract/httpcodes.js';
import { parseRawQuery, rawSearch } from '../../contract/query.js';
import type { AppContext } from '../context.js';
import { projectOf } from '../project.js';

export const HTTPCODES_PATH = '/v2/:project_id/stats/httpcodes';

const responseSchema = {
  type: 'object',
  properties: {
    data_series: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          time: { type: 'string' },
          http_codes: {
            type: 'array',
            items: {
              type: 'object',
              properties: { code: { type: 'integer' }, count: { type: 'integer' }, proportion: { type: 'number' } },
            },
          },
        },
      },
    },
  },
} as const;

/** GET /v2/{project_id}/stats/httpcodes (ListQueryHttpCode). */
export function httpCodesRoute(app: FastifyInstance, ctx: AppContext): void {
  app.get(HTTPCODES_PATH, { schema: { response: { 200: responseSchema } } }, async (request) => {
    const project = await projectOf(ctx, request);
    const q = parseHttpCodesQuery(parseRawQuery(rawSearch(request.url)), ctx.now());
    if (q instanceof ApiError) throw q;
    const cells = await ctx.store.queryHttpCodes({
      project, domains: q.domains, regions: q.regions, isps: q.isps, fromMinute: q.fromMinute, toMinute: q.toMinute,
    });
    return shapeHttpCodes(q, cells);
  });
}
