import { FORBIDDEN, normalizeDomain } from '../domain.js';
import { ApiError, invalidParameter, quoted } from '../errors.js';
import { ISP_PARAM, REGION_PARAM } from '../httpcodes.js';
import { present, readArray, readSingle, type ParamSpec } from '../params.js';
import type { RawQuery } from '../query.js';
import { domainReason, nameReason } from '../reasons.js';
import { SECOND } from '../time.js';
import { slotsOf, SLOT_5MIN_MS, type SlotRange } from '../traffic/slots.js';
import { INTERVALS_S, isStreamName, MAX_NAME_LENGTH, parseInterval, type IntervalSeconds } from '../traffic/values.js';
import { isIsp, isRegion, type Isp, type Region } from '../values.js';
import { END_TIME_PARAM, resolveWindow, START_TIME_PARAM, type TimeWindow, type WindowRule } from '../window.js';
import {
  BITRATE_TYPES, DEFAULT_PAGE_LIMIT, HISTORY_WINDOW, isBitrateType, isUpBandwidthType, MAX_ORIGIN_DOMAINS, MAX_PAGE_LIMIT,
  MAX_PAGE_OFFSET, SERIES_WINDOW, SLOT_WINDOW, UP_BANDWIDTH_TYPES, type BitrateType, type UpBandwidthType,
} from './values.js';

/*
 * The parameters of the eight publish-side operations (origin-api.md), declared once: the routes read them
 * through these functions and GET /openapi.json publishes the same declarations. Each parse function checks
 * its parameters in the order of its *_PARAMS list; the first one at fault is the one named in the 400.
 */

const forbidden = FORBIDDEN.source.slice(1, -1);
const DOMAIN_ITEM = { type: 'string', minLength: 1, maxLength: 253, pattern: `^[^${forbidden}]+$` } as const;

const domainList = (name: string, what: string): ParamSpec => ({
  name, in: 'query', kind: 'array', required: true,
  description: `${what}, 1 to ${MAX_ORIGIN_DOMAINS} distinct ones, comma-separated and/or repeated; case-insensitive, IDNA allowed.`,
  schema: { type: 'array', minItems: 1, maxItems: MAX_ORIGIN_DOMAINS, items: DOMAIN_ITEM }, refused: domainReason,
});
const oneDomain = (name: string): ParamSpec => ({
  name, in: 'query', kind: 'single', required: true, trim: true,
  description: 'The publish domain (the host of the publisher\'s tcUrl); case-insensitive, IDNA allowed.',
  schema: DOMAIN_ITEM, refused: domainReason,
});
const NAME_SCHEMA = { type: 'string', minLength: 1, maxLength: MAX_NAME_LENGTH, pattern: '^[^/\\u0000-\\u001f\\u007f]+$' } as const;
const nameParam = (name: 'app' | 'stream', required: boolean): ParamSpec => ({
  name, in: 'query', kind: 'single', trim: true, ...(required ? { required } : {}),
  description: `${name === 'app' ? 'Application' : 'Stream'} name; case-sensitive${required ? '' : '; default all'}.`,
  schema: NAME_SCHEMA, refused: (v) => nameReason(name, v, MAX_NAME_LENGTH),
});

const offsetReason = (v: string): string =>
  `${quoted(v)} is not accepted: offset is a page number, an integer from 0 to ${MAX_PAGE_OFFSET} (default 0)`;
const limitReason = (v: string): string =>
  `${quoted(v)} is not accepted: limit must be an integer from 1 to ${MAX_PAGE_LIMIT} (default ${DEFAULT_PAGE_LIMIT})`;
const intervalReason = (v: string): string => `${quoted(v)} is not one of ${INTERVALS_S.join(', ')} (seconds)`;
const upTypeReason = (v: string): string =>
  `${quoted(v)} is not accepted: type is ${UP_BANDWIDTH_TYPES.join(', ')} (relayed input) or left out (publishers)`;
const bitrateTypeReason = (v: string): string => `${quoted(v)} is not one of ${BITRATE_TYPES.join(', ')} (default VIDEO)`;

export const OFFSET_PARAM: ParamSpec = {
  name: 'offset', in: 'query', kind: 'single', trim: true,
  description: `Page number, from 0 (default 0; at most ${MAX_PAGE_OFFSET}); a page past the last is empty.`,
  schema: { type: 'string', pattern: '^(0|[1-9][0-9]{0,6})$' }, refused: (v) => offsetReason(v),
};
export const LIMIT_PARAM: ParamSpec = {
  name: 'limit', in: 'query', kind: 'single', trim: true,
  description: `Entries per page, 1..${MAX_PAGE_LIMIT} (default ${DEFAULT_PAGE_LIMIT}).`,
  schema: { type: 'string', pattern: '^[1-9][0-9]{0,2}$' }, refused: (v) => limitReason(v),
};
const INTERVAL_PARAM: ParamSpec = {
  name: 'interval', in: 'query', kind: 'single', trim: true,
  description: 'Slot length in seconds (default 300); slots aligned in UTC.', schema: { type: 'string', enum: INTERVALS_S.map(String) },
  refused: (v) => intervalReason(v),
};
const UP_TYPE_PARAM: ParamSpec = {
  name: 'type', in: 'query', kind: 'single', trim: true,
  description: 'RELAY: relayed input (origin pull or push between servers); absent: publishers.',
  schema: { type: 'string', enum: [...UP_BANDWIDTH_TYPES] },
  refused: (v) => upTypeReason(v),
};
const BITRATE_TYPE_PARAM: ParamSpec = {
  name: 'type', in: 'query', kind: 'single', trim: true,
  description: 'VIDEO (default) or AUDIO bitrate.', schema: { type: 'string', enum: [...BITRATE_TYPES] },
  refused: (v) => bitrateTypeReason(v),
};
const windowParams = (start: string): ParamSpec[] => [{ ...START_TIME_PARAM, description: start }, END_TIME_PARAM];

export const ONLINE_PARAMS: readonly ParamSpec[] = [oneDomain('publish_domain'), nameParam('app', false), nameParam('stream', false), OFFSET_PARAM, LIMIT_PARAM];
export const HISTORY_PARAMS: readonly ParamSpec[] = [
  domainList('domain', 'Publish domains'), nameParam('app', false), nameParam('stream', false), OFFSET_PARAM, LIMIT_PARAM,
  ...windowParams('Window start, UTC, YYYY-MM-DDThh:mm:ssZ; default end_time minus 1 day; span at most 1 day; at most 1 year ago.'),
];
const SLOT_WINDOW_TEXT = 'Window start, UTC, YYYY-MM-DDThh:mm:ssZ; default end_time minus 7 days; span at most 31 days; at most 1 year ago.';
export const STREAM_COUNT_PARAMS: readonly ParamSpec[] = [domainList('publish_domains', 'Publish domains'), ...windowParams(SLOT_WINDOW_TEXT)];
export const UP_BANDWIDTH_PARAMS: readonly ParamSpec[] = [
  domainList('publish_domains', 'Publish domains'), nameParam('app', false), nameParam('stream', false), REGION_PARAM, ISP_PARAM,
  INTERVAL_PARAM, UP_TYPE_PARAM, ...windowParams(SLOT_WINDOW_TEXT),
];
const SERIES_WINDOW_TEXT = 'Window start, UTC, YYYY-MM-DDThh:mm:ssZ; default end_time minus 1 hour; span at most 1 day; at most 31 days ago.';
const seriesParams = (domain: 'domain' | 'publish_domain', extra: ParamSpec[]): ParamSpec[] =>
  [oneDomain(domain), nameParam('app', true), nameParam('stream', true), ...extra, ...windowParams(SERIES_WINDOW_TEXT)];
export const BITRATE_PARAMS: readonly ParamSpec[] = seriesParams('domain', [BITRATE_TYPE_PARAM]);
export const FRAMERATE_PARAMS: readonly ParamSpec[] = seriesParams('domain', []);
export const STREAM_DETAIL_PARAMS: readonly ParamSpec[] = seriesParams('publish_domain', []);
export const UP_STREAM_DETAIL_PARAMS: readonly ParamSpec[] = seriesParams('publish_domain', []);

/** One stream of one publish domain, as the per-stream operations name it. */
export interface StreamKey {
  domain: string;
  app: string;
  stream: string;
}

/** A page: entries [page x limit, page x limit + limit) of the ordered list. */
export interface Page {
  page: number;
  limit: number;
}

export interface OnlineQuery extends Page {
  domain: string;
  app: string | undefined;
  stream: string | undefined;
}

export interface HistoryQuery extends Page {
  domains: string[];
  app: string | undefined;
  stream: string | undefined;
  window: TimeWindow;
}

export interface StreamCountQuery {
  domains: string[];
  slots: SlotRange;
}

export interface UpBandwidthQuery {
  domains: string[];
  app: string | undefined;
  stream: string | undefined;
  regions: Region[];
  isps: Isp[];
  interval: IntervalSeconds;
  /** RELAY: relayed input; publish: publishers (the default). */
  type: 'publish' | 'relay';
  slots: SlotRange;
}

export type SeriesKind = 'bitrate' | 'framerate' | 'detail' | 'upstream';

/** A per-stream series request: seconds [start, end), end clamped to now (as the carousel endpoint does). */
export interface SeriesQuery extends StreamKey {
  kind: SeriesKind;
  /** bitrate only (VIDEO otherwise). */
  type: BitrateType;
  start: number;
  end: number;
}

const specOf = (list: readonly ParamSpec[], name: string): ParamSpec => {
  const s = list.find((p) => p.name === name);
  if (!s) throw new Error(`no parameter ${name}`);
  return s;
};

function domains(query: RawQuery, spec: ParamSpec): string[] | ApiError {
  return readArray(query, spec, normalizeDomain);
}

function domain(query: RawQuery, spec: ParamSpec): string | ApiError {
  const v = present(readSingle(query, spec), spec);
  if (v instanceof ApiError) return v;
  return normalizeDomain(v) ?? invalidParameter(spec.name, domainReason(v));
}

function name(query: RawQuery, spec: ParamSpec): string | undefined | ApiError {
  const v = readSingle(query, spec);
  if (v instanceof ApiError) return v;
  if (v === undefined || v === '') return spec.required ? invalidParameter(spec.name, 'required, and not given') : undefined;
  return isStreamName(v) ? v : invalidParameter(spec.name, nameReason(spec.name, v, MAX_NAME_LENGTH));
}

function page(query: RawQuery, list: readonly ParamSpec[]): Page | ApiError {
  const offset = readSingle(query, specOf(list, 'offset'));
  if (offset instanceof ApiError) return offset;
  const limit = readSingle(query, specOf(list, 'limit'));
  if (limit instanceof ApiError) return limit;
  const p = offset === undefined ? 0 : Number(offset);
  const l = limit === undefined ? DEFAULT_PAGE_LIMIT : Number(limit);
  if (p > MAX_PAGE_OFFSET) return invalidParameter('offset', offsetReason(offset ?? ''));
  if (l < 1 || l > MAX_PAGE_LIMIT) return invalidParameter('limit', limitReason(limit ?? ''));
  return { page: p, limit: l };
}

function windowOf(query: RawQuery, rule: WindowRule, nowMs: number, storedMs: number | undefined): TimeWindow | ApiError {
  const r = storedMs === undefined ? rule : { ...rule, maxLookbackMs: Math.min(rule.maxLookbackMs, storedMs) };
  return resolveWindow(query, r, nowMs);
}

/** The optional app and stream names of an operation's parameter list. */
function appStream(query: RawQuery, list: readonly ParamSpec[]): { app: string | undefined; stream: string | undefined } | ApiError {
  const app = name(query, specOf(list, 'app'));
  if (app instanceof ApiError) return app;
  const stream = name(query, specOf(list, 'stream'));
  if (stream instanceof ApiError) return stream;
  return { app, stream };
}

/** ListLiveStreamsOnline: publish_domain, app, stream, offset, limit. */
export function parseOnlineQuery(query: RawQuery): OnlineQuery | ApiError {
  const d = domain(query, ONLINE_PARAMS[0] as ParamSpec);
  if (d instanceof ApiError) return d;
  const names = appStream(query, ONLINE_PARAMS);
  if (names instanceof ApiError) return names;
  const { app, stream } = names;
  const p = page(query, ONLINE_PARAMS);
  if (p instanceof ApiError) return p;
  return { domain: d, app, stream, ...p };
}

/** ListHistoryStreams: domain[], app, stream, offset, limit, start_time, end_time. */
export function parseHistoryQuery(query: RawQuery, nowMs: number, storedMs?: number): HistoryQuery | ApiError {
  const ds = domains(query, specOf(HISTORY_PARAMS, 'domain'));
  if (ds instanceof ApiError) return ds;
  const names = appStream(query, HISTORY_PARAMS);
  if (names instanceof ApiError) return names;
  const { app, stream } = names;
  const p = page(query, HISTORY_PARAMS);
  if (p instanceof ApiError) return p;
  const window = windowOf(query, HISTORY_WINDOW, nowMs, storedMs);
  if (window instanceof ApiError) return window;
  return { domains: ds, app, stream, ...p, window };
}

/** ShowStreamCount: publish_domains[], start_time, end_time; 5-minute slots. */
export function parseStreamCountQuery(query: RawQuery, nowMs: number, storedMs?: number): StreamCountQuery | ApiError {
  const ds = domains(query, specOf(STREAM_COUNT_PARAMS, 'publish_domains'));
  if (ds instanceof ApiError) return ds;
  const window = windowOf(query, SLOT_WINDOW, nowMs, storedMs);
  if (window instanceof ApiError) return window;
  return { domains: ds, slots: slotsOf(window, SLOT_5MIN_MS) };
}

/** ShowUpBandwidth: publish_domains[], app, stream, region[], isp[], interval, type, start_time, end_time. */
export function parseUpBandwidthQuery(query: RawQuery, nowMs: number, storedMs?: number): UpBandwidthQuery | ApiError {
  const ds = domains(query, specOf(UP_BANDWIDTH_PARAMS, 'publish_domains'));
  if (ds instanceof ApiError) return ds;
  const names = appStream(query, UP_BANDWIDTH_PARAMS);
  if (names instanceof ApiError) return names;
  const { app, stream } = names;
  const regions = readArray(query, REGION_PARAM);
  if (regions instanceof ApiError) return regions;
  const badRegion = regions.find((r) => !isRegion(r));
  if (badRegion !== undefined) return invalidParameter('region', `${quoted(badRegion)} is not a region code`);
  const isps = readArray(query, ISP_PARAM);
  if (isps instanceof ApiError) return isps;
  const badIsp = isps.find((i) => !isIsp(i));
  if (badIsp !== undefined) return invalidParameter('isp', `${quoted(badIsp)} is not an isp code`);
  const intervalText = readSingle(query, INTERVAL_PARAM);
  if (intervalText instanceof ApiError) return intervalText;
  const interval = intervalText === undefined ? 300 : parseInterval(intervalText);
  if (interval === undefined) return invalidParameter('interval', intervalReason(intervalText ?? ''));
  const type = readSingle(query, UP_TYPE_PARAM);
  if (type instanceof ApiError) return type;
  if (type !== undefined && !isUpBandwidthType(type)) return invalidParameter('type', upTypeReason(type));
  const window = windowOf(query, SLOT_WINDOW, nowMs, storedMs);
  if (window instanceof ApiError) return window;
  return {
    domains: ds, app, stream, regions: [...regions].sort() as Region[], isps: [...isps].sort() as Isp[], interval,
    type: (type as UpBandwidthType | undefined) === 'RELAY' ? 'relay' : 'publish', slots: slotsOf(window, interval * SECOND),
  };
}

const SERIES_PARAMS: Record<SeriesKind, readonly ParamSpec[]> = {
  bitrate: BITRATE_PARAMS, framerate: FRAMERATE_PARAMS, detail: STREAM_DETAIL_PARAMS, upstream: UP_STREAM_DETAIL_PARAMS,
};

/** The four per-stream series: (publish_)domain, app, stream, [type], start_time, end_time. */
export function parseSeriesQuery(query: RawQuery, kind: SeriesKind, nowMs: number, storedMs?: number): SeriesQuery | ApiError {
  const list = SERIES_PARAMS[kind];
  const d = domain(query, list[0] as ParamSpec);
  if (d instanceof ApiError) return d;
  const names = appStream(query, list);
  if (names instanceof ApiError) return names;
  const { app, stream } = names;
  let type: BitrateType = 'VIDEO';
  if (kind === 'bitrate') {
    const t = readSingle(query, BITRATE_TYPE_PARAM);
    if (t instanceof ApiError) return t;
    if (t !== undefined) {
      if (!isBitrateType(t)) return invalidParameter('type', bitrateTypeReason(t));
      type = t;
    }
  }
  const window = windowOf(query, SERIES_WINDOW, nowMs, storedMs);
  if (window instanceof ApiError) return window;
  const end = Math.max(window.start, Math.min(window.end, window.now));
  return { kind, domain: d, app: app as string, stream: stream as string, type, start: window.start, end };
}
