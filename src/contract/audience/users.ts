import { normalizeDomain } from '../domain.js';
import { ApiError, invalidParameter, quoted } from '../errors.js';
import { ISP_PARAM, REGION_PARAM } from '../httpcodes.js';
import { readArray, readSingle } from '../params.js';
import { domainReason } from '../reasons.js';
import type { RawQuery } from '../query.js';
import { DAY, SECOND, formatUtcSecond } from '../time.js';
import { slotsOf, type SlotRange } from '../traffic/slots.js';
import type { ServiceType } from '../traffic/values.js';
import type { Isp, Region } from '../values.js';
import { resolveWindow, type WindowRule } from '../window.js';
import {
  APP_PARAM, AUDIENCE_PROTOCOL_PARAM, COUNTRY_PARAM, PLAY_DOMAIN_PARAM, SERVICE_TYPE_PARAM, STREAM_PARAM, USER_INTERVAL_PARAM,
} from './params.js';
import { parseUserInterval, type AudienceProtocol, type UserIntervalSeconds } from './values.js';

export const USERS_MAX_SPAN_MS = 31 * DAY;
export const USERS_MAX_LOOKBACK_MS = 365 * DAY;
export const USERS_DEFAULT_SPAN_MS = 7 * DAY;

/**
 * How far back the audience cube keeps data, ms: domain-level minutes (domain, protocol, region, isp)
 * and stream-level minutes (with app and stream), which may be kept shorter.
 */
export interface AudienceStored {
  domainMs: number;
  streamMs: number;
}

/** A validated ListUsersOfStream request. */
export interface UsersQuery {
  domain: string;
  app: string | undefined;
  stream: string | undefined;
  /** Sorted; empty: any. */
  regions: Region[];
  isps: Isp[];
  protocol: AudienceProtocol | undefined;
  interval: UserIntervalSeconds;
  serviceType: ServiceType;
  /** The answer's slots (interval x 1000 ms); at 300 s each value is the largest of the slot's five minutes. */
  slots: SlotRange;
}

export interface UsersResponse {
  data_list: Array<{ value: number; time: string }>;
}

/** A parameter's value, or its 400 thrown (parseUsersQuery returns it). */
function valid<T>(v: T | ApiError): T {
  if (v instanceof ApiError) throw v;
  return v;
}

/** `play_domain`, required, normalized; an ApiError naming it when absent or malformed. */
export function readPlayDomain(query: RawQuery): string | ApiError {
  const text = readSingle(query, PLAY_DOMAIN_PARAM);
  if (text instanceof ApiError) return text;
  if (text === undefined) return invalidParameter(PLAY_DOMAIN_PARAM.name, 'required, and not given');
  return normalizeDomain(text) ?? invalidParameter(PLAY_DOMAIN_PARAM.name, domainReason(text));
}

/**
 * Parses ListUsersOfStream. Checks, in order: play_domain, app, stream, region, isp, country,
 * protocol, interval, service_type, then start_time/end_time (audience-api.md). The look-back is
 * at most 1 year and what is stored at the level the filters need (app or stream: stream-level).
 */
export function parseUsersQuery(query: RawQuery, nowMs: number, stored: AudienceStored): UsersQuery | ApiError {
  const domain = readPlayDomain(query);
  if (domain instanceof ApiError) return domain;
  let app, stream, regions, isps, protocol, intervalText, serviceType;
  try {
    // In the list's order: the first malformed parameter is the 400.
    app = valid(readSingle(query, APP_PARAM));
    stream = valid(readSingle(query, STREAM_PARAM));
    regions = valid(readArray(query, REGION_PARAM));
    isps = valid(readArray(query, ISP_PARAM));
    valid(readArray(query, COUNTRY_PARAM));
    protocol = valid(readSingle(query, AUDIENCE_PROTOCOL_PARAM));
    intervalText = valid(readSingle(query, USER_INTERVAL_PARAM));
    if (intervalText !== undefined && parseUserInterval(intervalText) === undefined) {
      throw invalidParameter(USER_INTERVAL_PARAM.name, `${quoted(intervalText)} is not one of 60, 300 (seconds)`);
    }
    serviceType = valid(readSingle(query, SERVICE_TYPE_PARAM));
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  const interval = intervalText === undefined ? 60 : (parseUserInterval(intervalText) as UserIntervalSeconds);

  const storedMs = app !== undefined || stream !== undefined ? stored.streamMs : stored.domainMs;
  const rule: WindowRule = {
    maxSpanMs: USERS_MAX_SPAN_MS, maxLookbackMs: Math.min(USERS_MAX_LOOKBACK_MS, storedMs), defaultSpanMs: USERS_DEFAULT_SPAN_MS,
  };
  const window = resolveWindow(query, rule, nowMs);
  if (window instanceof ApiError) return window;
  const slots = slotsOf(window, interval * SECOND);
  return {
    domain, app, stream,
    regions: [...regions].sort() as Region[],
    isps: [...isps].sort() as Isp[],
    protocol: protocol as AudienceProtocol | undefined,
    interval,
    serviceType: (serviceType ?? 'ALL') as ServiceType,
    slots,
  };
}

/** Whether the store has to be asked at all: `service_type=LLL` has no data here (zero values). */
export const usersNeedData = (q: Pick<UsersQuery, 'serviceType' | 'slots'>): boolean => q.serviceType !== 'LLL' && q.slots.count > 0;

/** The ListUsersOfStream answer from slot values (`values[i]` = online viewers of slot `q.slots.from + i x slotMs`; missing: 0). */
export function shapeUsers(q: Pick<UsersQuery, 'slots'>, values: ArrayLike<number>): UsersResponse {
  const data_list: UsersResponse['data_list'] = new Array(q.slots.count);
  for (let i = 0; i < q.slots.count; i++) {
    data_list[i] = { value: values[i] ?? 0, time: formatUtcSecond(q.slots.from + i * q.slots.slotMs) };
  }
  return { data_list };
}

/** The same answer as JSON text, built directly. */
export function usersJson(q: Pick<UsersQuery, 'slots'>, values: ArrayLike<number>): string {
  const parts: string[] = new Array(q.slots.count);
  for (let i = 0; i < q.slots.count; i++) {
    parts[i] = `{"value":${values[i] ?? 0},"time":"${formatUtcSecond(q.slots.from + i * q.slots.slotMs)}"}`;
  }
  return `{"data_list":[${parts.join(',')}]}`;
}
