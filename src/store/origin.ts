import type { Isp, Region } from '../contract/values.js';
import type { ProjectAudience } from './audience.js';
import type { QueryOptions } from './types.js';

/**
 * The publish side (issue 23, /work/shared/reference/origin-api.md): what origins (nginx-rtmp,
 * SRS) report about streams pushed into them. Written by src/origin/ (intake, poller), read by the
 * eight publish-side endpoints. Times are epoch ms.
 */

/** 0: a publisher (encoder, OBS); 1: a relay (an origin push or pull between servers). */
export type PublishType = 0 | 1;

/** What a publish session and an RTMP play session both hold. */
export interface OriginSpan {
  project: string;
  /** Unique within the project: the intake's key (origin, client id, start). */
  id: string;
  /** The publish (or play) domain: the host of tcurl, normalized like play domains. */
  domain: string;
  app: string;
  stream: string;
  /** The client's address ('' when unknown). */
  clientIp: string;
  /** Region and carrier of clientIp. */
  region: Region;
  isp: Isp;
  start: number;
  /** null while the session is open. */
  end: number | null;
  /** When it was last written (epoch ms): the last time an event or poll saw it; the newest write of a session id wins. */
  updatedAt: number;
}

/** One publish session: from the publish event (or first poll showing it) to publish-done (or first poll not showing it); clientIp is the publisher's. */
export interface PublishSession extends OriginSpan {
  type: PublishType;
  /** e.g. 'H264', 'AAC' ('' when not known yet). */
  videoCodec: string;
  audioCodec: string;
  /** The latest statistics poll / probe: fps, kbps (input), width and height (0 when unknown). */
  frameRate: number;
  bitrate: number;
  width: number;
  height: number;
  /** The origin that reported it (its name in the configuration), so a poll of that origin can close it. */
  origin: string;
  /** Input bytes counted for the session so far (what the origin's statistics page showed at the last poll). */
  bytesIn: number;
}

/** Input bytes of one (project, domain, app, stream, region, isp, type) in one 5-minute slot; added to what is stored. */
export interface UpBytesRow {
  project: string;
  domain: string;
  app: string;
  stream: string;
  region: Region;
  isp: Isp;
  type: PublishType;
  /** Slot start, a multiple of 300 000. */
  slot: number;
  bytes: number;
}

/** One RTMP play session (on_play .. on_play_done), for the audience cube (protocol rtmp). */
export type PlaySession = OriginSpan;

/** What the intake writes at once (atomically on SQLite). Sessions replace the stored session of the same id. */
export interface OriginBatch {
  /**
   * Names the batch for a store that cannot write it atomically (ClickHouse): sending the same batch
   * (same id, same rows) again after a failed write stores what is missing and never adds what landed.
   */
  id?: string;
  sessions: PublishSession[];
  upBytes: UpBytesRow[];
  plays?: PlaySession[];
  /** RTMP play sessions that ended, as audience cube cells (protocol rtmp), written with the rows that end them. */
  audience?: ProjectAudience[];
}

export interface LiveStreamsFilter {
  project: string;
  domain: string;
  app?: string;
  stream?: string;
  /** Page number (0-based) and page size. */
  offset: number;
  limit: number;
}

export interface HistoryFilter {
  project: string;
  /** Normalized publish domains, at least one. */
  domains: string[];
  app?: string;
  stream?: string;
  /** Sessions overlapping [from, to). */
  from: number;
  to: number;
  offset: number;
  limit: number;
}

/** A page of sessions and how many match in all. */
export interface SessionPage {
  total: number;
  sessions: PublishSession[];
}

export interface StreamCountFilter {
  project: string;
  domains: string[];
  /** 5-minute aligned, [from, to). */
  from: number;
  to: number;
  /** The API's clock (epoch ms): where an open session ends; the store's clock when absent. */
  now?: number;
}

export interface UpBandwidthFilter {
  project: string;
  domains: string[];
  app?: string;
  stream?: string;
  /** Empty: any. */
  regions: Region[];
  isps: Isp[];
  /** 0: publishing (the default of the API), 1: RELAY. */
  type: PublishType;
  /** 300 000, 3 600 000 or 86 400 000; from and to aligned to it. */
  slotMs: number;
  from: number;
  to: number;
}

export const ORIGIN_SLOT_MS = 300_000;

/** The publish side's store methods (both backends; see test/store-conformance.ts). */
export interface OriginQuery {
  /** Applies sessions (replace by id) and input bytes (added) of one intake flush. */
  writeOrigin(batch: OriginBatch): Promise<void>;
  /** Open sessions of a domain, newest start first (ties: id), paged by page number. */
  liveStreams(filter: LiveStreamsFilter, options?: QueryOptions): Promise<SessionPage>;
  /** Sessions overlapping the window, newest start first (ties: id), paged; an open one has end null. */
  historySessions(filter: HistoryFilter, options?: QueryOptions): Promise<SessionPage>;
  /** Per 5-minute slot: the largest number of sessions open at once in the slot, summed over domains. Length (to-from)/300 000. */
  streamCounts(filter: StreamCountFilter, options?: QueryOptions): Promise<Float64Array>;
  /** Input bytes per slot of the filter; length (to - from) / slotMs. */
  upBytesSeries(filter: UpBandwidthFilter, options?: QueryOptions): Promise<Float64Array>;
  /** Every open session of every project (the intake's state after a restart). */
  openSessions(options?: QueryOptions): Promise<PublishSession[]>;
  /** Every open RTMP play session of every project (the intake's state after a restart). */
  openPlays(options?: QueryOptions): Promise<PlaySession[]>;
  /** RTMP play sessions overlapping [from, to) of a project. */
  playSessions(project: string, from: number, to: number, options?: QueryOptions): Promise<PlaySession[]>;
}

/** A stored session as the API sees it at `now`: its end, now when still open. */
export function sessionEnd(s: PublishSession, now: number): number {
  return s.end ?? now;
}
