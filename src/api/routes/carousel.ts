import type { FastifyInstance } from 'fastify';
import { ApiError, resourceNotFound } from '../../contract/errors.js';
import { carouselJson, parseCarouselQuery } from '../../contract/carousel.js';
import { parseRawQuery, rawSearch } from '../../contract/query.js';
import { storeBody } from '../body.js';
import type { AppContext } from '../context.js';
import { projectOf } from '../project.js';
import { querySignal } from '../query-admission.js';

export const CAROUSEL_PATH = '/v2/:project_id/stats/carousel-task/detail';

/** GET /v2/{project_id}/stats/carousel-task/detail (ListCarouselTaskDetail). */
export function carouselRoute(app: FastifyInstance, ctx: AppContext): void {
  app.get(CAROUSEL_PATH, async (request, reply) => {
    const project = await projectOf(ctx, request);
    const q = parseCarouselQuery(parseRawQuery(rawSearch(request.url)), ctx.now());
    if (q instanceof ApiError) throw q;
    const key = `ct\u0000${project}\u0000${q.taskId}\u0000${q.start}\u0000${q.end}`;
    let body = ctx.cache.get(key);
    if (body === undefined) {
      const signal = querySignal(request);
      if (!(await ctx.store.taskExists(project, q.taskId, { signal }))) throw resourceNotFound('carousel_task_id');
      const filter = { project, taskId: q.taskId, from: q.start, to: q.end };
      body = ctx.store.carouselBody
        ? storeBody(ctx, reply, await ctx.store.carouselBody(filter, { signal }))
        : carouselJson(q, await ctx.store.querySamples(filter, { signal }));
      ctx.cache.set(project, key, body);
    }
    return reply.type('application/json; charset=utf-8').send(body);
  });
}
