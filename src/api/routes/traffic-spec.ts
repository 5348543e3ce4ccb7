import { ISP_PARAM, PLAY_DOMAINS_PARAM, REGION_PARAM } from '../../contract/httpcodes.js';
import type { ParamSpec } from '../../contract/params.js';
import { MAX_TRAFFIC_DOMAINS } from '../../contract/traffic/params.js';
import { INTERVALS_S, IP_TYPES, MAX_NAME_LENGTH, PROTOCOLS, SERVICE_TYPES } from '../../contract/traffic/values.js';
import { END_TIME_PARAM, START_TIME_PARAM } from '../../contract/window.js';
import type { JsonSchema } from '../../contract/schema.js';
import { AUTHENTICATED_ERRORS, COUNT_SCHEMA, PROJECT_PARAMS, UTC_SECOND_SCHEMA } from '../spec/shared.js';
import type { RouteSpec } from '../spec/types.js';

/**
 * What the four traffic/bandwidth routes declare for GET /openapi.json. Their parameters are
 * checked by the traffic contract (src/contract/traffic/), in the order listed here; these
 * declarations describe the same rules (values, bounds, defaults) for the document.
 */
const name = (n: 'app' | 'stream', what: string): ParamSpec => ({
  name: n, in: 'query', kind: 'single', trim: true,
  description: `${what} of the request URI; case-sensitive; ignored without play_domains.`,
  schema: { type: 'string', minLength: 1, maxLength: MAX_NAME_LENGTH, pattern: '^[^/\\u0000-\\u001f\\u007f]+$' },
});

const COMMON: readonly ParamSpec[] = [
  {
    ...PLAY_DOMAINS_PARAM, required: false,
    description: `Play domains, up to ${MAX_TRAFFIC_DOMAINS}, comma-separated and/or repeated; default every domain of the project.`,
    schema: { ...PLAY_DOMAINS_PARAM.schema, maxItems: MAX_TRAFFIC_DOMAINS },
  },
  name('app', 'The first path segment (application)'),
  name('stream', 'The second path segment (stream name)'),
  REGION_PARAM,
  ISP_PARAM,
  {
    name: 'protocol', in: 'query', kind: 'single', trim: true,
    description: 'Playback protocol of the request URI; default all.', schema: { type: 'string', enum: [...PROTOCOLS] },
  },
  {
    name: 'service_type', in: 'query', kind: 'single', trim: true,
    description: 'ALL (default) and Live: everything counted; LLL (ultra-low latency): zero values.',
    schema: { type: 'string', enum: [...SERVICE_TYPES] },
  },
];

const INTERVAL: ParamSpec = {
  name: 'interval', in: 'query', kind: 'single', trim: true,
  description: 'Slot length in seconds (default 300); slots aligned in UTC.', schema: { type: 'string', enum: INTERVALS_S.map(String) },
};
const IP_TYPE: ParamSpec = {
  name: 'ip_type', in: 'query', kind: 'single', trim: true,
  description: 'The client\'s address family; default both.', schema: { type: 'string', enum: [...IP_TYPES] },
};
const COUNTRY: ParamSpec = {
  name: 'country', in: 'query', kind: 'single',
  description: 'Not supported: any non-empty value is a 400 naming country.', schema: { type: 'string', maxLength: 0 },
};
const WINDOW: readonly ParamSpec[] = [
  { ...START_TIME_PARAM, description: 'Window start, UTC, YYYY-MM-DDThh:mm:ssZ; default end_time minus 7 days; span at most 31 days; at most 1 year ago and within --traffic-retention-days.' },
  END_TIME_PARAM,
];

const list = (field: string, item: JsonSchema, valueDescription: string): JsonSchema => ({
  type: 'object', additionalProperties: false, required: [field],
  properties: {
    [field]: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: Object.keys(item.properties as object),
        properties: { ...(item.properties as object), value: { ...COUNT_SCHEMA, description: valueDescription } },
      },
    },
  },
});

function spec(o: {
  url: string; operationId: string; summary: string; params: readonly ParamSpec[]; field: string; key: 'time' | 'domain'; value: string;
}): RouteSpec {
  const key = o.key === 'time' ? { ...UTC_SECOND_SCHEMA, description: 'Start of the slot' } : { type: 'string', description: 'Play domain' };
  return {
    method: 'GET', url: o.url, operationId: o.operationId, tags: ['stats'], security: 'credentials', summary: o.summary,
    parameters: [...PROJECT_PARAMS, ...o.params],
    responses: {
      200: {
        description: o.summary,
        content: { 'application/json': { schema: list(o.field, { properties: { value: {}, [o.key]: key } }, o.value) } },
      },
    },
    errors: [...AUTHENTICATED_ERRORS, 'tooManyRequests'],
  };
}

export const trafficDetailSpec = (url: string): RouteSpec => spec({
  url, operationId: 'ListDomainTrafficDetail', summary: 'Bytes delivered per slot, summed over the play domains',
  params: [...COMMON, INTERVAL, ...WINDOW], field: 'data_list', key: 'time', value: 'Bytes sent in the slot',
});
export const bandwidthDetailSpec = (url: string): RouteSpec => spec({
  url, operationId: 'ListBandwidthDetail', summary: 'Bandwidth per slot (bits per second, half-up), summed over the play domains',
  params: [...COMMON, INTERVAL, IP_TYPE, COUNTRY, ...WINDOW], field: 'data_list', key: 'time', value: 'Average bits per second over the slot',
});
export const trafficSummarySpec = (url: string): RouteSpec => spec({
  url, operationId: 'ListDomainTrafficSummary', summary: 'Total bytes per play domain over the window',
  params: [...COMMON, ...WINDOW], field: 'traffic_list', key: 'domain', value: 'Bytes sent over the window',
});
export const bandwidthPeakSpec = (url: string): RouteSpec => spec({
  url, operationId: 'ListDomainBandwidthPeak', summary: 'Peak 5-minute bandwidth per play domain over the window',
  params: [...COMMON, ...WINDOW], field: 'bandwidth_list', key: 'domain', value: 'Highest 5-minute average, bits per second',
});
