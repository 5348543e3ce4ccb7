import type { PortraitTotals } from '../contract/audience/portrait.js';
import type { Isp, Region } from '../contract/values.js';
import type { QueryOptions } from './types.js';
import { formatIpv4 } from '../ingest/geo/ipv4.js';

/**
 * The audience cube (audience-api.md): per minute, (domain, app, stream, protocol, region, isp) ->
 * (online viewers, bytes), and per UTC day the distinct client IPs per (domain, stream). Online
 * viewers of a cell-minute = FLV/RTMP sessions overlapping the minute + distinct HLS client IPs
 * of the (stream, minute); cells add up across streams, protocols, regions and carriers.
 */
export const AUDIENCE_PROTOCOLS = ['flv', 'hls', 'rtmp'] as const;
export type AudienceProtocol = (typeof AUDIENCE_PROTOCOLS)[number];

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The play-info order: domain, stream, protocol, then app (UTF-16 code unit order), the same in every store. */
export const comparePlayInfo = (a: PlayInfoRow, b: PlayInfoRow): number =>
  cmp(a.domain, b.domain) || cmp(a.stream, b.stream) || cmp(a.protocol, b.protocol) || cmp(a.app, b.app);

/** ListUsersOfStream: the contract has applied every rule (one domain, app/stream, interval, window). */
export interface UsersFilter {
  project: string;
  /** One play domain (normalized). */
  domain: string;
  app: string | undefined;
  stream: string | undefined;
  /** Absent: every protocol. */
  protocol: AudienceProtocol | undefined;
  /** Empty: any. */
  regions: Region[];
  isps: Isp[];
  /** 60_000 or 300_000; `from` and `to` are aligned to it. */
  slotMs: number;
  /** Inclusive, epoch ms. */
  from: number;
  /** Exclusive, epoch ms. */
  to: number;
}

/** ListPlayDomainStreamInfo: one minute's live streams. */
export interface PlayInfoFilter {
  project: string;
  /** Play domains (normalized); empty: every domain of the project. */
  domains: string[];
  /** The minute, epoch ms, a multiple of 60 000. */
  minute: number;
}

/** One (domain, app, stream, protocol) with bytes or viewers in the minute. */
export interface PlayInfoRow {
  domain: string;
  app: string;
  stream: string;
  protocol: AudienceProtocol;
  /** Bytes sent in the minute (the contract turns them into bps: x 8 / 60, half-up). */
  bytes: number;
  /** Online viewers of the minute. */
  online: number;
}

/** ShowStreamPortrait: one UTC day of a domain or of one stream (any app) of it. */
export interface PortraitFilter {
  project: string;
  domain: string;
  /** Absent: the whole domain. */
  stream: string | undefined;
  /** UTC midnight of the day, epoch ms. */
  day: number;
}

/** A day's figures, every protocol, as the contract's portrait takes them (PortraitTotals; peak bandwidth = peakBytes5m x 8 / 300). */
export type PortraitDay = PortraitTotals;

/**
 * The read side of the audience cube. `options.signal` aborts when the client has gone.
 * Series are dense: index i = slot `from + i * slotMs`.
 */
export interface AudienceQuery {
  /** Online viewers per slot under the filter; for 300 s slots the largest of the slot's five minutes. */
  usersSeries(filter: UsersFilter, options?: QueryOptions): Promise<Float64Array>;
  /** The minute's streams with bytes or viewers, ordered by domain, stream, protocol, app. URIs of no known shape are not listed. */
  playInfo(filter: PlayInfoFilter, options?: QueryOptions): Promise<PlayInfoRow[]>;
  /** The day's figures; zeros for a day without data. */
  streamPortrait(filter: PortraitFilter, options?: QueryOptions): Promise<PortraitDay>;
  /** Every play domain of the project with audience data (within retention), ascending. */
  audienceDomains(project: string, options?: QueryOptions): Promise<string[]>;
  /** Deletes audience data (cells, IP sets) older than the cutoff (epoch ms). */
  deleteAudienceBefore(cutoff: number): Promise<void>;
}

/**
 * Optional, for a store that renders whole answers where it reads (the SQLite store's read
 * workers): the finished response bytes, identical to the contract's rendering of usersSeries
 * (renderUsers) and playInfo (JSON of shapePlayInfo), so the main thread only sends them.
 */
export interface AudienceBodies {
  /** `filter.to - filter.from` is a positive whole number of `slotMs`. */
  usersBody(filter: UsersFilter, options?: QueryOptions): Promise<Uint8Array>;
  playInfoBody(filter: PlayInfoFilter, options?: QueryOptions): Promise<Uint8Array>;
  /** A body from the methods above has been sent whole; the store may reuse its memory. */
  releaseBody?(bytes: Uint8Array): void;
}

/**
 * What ingest derives from one batch of lines for the audience cube, in columns (typed arrays
 * cross a thread boundary without a copy). Only lines whose URI names a stream (flv or hls) are in it.
 */
export interface AudienceCells {
  /** The distinct (domain, app, stream) tuples of the batch. */
  domains: string[];
  apps: string[];
  streams: string[];
  /**
   * Additive cells per (tuple, minute, protocol, geo): viewers counted into the minute as they are
   * (`sessions`: 0 from ingest, whose FLV/RTMP sessions are `opens`/`closes`), FLV/RTMP sessions as
   * deltas (`opens`, `closes`: src/store/audience-flv.ts), play milliseconds (an FLV/RTMP session's
   * play time within a UTC day at its first minute of that day: only day sums are read), and the
   * bytes and lines of the lines logged in it. HLS lines add bytes and lines only (their viewers are
   * `hls*` below).
   */
  tuple: Int32Array;
  /** Minute start, epoch ms. */
  minute: Float64Array;
  /** Index into AUDIENCE_PROTOCOLS. */
  protocol: Uint8Array;
  /** Region index x 4 + isp index (as in src/store/packed.ts). */
  geo: Uint8Array;
  sessions: Float64Array;
  /** Absent: zeros (a producer that writes per-minute viewers in `sessions` only). */
  opens?: Float64Array;
  closes?: Float64Array;
  playMs: Float64Array;
  bytes: Float64Array;
  requests: Float64Array;
  /** HLS viewers: distinct (tuple, minute, client IP) of the batch, with the IP's geo. The store counts each once ever. */
  hlsTuple: Int32Array;
  hlsMinute: Float64Array;
  hlsGeo: Uint8Array;
  hlsIp: string[];
  /** When present: entry i >= 0 is the IPv4 integer of viewer i (its hlsIp text is then ''); -1: the text is in hlsIp. */
  hlsV4?: Float64Array;
  /** Users: distinct (tuple, UTC day, client IP) of the batch, every protocol. The store counts each once per (domain, stream, day). */
  userTuple: Int32Array;
  userDay: Float64Array;
  userIp: string[];
  /** When present: as hlsV4, for userIp. */
  userV4?: Float64Array;
}

/** Audience cells of one project, as a write batch carries them. */
export interface ProjectAudience {
  project: string;
  cells: AudienceCells;
}

/** The text of a batch's HLS viewer or user IP `i` (an IPv4 travels as its integer, its text as ''). */
export function audienceIp(c: AudienceCells, which: 'hls' | 'user', i: number): string {
  const v4 = which === 'hls' ? c.hlsV4?.[i] : c.userV4?.[i];
  if (v4 !== undefined && v4 >= 0) return formatIpv4(v4);
  return (which === 'hls' ? c.hlsIp[i] : c.userIp[i]) as string;
}
