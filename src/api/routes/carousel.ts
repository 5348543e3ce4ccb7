import type { FastifyInstance } from 'fastify';
import { ApiError, resourceNotFound } from '../../contract/errors.js';
import { CAROUSEL_PARAMS, carouselJson, parseCarouselQuery } from '../../contract/carousel.js';
import { parseRawQuery, rawSearch } from '../../contract/query.js';
import { storeBody } from '../body.js';
import type { AppContext } from '../context.js';
import { projectOf } from '../project.js';
import { querySignal } from '../query-admission.js';
import { AUTHENTICATED_ERRORS, COUNT_SCHEMA, PROJECT_PARAMS, UTC_SECOND_SCHEMA } from '../spec/shared.js';
import type { RouteSpec } from '../spec/types.js';

export const CAROUSEL_PATH = '/v2/:project_id/stats/carousel-task/detail';

const perSecond = (what: string): object => ({ type: 'array', items: COUNT_SCHEMA, description: `${what}, one value per second (0: no sample)` });

export const CAROUSEL_SPEC: RouteSpec = {
  method: 'GET', url: CAROUSEL_PATH, operationId: 'ListCarouselTaskDetail', tags: ['stats'], security: 'credentials',
  summary: 'Per-second frame rates and bitrates of a carousel task',
  description: 'One value per second of the effective window (end clamped to now; the current second is not listed); span at most 3 h.',
  parameters: [...PROJECT_PARAMS, ...CAROUSEL_PARAMS],
  responses: {
    200: {
      description: 'The seconds of the window',
      content: {
        'application/json': {
          schema: {
            type: 'object', additionalProperties: false,
            required: ['start_time', 'end_time', 'video_framerate_list', 'video_bitrate_list', 'audio_framerate_list', 'audio_bitrate_list'],
            properties: {
              start_time: UTC_SECOND_SCHEMA,
              end_time: UTC_SECOND_SCHEMA,
              video_framerate_list: perSecond('Video frames'),
              video_bitrate_list: perSecond('Video kbit/s'),
              audio_framerate_list: perSecond('Audio (AAC) frames'),
              audio_bitrate_list: perSecond('Audio kbit/s'),
            },
          },
        },
      },
    },
  },
  errors: [...AUTHENTICATED_ERRORS, 'notFound', 'tooManyRequests'],
};

/** GET /v2/{project_id}/stats/carousel-task/detail (ListCarouselTaskDetail). */
export function carouselRoute(app: FastifyInstance, ctx: AppContext): void {
  app.get(CAROUSEL_PATH, { config: { openapi: CAROUSEL_SPEC } }, async (request, reply) => {
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
