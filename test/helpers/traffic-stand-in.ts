import type { Isp, Region } from '../../src/contract/values.js';
import { ipTypeOf } from '../../src/ingest/traffic/ip-type.js';
import { streamOfUri } from '../../src/ingest/traffic/stream-uri.js';
import { TRAFFIC_SLOT_MS } from '../../src/ingest/traffic/traffic-counter.js';
import type { TrafficFilter, TrafficQuery, TrafficRow } from '../../src/store/traffic.js';

/** A logged request: derived into a TrafficRow with the real per-line derivation (URI, address family). */
export interface LoggedRequest {
  project?: string;
  domain: string;
  uri: string;
  ip: string;
  time: number;
  bytes: number;
  region?: Region;
  isp?: Isp;
}

export function recordOf(r: LoggedRequest): TrafficRow {
  const { app, stream, protocol } = streamOfUri(r.uri);
  return {
    project: r.project ?? 'p1', domain: r.domain, app, stream, protocol, region: r.region ?? 'OT', isp: r.isp ?? 'OTHER',
    ipType: ipTypeOf(r.ip), slot: Math.floor(r.time / TRAFFIC_SLOT_MS) * TRAFFIC_SLOT_MS, requests: 1, bytes: r.bytes,
  };
}

const matches = (r: TrafficRow, f: TrafficFilter): boolean =>
  r.project === f.project &&
  (f.domains.length === 0 || f.domains.includes(r.domain)) &&
  (f.app === undefined || r.app === f.app) &&
  (f.stream === undefined || r.stream === f.stream) &&
  (f.protocol === undefined || r.protocol === f.protocol) &&
  (f.regions.length === 0 || f.regions.includes(r.region)) &&
  (f.isps.length === 0 || f.isps.includes(r.isp)) &&
  (f.ipType === undefined || r.ipType === f.ipType) &&
  r.slot >= f.from && r.slot < f.to;

/**
 * STAND-IN, test code only, until the traffic cube (issue 14, on the storage engine v2 block
 * mechanism of issue 12) lands: an in-memory TrafficQuery that scans a list of TrafficRows (the
 * cells ingest will write). It lets
 * the route tests prove validation, envelope, auth and rendering over real HTTP; it proves
 * nothing about storage. Replace it by the real stores (SQLite and ClickHouse) when they exist.
 */
export class InMemoryTrafficStandIn implements TrafficQuery {
  readonly records: TrafficRow[] = [];
  /** Every filter the routes asked for, to check what reached the store. */
  readonly asked: TrafficFilter[] = [];

  add(...records: TrafficRow[]): this {
    this.records.push(...records);
    return this;
  }

  private bucket(f: TrafficFilter, into: Float64Array, r: TrafficRow): void {
    const i = Math.floor((r.slot - f.from) / f.slotMs);
    into[i] = (into[i] as number) + r.bytes;
  }

  async trafficSeries(f: TrafficFilter): Promise<Float64Array> {
    this.asked.push(f);
    const out = new Float64Array((f.to - f.from) / f.slotMs);
    for (const r of this.records) if (matches(r, f)) this.bucket(f, out, r);
    return out;
  }

  async trafficByDomain(f: TrafficFilter): Promise<Map<string, Float64Array>> {
    this.asked.push(f);
    const out = new Map<string, Float64Array>();
    for (const r of this.records) {
      if (!matches(r, f)) continue;
      let series = out.get(r.domain);
      if (!series) out.set(r.domain, (series = new Float64Array((f.to - f.from) / f.slotMs)));
      this.bucket(f, series, r);
    }
    return out;
  }

  async trafficDomains(project: string): Promise<string[]> {
    return [...new Set(this.records.filter((r) => r.project === project).map((r) => r.domain))].sort();
  }
}
