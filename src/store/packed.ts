import type { StoredIpType, StoredProtocol } from '../contract/traffic/values.js';
import { ISPS, REGIONS, type Isp, type Region } from '../contract/values.js';
import type { AudienceCells } from './audience.js';
import type { TrafficRow } from './traffic.js';
import type { CountRow } from './types.js';

/**
 * Cells in columns, as ingest pre-aggregates them (typed arrays: they cross a thread boundary
 * without a copy and cost no object per cell). They mean exactly what the same cells as
 * CountRow / TrafficRow objects would: a store that reads them natively says so
 * (Store.writesPacked); for any other the aggregator expands them with expandPacked.
 *
 * Geo codes are region index x 4 + isp index (indexes into REGIONS and ISPS).
 */
export const PACKED_GEOS = 256;
/** Geo codes below this name a (region, isp) pair; the cubes' dims store the same two indexes. */
export const GEO_CODE_LIMIT = REGIONS.length * 4;
export const PACKED_CODES = 1024;
export const PROTOCOL_CODES: readonly StoredProtocol[] = ['flv', 'hls', 'other'];
export const IP_TYPE_CODES: readonly StoredIpType[] = ['v4', 'v6', 'other'];

/** The traffic cells of the same lines: one per (tuple, 5-minute slot, geo, protocol, ip type). */
export interface PackedTraffic {
  /** The distinct (domain, app, stream) tuples; app = stream = '' when the URI named no stream. */
  domains: string[];
  apps: string[];
  streams: string[];
  /** Per cell: index into domains/apps/streams. */
  tuple: Int32Array;
  /** Per cell: slot start, epoch ms (a multiple of 300 000). */
  slot: Float64Array;
  geo: Uint8Array;
  /** Index into PROTOCOL_CODES. */
  protocol: Uint8Array;
  /** Index into IP_TYPE_CODES. */
  ipType: Uint8Array;
  requests: Float64Array;
  bytes: Float64Array;
}

/** Playback cells per (domain, minute, geo, code), and optionally the traffic cells of the same lines. */
export interface PackedCells {
  /** Per slot: its domain and minute (epoch ms). */
  slotDomains: string[];
  slotMinutes: number[];
  /** Per cell: (slot x PACKED_GEOS + geo) x PACKED_CODES + status code. */
  keys: Int32Array;
  counts: Float64Array;
  bytes: Float64Array;
  traffic?: PackedTraffic;
  /** The audience cube input of the same lines (the aggregator moves it to WriteBatch.audience). */
  audience?: AudienceCells;
}

/** Packed cells of one project, as a write batch carries them. */
export interface ProjectCells {
  project: string;
  cells: PackedCells;
}

export const regionOfGeo = (geo: number): Region => REGIONS[geo >> 2] as Region;
export const ispOfGeo = (geo: number): Isp => ISPS[geo & 3] as Isp;

/** Decodes a playback cell key into (slot, geo, code). */
export function unpackKey(k: number): { slot: number; geo: number; code: number } {
  const code = k % PACKED_CODES;
  const geo = ((k - code) / PACKED_CODES) % PACKED_GEOS;
  return { slot: (k - code - geo * PACKED_CODES) / (PACKED_CODES * PACKED_GEOS), geo, code };
}

/** Requests of the playback cells. */
export function packedRequests(c: PackedCells): number {
  let n = 0;
  for (let i = 0; i < c.counts.length; i++) n += c.counts[i] as number;
  return n;
}

/** The same cells as rows (for stores that take rows only, and for tests). */
export function expandPacked(p: ProjectCells): { counts: CountRow[]; traffic: TrafficRow[] } {
  const { project, cells: c } = p;
  const counts: CountRow[] = [];
  for (let i = 0; i < c.keys.length; i++) {
    const { slot, geo, code } = unpackKey(c.keys[i] as number);
    counts.push({
      project, domain: c.slotDomains[slot] as string, minute: c.slotMinutes[slot] as number,
      region: regionOfGeo(geo), isp: ispOfGeo(geo), code, count: c.counts[i] as number, bytes: c.bytes[i] as number,
    });
  }
  const traffic: TrafficRow[] = [];
  const t = c.traffic;
  if (t) {
    for (let i = 0; i < t.tuple.length; i++) {
      const k = t.tuple[i] as number;
      const geo = t.geo[i] as number;
      traffic.push({
        project, domain: t.domains[k] as string, app: t.apps[k] as string, stream: t.streams[k] as string,
        protocol: PROTOCOL_CODES[t.protocol[i] as number] as StoredProtocol, region: regionOfGeo(geo), isp: ispOfGeo(geo),
        ipType: IP_TYPE_CODES[t.ipType[i] as number] as StoredIpType, slot: t.slot[i] as number,
        requests: t.requests[i] as number, bytes: t.bytes[i] as number,
      });
    }
  }
  return { counts, traffic };
}
