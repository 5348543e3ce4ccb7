import { FORBIDDEN } from '../domain.js';
import { ISP_PARAM, MAX_DOMAINS, REGION_PARAM } from '../httpcodes.js';
import { quoted } from '../errors.js';
import type { ParamSpec } from '../params.js';
import { dayReason, domainReason, minuteReason, nameReason } from '../reasons.js';
import { SERVICE_TYPES, MAX_NAME_LENGTH } from '../traffic/values.js';
import { END_TIME_PARAM, START_TIME_PARAM } from '../window.js';
import { AUDIENCE_PROTOCOLS, USER_INTERVALS_S } from './values.js';

/**
 * The query parameters of the three audience endpoints, declared once: the contract reads and checks
 * them from these declarations (in the order of each endpoint's list) and GET /openapi.json publishes them.
 */
const forbidden = FORBIDDEN.source.slice(1, -1);
const DOMAIN_ITEM = { type: 'string', minLength: 1, maxLength: 253, pattern: `^[^${forbidden}]+$` } as const;
const NAME_SCHEMA = { type: 'string', minLength: 1, maxLength: MAX_NAME_LENGTH, pattern: '^[^/\\u0000-\\u001f\\u007f]+$' } as const;

export const PLAY_DOMAIN_PARAM: ParamSpec = {
  name: 'play_domain', in: 'query', kind: 'single', required: true, trim: true,
  description: 'One play domain (host name; case-insensitive, IDNA allowed).',
  schema: DOMAIN_ITEM, refused: domainReason,
};
export const APP_PARAM: ParamSpec = {
  name: 'app', in: 'query', kind: 'single', trim: true,
  description: 'The first path segment of the request URI (application); case-sensitive; default all.',
  schema: NAME_SCHEMA, refused: (v) => nameReason('app', v, MAX_NAME_LENGTH),
};
export const STREAM_PARAM: ParamSpec = {
  name: 'stream', in: 'query', kind: 'single', trim: true,
  description: 'The stream name (second path segment of the request URI); case-sensitive; default all.',
  schema: NAME_SCHEMA, refused: (v) => nameReason('stream', v, MAX_NAME_LENGTH),
};
export const COUNTRY_PARAM: ParamSpec = {
  name: 'country', in: 'query', kind: 'array',
  description: 'Not supported yet: any non-empty value is a 400 naming country.',
  schema: { type: 'array', maxItems: 0 },
};
export const AUDIENCE_PROTOCOL_PARAM: ParamSpec = {
  name: 'protocol', in: 'query', kind: 'single', trim: true,
  description: 'Playback protocol; default all.', schema: { type: 'string', enum: [...AUDIENCE_PROTOCOLS] },
};
export const USER_INTERVAL_PARAM: ParamSpec = {
  name: 'interval', in: 'query', kind: 'single', trim: true,
  description: 'Slot length in seconds: 60 (default), or 300 (the largest of the slot\'s five minutes); slots aligned in UTC.',
  schema: { type: 'string', enum: USER_INTERVALS_S.map(String) },
  refused: (v) => `${quoted(v)} is not one of ${USER_INTERVALS_S.join(', ')} (seconds)`,
};
export const SERVICE_TYPE_PARAM: ParamSpec = {
  name: 'service_type', in: 'query', kind: 'single', trim: true,
  description: 'ALL (default) and Live: everything counted; LLL (ultra-low latency): zero values.',
  schema: { type: 'string', enum: [...SERVICE_TYPES] },
};
export const USERS_START_TIME_PARAM: ParamSpec = {
  ...START_TIME_PARAM,
  description: 'Window start, UTC, YYYY-MM-DDThh:mm:ssZ; default end_time minus 7 days; span at most 31 days; ' +
    'at most 1 year ago and within --audience-retention-days.',
};

/** ListUsersOfStream, in the order checked (the first invalid one is named). */
export const USERS_PARAMS: readonly ParamSpec[] = [
  PLAY_DOMAIN_PARAM, APP_PARAM, STREAM_PARAM, REGION_PARAM, ISP_PARAM, COUNTRY_PARAM, AUDIENCE_PROTOCOL_PARAM,
  USER_INTERVAL_PARAM, SERVICE_TYPE_PARAM, USERS_START_TIME_PARAM, END_TIME_PARAM,
];

export const PLAY_INFO_DOMAINS_PARAM: ParamSpec = {
  name: 'play_domains', in: 'query', kind: 'array',
  description: `Play domains, up to ${MAX_DOMAINS}, comma-separated and/or repeated; default every play domain of the project.`,
  schema: { type: 'array', maxItems: MAX_DOMAINS, items: DOMAIN_ITEM }, refused: domainReason,
};
export const PLAY_INFO_TIME_PARAM: ParamSpec = {
  name: 'time', in: 'query', kind: 'single', required: true,
  description: 'The minute, UTC, YYYY-MM-DDThh:mm:00Z (seconds must be 00); begun already; at most 7 days ago.',
  schema: { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:00Z$', examples: ['2026-11-23T07:00:00Z'] },
  refused: minuteReason,
};
/** ListPlayDomainStreamInfo, in the order checked. */
export const PLAY_INFO_PARAMS: readonly ParamSpec[] = [PLAY_INFO_DOMAINS_PARAM, PLAY_INFO_TIME_PARAM];

export const PORTRAIT_STREAM_PARAM: ParamSpec = {
  ...STREAM_PARAM, description: 'The stream name (any application); default the whole domain.',
};
export const PORTRAIT_TIME_PARAM: ParamSpec = {
  name: 'time', in: 'query', kind: 'single', required: true,
  description: 'The UTC day, YYYYMMDD: one of the last 31 days, not today.',
  schema: { type: 'string', pattern: '^[0-9]{8}$', examples: ['20261122'] }, refused: dayReason,
};
/** ShowStreamPortrait, in the order checked. */
export const PORTRAIT_PARAMS: readonly ParamSpec[] = [PLAY_DOMAIN_PARAM, PORTRAIT_STREAM_PARAM, PORTRAIT_TIME_PARAM];
