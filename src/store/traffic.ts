import type { IpType, Protocol, StoredIpType, StoredProtocol } from '../contract/traffic/values.js';
import type { Isp, Region } from '../contract/values.js';
import type { QueryOptions } from './types.js';
import type { DetailKind } from '../contract/traffic/detail.js';

/**
 * What the four traffic/bandwidth endpoints ask of the traffic cube (domain, app, stream, protocol,
 * region, isp, ip type) -> (requests, bytes) at 5-minute slots. The contract has already applied
 * every rule of traffic-api.md: app/stream only come with domains, service_type is handled above.
 */
export interface TrafficFilter {
  project: string;
  /** Play domains (normalized); empty: every domain of the project. */
  domains: string[];
  app: string | undefined;
  stream: string | undefined;
  protocol: Protocol | undefined;
  /** Empty: any. */
  regions: Region[];
  isps: Isp[];
  ipType: IpType | undefined;
  /** Slot length, ms: 300_000, 3_600_000 or 86_400_000; `from` and `to` are aligned to it. */
  slotMs: number;
  /** Inclusive, epoch ms. */
  from: number;
  /** Exclusive, epoch ms. */
  to: number;
}

/**
 * The read side of the traffic cube. Byte series are dense: index i = slot `from + i * slotMs`.
 * `options.signal` aborts when the client has gone (see QueryOptions).
 */
export interface TrafficQuery {
  /** Bytes per slot, summed over every cell the filter selects; length (to - from) / slotMs. */
  trafficSeries(filter: TrafficFilter, options?: QueryOptions): Promise<Float64Array>;
  /** Bytes per slot per domain; a domain without traffic in the window may be left out. */
  trafficByDomain(filter: TrafficFilter, options?: QueryOptions): Promise<Map<string, Float64Array>>;
  /** Every play domain the project has stored traffic for (within retention), ascending. */
  trafficDomains(project: string, options?: QueryOptions): Promise<string[]>;
  /**
   * Optional: the whole detail answer as bytes (`renderDetail` over trafficSeries), rendered where
   * the store reads (the SQLite store's read workers), so the main thread only sends it.
   */
  trafficDetailBody?(filter: TrafficFilter, kind: DetailKind, options?: QueryOptions): Promise<Uint8Array>;
  /** Optional: a body from trafficDetailBody has been sent whole; the store may reuse its memory. */
  releaseBody?(bytes: Uint8Array): void;
}

/**
 * One cell of the traffic cube as ingest produces it: requests and bytes of one (project, domain,
 * app, stream, protocol, region, isp, ip type) in one 5-minute slot. app = stream = '' with
 * protocol 'other' for requests whose URI names no stream (see src/ingest/traffic/stream-uri.ts).
 */
export interface TrafficRow {
  project: string;
  domain: string;
  app: string;
  stream: string;
  protocol: StoredProtocol;
  region: Region;
  isp: Isp;
  ipType: StoredIpType;
  /** Slot start, epoch ms, a multiple of 300 000. */
  slot: number;
  requests: number;
  bytes: number;
}
