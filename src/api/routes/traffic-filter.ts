import type { SlotRange } from '../../contract/traffic/slots.js';
import type { TrafficFilters } from '../../contract/traffic/params.js';
import type { IpType } from '../../contract/traffic/values.js';
import type { TrafficFilter } from '../../store/traffic.js';

/** The store filter of a validated traffic request. */
export function trafficFilterOf(project: string, f: TrafficFilters, slots: SlotRange, ipType: IpType | undefined): TrafficFilter {
  return {
    project, domains: f.domains, app: f.app, stream: f.stream, protocol: f.protocol, regions: f.regions, isps: f.isps,
    ipType, slotMs: slots.slotMs, from: slots.from, to: slots.to,
  };
}

/** A response-cache key covering every field the answer depends on. */
export const trafficCacheKey = (endpoint: string, filter: TrafficFilter, serviceType: string): string =>
  `tr\u0000${endpoint}\u0000${serviceType}\u0000${JSON.stringify(filter)}`;
