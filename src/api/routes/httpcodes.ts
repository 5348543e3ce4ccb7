import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../contract/errors.js';
import { httpCodesJson, parseHttpCodesQuery } from '../../contract/httpcodes.js';
import { parseRawQuery, rawSearch } from '../../contract/query.js';
import { storeBody } from '../body.js';
import type { AppContext } from '../context.js';
import { projectOf } from '../project.js';
import { querySignal } from '../query-admission.js';

export const HTTPCODES_PATH = '/v2/:project_id/stats/httpcodes';

/** GET /v2/{project_id}/stats/httpcodes (ListQueryHttpCode). */
export function httpCodesRoute(app: FastifyInstance, ctx: AppContext): void {
  app.get(HTTPCODES_PATH, async (request, reply) => {
    const project = await projectOf(ctx, request);
    const q = parseHttpCodesQuery(parseRawQuery(rawSearch(request.url)), ctx.now());
    if (q instanceof ApiError) throw q;
    const key = `hc\u0000${project}\u0000${q.domains.join(',')}\u0000${q.codes.join(',')}\u0000${q.regions.join(',')}` +
      `\u0000${q.isps.join(',')}\u0000${q.fromMinute}\u0000${q.toMinute}`;
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
