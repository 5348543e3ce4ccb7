import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../contract/errors.js';
import { parseRawQuery, rawSearch } from '../../contract/query.js';
import { parsePerDomainQuery, perDomainJson, perDomainNeedsData, type PerDomainKind } from '../../contract/traffic/per-domain.js';
import type { TrafficQuery } from '../../store/traffic.js';
import type { AppContext } from '../context.js';
import { projectOf } from '../project.js';
import { querySignal } from '../query-admission.js';
import { trafficCacheKey, trafficFilterOf } from './traffic-filter.js';
import { bandwidthPeakSpec, trafficSummarySpec } from './traffic-spec.js';

export const TRAFFIC_SUMMARY_PATH = '/v2/:project_id/stats/traffic/summary';
export const BANDWIDTH_PEAK_PATH = '/v2/:project_id/stats/bandwidth/peak';

/**
 * GET /v2/{project_id}/stats/traffic/summary (ListDomainTrafficSummary) and
 * GET /v2/{project_id}/stats/bandwidth/peak (ListDomainBandwidthPeak): one entry per domain.
 */
export function trafficPerDomainRoutes(app: FastifyInstance, ctx: AppContext, traffic: TrafficQuery): void {
  const route = (path: string, kind: PerDomainKind): void => {
    const openapi = kind === 'summary' ? trafficSummarySpec(path) : bandwidthPeakSpec(path);
    app.get(path, { config: { openapi } }, async (request, reply) => {
      const project = await projectOf(ctx, request);
      const q = parsePerDomainQuery(parseRawQuery(rawSearch(request.url)), kind, ctx.now(), ctx.trafficStoredMs);
      if (q instanceof ApiError) throw q;
      const filter = trafficFilterOf(project, q, q.slots, undefined);
      const key = ctx.cache.key(() => trafficCacheKey(kind, filter, q.serviceType));
      let body = ctx.cache.get(key);
      if (body === undefined) {
        const signal = querySignal(request);
        const [projectDomains, bytes] = await Promise.all([
          q.domains.length > 0 ? Promise.resolve([]) : traffic.trafficDomains(project, { signal }),
          perDomainNeedsData(q) ? traffic.trafficByDomain(filter, { signal }) : Promise.resolve(new Map<string, Float64Array>()),
        ]);
        body = perDomainJson(q, projectDomains, bytes);
        ctx.cache.set(project, key, body);
      }
      return reply.type('application/json; charset=utf-8').send(body);
    });
  };
  route(TRAFFIC_SUMMARY_PATH, 'summary');
  route(BANDWIDTH_PEAK_PATH, 'peak');
}
