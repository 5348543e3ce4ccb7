import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../contract/errors.js';
import {
  parseHistoryQuery, parseOnlineQuery, parseSeriesQuery, parseStreamCountQuery, parseUpBandwidthQuery, type SeriesKind, type SeriesQuery,
} from '../../contract/origin/params.js';
import { shapeBitrate, shapeFramerate, shapeStreamDetail, shapeUpStreamDetail, type QualitySample } from '../../contract/origin/series.js';
import { shapeHistory, shapeOnline, shapeStreamCount, shapeUpBandwidth } from '../../contract/origin/sessions.js';
import { parseRawQuery, rawSearch } from '../../contract/query.js';
import { DAY } from '../../contract/time.js';
import type { CachedBody } from '../cache.js';
import { storeBody } from '../body.js';
import type { AppContext } from '../context.js';
import { projectOf } from '../project.js';
import { querySignal } from '../query-admission.js';
import {
  bitrateSpec, framerateSpec, historySpec, onlineSpec, streamCountSpec, streamDetailSpec, upBandwidthSpec, upStreamDetailSpec,
} from './origin-spec.js';

export const ONLINE_PATH = '/v1/:project_id/realtime/streams';
export const HISTORY_PATH = '/v2/:project_id/stats/history/streams';
export const STREAM_COUNT_PATH = '/v2/:project_id/stats/stream-count';
export const UP_BANDWIDTH_PATH = '/v2/:project_id/stats/up-bandwidth/detail';
export const BITRATE_PATH = '/v2/:project_id/stats/stream/bitrate';
export const FRAMERATE_PATH = '/v2/:project_id/stats/stream/framerate';
export const STREAM_DETAIL_PATH = '/v2/:project_id/stats/stream-detail';
export const UP_STREAM_DETAIL_PATH = '/v2/:project_id/stats/up-stream/detail';
export const ORIGIN_PATHS = [
  ONLINE_PATH, HISTORY_PATH, STREAM_COUNT_PATH, UP_BANDWIDTH_PATH, BITRATE_PATH, FRAMERATE_PATH, STREAM_DETAIL_PATH, UP_STREAM_DETAIL_PATH,
];

const json = 'application/json; charset=utf-8';
const queryOf = (url: string): ReturnType<typeof parseRawQuery> => parseRawQuery(rawSearch(url));

/**
 * The eight publish-side operations (origin-api.md). Sessions, stream counts and input bytes come from
 * the origin intake's store methods (src/store/origin.ts); the per-second series from the probes'
 * quality samples (src/store/stream-quality.ts). Answers that depend on "now" (the open sessions) are
 * never cached; the others use the response cache like every stats route.
 */
export function originRoutes(app: FastifyInstance, ctx: AppContext): void {
  const store = ctx.store;
  /** Per-second quality is kept as long as the other per-second data: the series look back at most that far. */
  const qualityStoredMs = (): number => ctx.ingest.retentionDays * DAY;
  /** The answer of `q` from the response cache, or computed and cached (`tag` names the operation family in the key). */
  const cached = async (project: string, tag: string, q: unknown, compute: () => Promise<CachedBody>): Promise<CachedBody> => {
    const key = ctx.cache.key(() => `${tag}\u0000${project}\u0000${JSON.stringify(q)}`);
    let body = ctx.cache.get(key);
    if (body === undefined) {
      body = await compute();
      ctx.cache.set(project, key, body);
    }
    return body;
  };

  app.get(ONLINE_PATH, { config: { openapi: onlineSpec(ONLINE_PATH) } }, async (request, reply) => {
    const project = await projectOf(ctx, request);
    const q = parseOnlineQuery(queryOf(request.url));
    if (q instanceof ApiError) throw q;
    const page = await store.liveStreams(
      { project, domain: q.domain, app: q.app, stream: q.stream, offset: q.page, limit: q.limit }, { signal: querySignal(request) },
    );
    return reply.type(json).send(JSON.stringify(shapeOnline(q, page, request.id)));
  });

  app.get(HISTORY_PATH, { config: { openapi: historySpec(HISTORY_PATH) } }, async (request, reply) => {
    const project = await projectOf(ctx, request);
    const q = parseHistoryQuery(queryOf(request.url), ctx.now());
    if (q instanceof ApiError) throw q;
    const body = await cached(project, 'oh', q, async () => JSON.stringify(shapeHistory(q, await store.historySessions({
      project, domains: q.domains, app: q.app, stream: q.stream, from: q.window.start, to: q.window.end, offset: q.page, limit: q.limit,
    }, { signal: querySignal(request) }))));
    return reply.type(json).send(body);
  });

  app.get(STREAM_COUNT_PATH, { config: { openapi: streamCountSpec(STREAM_COUNT_PATH) } }, async (request, reply) => {
    const project = await projectOf(ctx, request);
    const now = ctx.now();
    const q = parseStreamCountQuery(queryOf(request.url), now);
    if (q instanceof ApiError) throw q;
    const body = await cached(project, 'oc', q, async () => JSON.stringify(shapeStreamCount(q,
      await store.streamCounts({ project, domains: q.domains, from: q.slots.from, to: q.slots.to, now }, { signal: querySignal(request) }))));
    return reply.type(json).send(body);
  });

  app.get(UP_BANDWIDTH_PATH, { config: { openapi: upBandwidthSpec(UP_BANDWIDTH_PATH) } }, async (request, reply) => {
    const project = await projectOf(ctx, request);
    const q = parseUpBandwidthQuery(queryOf(request.url), ctx.now());
    if (q instanceof ApiError) throw q;
    const body = await cached(project, 'ou', q, async () => JSON.stringify(shapeUpBandwidth(q, await store.upBytesSeries({
      project, domains: q.domains, app: q.app, stream: q.stream, regions: q.regions, isps: q.isps, type: q.type === 'relay' ? 1 : 0,
      slotMs: q.slots.slotMs, from: q.slots.from, to: q.slots.to,
    }, { signal: querySignal(request) }))));
    return reply.type(json).send(body);
  });

  const series = (path: string, kind: SeriesKind, openapi: ReturnType<typeof bitrateSpec>, shape: (q: SeriesQuery, s: QualitySample[]) => object): void => {
    app.get(path, { config: { openapi } }, async (request, reply) => {
      const project = await projectOf(ctx, request);
      const q = parseSeriesQuery(queryOf(request.url), kind, ctx.now(), qualityStoredMs());
      if (q instanceof ApiError) throw q;
      const body = await cached(project, 'os', q, async () => {
        const filter = { project, domain: q.domain, app: q.app, stream: q.stream, from: q.start, to: q.end };
        const options = { signal: querySignal(request) };
        // Rendered off the main thread when the store can (a 6-hour series is ~21,600 seconds).
        return q.end > q.start && store.qualityBody
          ? storeBody(ctx, reply, await store.qualityBody(filter, q, options))
          : JSON.stringify(shape(q, q.end <= q.start ? [] : await store.queryQuality(filter, options)));
      });
      return reply.type(json).send(body);
    });
  };
  series(BITRATE_PATH, 'bitrate', bitrateSpec(BITRATE_PATH), shapeBitrate);
  series(FRAMERATE_PATH, 'framerate', framerateSpec(FRAMERATE_PATH), shapeFramerate);
  series(STREAM_DETAIL_PATH, 'detail', streamDetailSpec(STREAM_DETAIL_PATH), shapeStreamDetail);
  series(UP_STREAM_DETAIL_PATH, 'upstream', upStreamDetailSpec(UP_STREAM_DETAIL_PATH), shapeUpStreamDetail);
}
