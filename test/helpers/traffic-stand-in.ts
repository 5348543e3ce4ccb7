import type { StoredIpType, StoredProtocol } from '../../src/contract/traffic/values.js';
import type { Isp, Region } from '../../src/contract/values.js';
import { ipTypeOf } from '../../src/ingest/traffic/ip-type.js';
import { streamOfUri } from '../../src/ingest/traffic/stream-uri.js';
import type { TrafficFilter, TrafficQuery } from '../../src/store/traffic.js';

/** One counted request as the traffic cube will hold it (before 5-minute bucketing). */
export interface TrafficRecord {
  project: string;
  domain: string;
  app: string;
  stream: string;
  protocol: StoredProtocol;
  region: Region;
  isp: Isp;
  ipType: StoredIpType;
  time: number;
  bytes: number;
}

/** A logged request: derived into a TrafficRecord with the real per-line derivation (URI, address family). */
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

export function recordOf(r: LoggedRequest): TrafficRecord {
  const { app, stream, protocol } = streamOfUri(r.uri);
  return {
    project: r.project ?? 'p1', domain: r.domain, app, stream, protocol,
    region: r.region ?? 'OT', isp: r.isp ?? 'OTHER', ipType: ipTypeOf(r.ip), time: r.time, bytes: r.bytes,
  };
}

const matches = (r: TrafficRecord, f: TrafficFilter): boolean =>
  r.project === f.project &&
  (f.domains.length === 0 || f.domains.includes(r.domain)) &&
  (f.app === undefined || r.app === f.app) &&
  (f.stream === undefined || r.stream === f.stream) &&
  (f.protocol === undefined || r.protocol === f.protocol) &&
  (f.regions.length === 0 || f.regions.includes(r.region)) &&
  (f.isps.length === 0 || f.isps.includes(r.isp)) &&
  (f.ipType === undefined || r.ipType === f.ipType) &&
  r.time >= f.from && r.time < f.to;

/**
 * STAND-IN, test code only, until the traffic cube (issue 14, on the storage engine v2 block
 * mechanism of issue 12) lands: an in-memory TrafficQuery that scans a list of records. It lets
 * the route tests prove validation, envelope, auth and rendering over real HTTP; it proves
 * nothing about storage. Replace it by the real stores (SQLite and ClickHouse) when they exist.
 */
export class InMemoryTrafficStandIn implements TrafficQuery {
  readonly records: TrafficRecord[] = [];
  /** Every filter the routes asked for, to check what reached the store. */
  readonly asked: TrafficFilter[] = [];

  add(...records: TrafficRecord[]): this {
    this.records.push(...records);
    return this;
  }

  private bucket(f: TrafficFilter, into: Float64Array, r: TrafficRecord): void {
    const i = Math.floor((r.time - f.from) / f.slotMs);
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
