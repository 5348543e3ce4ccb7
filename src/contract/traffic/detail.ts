import { ApiError, invalidParameter, quoted } from '../errors.js';
import { singleReason } from '../reasons.js';
import { singleParam, type RawQuery } from '../query.js';
import { SECOND, formatUtcSecond } from '../time.js';
import { bandwidthBps } from './bandwidth.js';
import { optionalChoice, parseTrafficFilters, resolveTrafficWindow, type TrafficFilters } from './params.js';
import { slotsOf, type SlotRange } from './slots.js';
import { INTERVALS_S, IP_TYPES, isIpType, parseInterval, type IntervalSeconds, type IpType } from './values.js';

/** ListDomainTrafficDetail (bytes per slot) or ListBandwidthDetail (average bps per slot). */
export type DetailKind = 'traffic' | 'bandwidth';

/** A validated detail request. */
export interface TrafficDetailQuery extends TrafficFilters {
  kind: DetailKind;
  interval: IntervalSeconds;
  /** bandwidth/detail only. */
  ipType: IpType | undefined;
  slots: SlotRange;
}

export interface DetailResponse {
  data_list: Array<{ value: number; time: string }>;
}

/**
 * Parses a detail request. Checks, in order: the shared filters (see parseTrafficFilters), interval,
 * then for bandwidth ip_type and country, then start_time/end_time. `storedMs`: how far back data is kept.
 */
export function parseTrafficDetailQuery(
  query: RawQuery, kind: DetailKind, nowMs: number, storedMs: number,
): TrafficDetailQuery | ApiError {
  const filters = parseTrafficFilters(query);
  if (filters instanceof ApiError) return filters;

  const intervalParam = singleParam(query, 'interval');
  if (!intervalParam.ok) return invalidParameter('interval', singleReason(intervalParam.reason));
  let interval: IntervalSeconds = 300;
  if (intervalParam.value !== undefined) {
    const parsed = parseInterval(intervalParam.value);
    if (parsed === undefined) return invalidParameter('interval', `${quoted(intervalParam.value)} is not one of ${INTERVALS_S.join(', ')} (seconds)`);
    interval = parsed;
  }

  let ipType: IpType | undefined;
  if (kind === 'bandwidth') {
    const t = optionalChoice(query, 'ip_type', isIpType, IP_TYPES);
    if (t instanceof ApiError) return t;
    ipType = t;
    // Not supported (traffic-api.md): any non-empty value is refused; empty means absent, as everywhere.
    const country = singleParam(query, 'country');
    if (!country.ok) return invalidParameter('country', singleReason(country.reason));
    if (country.value !== undefined) return invalidParameter('country', 'not supported here: leave country out (or empty)');
  }

  const window = resolveTrafficWindow(query, nowMs, storedMs);
  if (window instanceof ApiError) return window;
  return { ...filters, kind, interval, ipType, slots: slotsOf(window, interval * SECOND) };
}

/** Whether the store has to be asked at all: `service_type=LLL` has no data here (zero values). */
export const detailNeedsData = (q: Pick<TrafficDetailQuery, 'serviceType'>): boolean => q.serviceType !== 'LLL';

/** Slot i's value: bytes, or bytes x 8 / interval seconds rounded half-up. */
const valueOf = (q: TrafficDetailQuery, bytes: number): number =>
  q.kind === 'traffic' ? bytes : bandwidthBps(bytes, q.interval);

/** The response object from a dense array: `bytes[i]` = bytes of slot `q.slots.from + i x interval`. */
export function shapeDetail(q: TrafficDetailQuery, bytes: ArrayLike<number>): DetailResponse {
  const data_list: DetailResponse['data_list'] = new Array(q.slots.count);
  for (let i = 0; i < q.slots.count; i++) {
    data_list[i] = { value: valueOf(q, bytes[i] ?? 0), time: formatUtcSecond(q.slots.from + i * q.slots.slotMs) };
  }
  return { data_list };
}

/** The same response as JSON text, built directly (31 days at 300 s is 8928 entries). */
export function detailJson(q: TrafficDetailQuery, bytes: ArrayLike<number>): string {
  const parts: string[] = new Array(q.slots.count);
  for (let i = 0; i < q.slots.count; i++) {
    parts[i] = `{"value":${valueOf(q, bytes[i] ?? 0)},"time":"${formatUtcSecond(q.slots.from + i * q.slots.slotMs)}"}`;
  }
  return `{"data_list":[${parts.join(',')}]}`;
}
