import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../contract/errors.js';
import { parseRawQuery, rawSearch } from '../../contract/query.js';
import { detailJson, detailNeedsData, parseTrafficDetailQuery, type DetailKind } from '../../contract/traffic/detail.js';
import type { TrafficQuery } from '../../store/traffic.js';
import type { AppContext } from '../context.js';
import { projectOf } from '../project.js';
import { querySignal } from '../query-admission.js';
import { trafficCacheKey, trafficFilterOf } from './traffic-filter.js';
import { bandwidthDetailSpec, trafficDetailSpec } from './traffic-spec.js';

export const TRAFFIC_DETAIL_PATH = '/v2/:project_id/stats/traffic/detail';
export const BANDWIDTH_DETAIL_PATH = '/v2/:project_id/stats/bandwidth/detail';

/**
 * GET /v2/{project_id}/stats/traffic/detail (ListDomainTrafficDetail) and
 * GET /v2/{project_id}/stats/bandwidth/detail (ListBandwidthDetail).
 */
export function trafficDetailRoutes(app: FastifyInstance, ctx: AppContext, traffic: TrafficQuery): void {
  const route = (path: string, kind: DetailKind): void => {
    const openapi = kind === 'traffic' ? trafficDetailSpec(path) : bandwidthDetailSpec(path);
    app.get(path, { config: { openapi } }, async (request, reply) => {
      const project = await projectOf(ctx, request);
      const q = parseTrafficDetailQuery(parseRawQuery(rawSearch(request.url)), kind, ctx.now(), ctx.trafficStoredMs);
      if (q instanceof ApiError) throw q;
      const filter = trafficFilterOf(project, q, q.slots, q.ipType);
      const key = ctx.cache.key(() => trafficCacheKey(kind, filter, q.serviceType));
      let body = ctx.cache.get(key);
      if (body === undefined) {
        const signal = querySignal(request);
        if (!detailNeedsData(q)) {
          body = detailJson(q, new Float64Array(q.slots.count));
        } else if (traffic.trafficDetailBody) {
          // Up to 8928 entries (31 days at 300 s): a store that renders it (in its read workers) sends finished bytes.
          const bytes = await traffic.trafficDetailBody(filter, kind, { signal });
          body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
          if (traffic.releaseBody && !ctx.cache.enabled) reply.raw.once('finish', () => traffic.releaseBody?.(bytes));
        } else {
          body = detailJson(q, await traffic.trafficSeries(filter, { signal }));
        }
        ctx.cache.set(project, key, body);
      }
      return reply.type('application/json; charset=utf-8').send(body);
    });
  };
  route(TRAFFIC_DETAIL_PATH, 'traffic');
  route(BANDWIDTH_DETAIL_PATH, 'bandwidth');
}
