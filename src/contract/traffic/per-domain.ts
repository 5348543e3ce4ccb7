import { ApiError } from '../errors.js';
import type { RawQuery } from '../query.js';
import { SECOND } from '../time.js';
import { bandwidthBps } from './bandwidth.js';
import { parseTrafficFilters, resolveTrafficWindow, type TrafficFilters } from './params.js';
import { SLOT_5MIN_MS, slotsOf, type SlotRange } from './slots.js';

/** ListDomainTrafficSummary (total bytes per domain) or ListDomainBandwidthPeak (peak 5-minute bps per domain). */
export type PerDomainKind = 'summary' | 'peak';

/** A validated summary/peak request; `slots` are always the 5-minute slots intersecting the window. */
export interface PerDomainQuery extends TrafficFilters {
  kind: PerDomainKind;
  slots: SlotRange;
}

export interface SummaryResponse {
  traffic_list: Array<{ value: number; domain: string }>;
}
export interface PeakResponse {
  bandwidth_list: Array<{ value: number; domain: string }>;
}

/** Parses a summary/peak request: the shared filters, then start_time/end_time (no interval). */
export function parsePerDomainQuery(query: RawQuery, kind: PerDomainKind, nowMs: number, storedMs: number): PerDomainQuery | ApiError {
  const filters = parseTrafficFilters(query);
  if (filters instanceof ApiError) return filters;
  const window = resolveTrafficWindow(query, nowMs, storedMs);
  if (window instanceof ApiError) return window;
  return { ...filters, kind, slots: slotsOf(window, SLOT_5MIN_MS) };
}

/** Whether the store has to be asked for bytes: `service_type=LLL` has no data here (zero values). */
export const perDomainNeedsData = (q: Pick<PerDomainQuery, 'serviceType'>): boolean => q.serviceType !== 'LLL';

/** The entries, in order: the requested domains, or (none requested) `projectDomains` as given. */
export const entryDomains = (q: PerDomainQuery, projectDomains: readonly string[]): readonly string[] =>
  q.domains.length > 0 ? q.domains : projectDomains;

/** One domain's value from its dense 5-minute byte series: the total, or the largest slot's bps. */
export function perDomainValue(kind: PerDomainKind, bytes: ArrayLike<number> | undefined): number {
  if (!bytes) return 0;
  if (kind === 'summary') {
    let total = 0;
    for (let i = 0; i < bytes.length; i++) total += bytes[i] as number;
    return total;
  }
  let peak = 0;
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] as number) > peak) peak = bytes[i] as number;
  // bandwidth is monotone in bytes, so the busiest slot holds the peak
  return bandwidthBps(peak, SLOT_5MIN_MS / SECOND);
}

const listName = (kind: PerDomainKind): 'traffic_list' | 'bandwidth_list' => (kind === 'summary' ? 'traffic_list' : 'bandwidth_list');

/**
 * The response object: one entry per domain of `entryDomains`, 0 for a domain absent from `bytes`
 * (no traffic). `bytes` maps a domain to its dense 5-minute series over `q.slots`.
 */
export function shapePerDomain(
  q: PerDomainQuery, projectDomains: readonly string[], bytes: ReadonlyMap<string, ArrayLike<number>>,
): SummaryResponse | PeakResponse {
  const list = entryDomains(q, projectDomains).map((domain) => ({ value: perDomainValue(q.kind, bytes.get(domain)), domain }));
  return q.kind === 'summary' ? { traffic_list: list } : { bandwidth_list: list };
}

/** The same response as JSON text. */
export function perDomainJson(
  q: PerDomainQuery, projectDomains: readonly string[], bytes: ReadonlyMap<string, ArrayLike<number>>,
): string {
  const parts = entryDomains(q, projectDomains).map(
    (domain) => `{"value":${perDomainValue(q.kind, bytes.get(domain))},"domain":${JSON.stringify(domain)}}`,
  );
  return `{"${listName(q.kind)}":[${parts.join(',')}]}`;
}
