import { SECOND, formatUtcSecond } from '../time.js';
import { bandwidthBps } from '../traffic/bandwidth.js';
import type { SlotRange } from '../traffic/slots.js';
import type { HistoryQuery, OnlineQuery, Page, StreamCountQuery, UpBandwidthQuery } from './params.js';
import type { SessionType } from './values.js';

/** A publish session as the endpoints need it (the store's record, with the latest probe or poll values). */
export interface SessionView {
  domain: string;
  app: string;
  stream: string;
  clientIp: string;
  type: SessionType;
  videoCodec: string;
  audioCodec: string;
  /** Epoch ms. */
  start: number;
  /** Epoch ms; null while the session is open. */
  end: number | null;
  /** Latest video frame rate (fps) and total input bitrate (kbit/s); 0 when unknown. */
  frameRate: number;
  bitrateKbps: number;
  /** 0 when unknown. */
  width: number;
  height: number;
}

export interface OnlineStream {
  publish_domain: string;
  app: string;
  stream: string;
  video_codec: string;
  audio_codec: string;
  frame_rate: number;
  bitrate: number;
  resolution: string;
  client_ip: string;
  start_time: string;
}
export interface OnlineResponse {
  total_page: number;
  total_num: number;
  offset: number;
  limit: number;
  request_id: string;
  streams: OnlineStream[];
}
export interface HistoryStream {
  domain: string;
  app: string;
  stream: string;
  type: number;
  video_codec: string;
  audio_codec: string;
  client_ip: string;
  start_time: string;
  end_time: string;
}
export interface HistoryResponse {
  history_stream_list: HistoryStream[];
  total: number;
}
export interface SlotValuesResponse {
  data_list: Array<{ value: number; time: string }>;
}

/** Newest first; ties by domain, app, stream, then client address, so pages never overlap. */
export function newestFirst(a: SessionView, b: SessionView): number {
  return b.start - a.start || cmp(a.domain, b.domain) || cmp(a.app, b.app) || cmp(a.stream, b.stream) || cmp(a.clientIp, b.clientIp);
}
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** ceil(total / limit): the number of pages. */
export const totalPages = (total: number, limit: number): number => Math.ceil(total / limit);

/** The entries of one page of an ordered list (empty past the last page). */
export function pageOf<T>(list: readonly T[], p: Page): T[] {
  const from = p.page * p.limit;
  return from >= list.length ? [] : list.slice(from, from + p.limit);
}

const matches = (s: SessionView, app: string | undefined, stream: string | undefined): boolean =>
  (app === undefined || s.app === app) && (stream === undefined || s.stream === stream);

/** `WIDTHxHEIGHT`, or '' when the size is unknown. */
export const resolutionOf = (s: Pick<SessionView, 'width' | 'height'>): string => (s.width > 0 && s.height > 0 ? `${s.width}x${s.height}` : '');

/** ListLiveStreamsOnline: the open sessions of the domain (app/stream filters applied), newest first, paged. */
export function shapeOnline(q: OnlineQuery, sessions: readonly SessionView[], requestId: string): OnlineResponse {
  const open = sessions.filter((s) => s.end === null && s.domain === q.domain && matches(s, q.app, q.stream)).sort(newestFirst);
  return {
    total_page: totalPages(open.length, q.limit),
    total_num: open.length,
    offset: q.page,
    limit: q.limit,
    request_id: requestId,
    streams: pageOf(open, q).map((s) => ({
      publish_domain: s.domain, app: s.app, stream: s.stream, video_codec: s.videoCodec, audio_codec: s.audioCodec,
      frame_rate: s.frameRate, bitrate: s.bitrateKbps, resolution: resolutionOf(s), client_ip: s.clientIp,
      start_time: formatUtcSecond(s.start),
    })),
  };
}

/** Whether a session overlaps the half-open window [start, end); an open one runs until `now`. */
export const overlaps = (s: Pick<SessionView, 'start' | 'end'>, start: number, end: number, now: number): boolean =>
  s.start < end && (s.end ?? now) > start;

/** ListHistoryStreams: sessions of the domains overlapping the window, newest first, paged; an open one ends at now. */
export function shapeHistory(q: HistoryQuery, sessions: readonly SessionView[]): HistoryResponse {
  const domains = new Set(q.domains);
  const { start, end, now } = q.window;
  const hits = sessions.filter((s) => domains.has(s.domain) && matches(s, q.app, q.stream) && overlaps(s, start, end, now)).sort(newestFirst);
  return {
    history_stream_list: pageOf(hits, q).map((s) => ({
      domain: s.domain, app: s.app, stream: s.stream, type: s.type, video_codec: s.videoCodec, audio_codec: s.audioCodec,
      client_ip: s.clientIp, start_time: formatUtcSecond(s.start), end_time: formatUtcSecond(s.end ?? now),
    })),
    total: hits.length,
  };
}

/**
 * Per slot, the most sessions open at once inside it (a session counts from its start, inclusive, to its end,
 * exclusive; an open one until `now`), per domain, then summed over the domains (origin-api.md: "the largest
 * number of streams publishing at once in the slot, summed over the domains"). Publishers and relays both count.
 */
export function streamCounts(slots: SlotRange, domains: readonly string[], sessions: readonly SessionView[], now: number): number[] {
  const out = new Array<number>(slots.count).fill(0);
  for (const d of new Set(domains)) {
    const events: Array<[number, number]> = [];
    for (const s of sessions) {
      if (s.domain !== d) continue;
      const end = s.end ?? Math.max(now, s.start + SECOND);
      if (end <= s.start || end <= slots.from || s.start >= slots.to) continue;
      events.push([s.start, 1], [end, -1]);
    }
    // Ends before starts at the same instant: a session that ends as another begins is not "at once".
    events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let open = 0;
    let e = 0;
    for (let i = 0; i < slots.count; i++) {
      const from = slots.from + i * slots.slotMs;
      const to = from + slots.slotMs;
      while (e < events.length && (events[e] as [number, number])[0] <= from) {
        // Everything up to the slot's start: what is open when it begins (an end at `from` closes first).
        open += (events[e] as [number, number])[1];
        e++;
      }
      let peak = open;
      while (e < events.length && (events[e] as [number, number])[0] < to) {
        open += (events[e] as [number, number])[1];
        if (open > peak) peak = open;
        e++;
      }
      out[i] = (out[i] as number) + peak;
    }
  }
  return out;
}

/** ShowStreamCount's answer from per-slot counts. */
export function shapeStreamCount(q: StreamCountQuery, counts: ArrayLike<number>): SlotValuesResponse {
  return shapeSlots(q.slots, counts, (v) => v);
}

/** ShowUpBandwidth's answer from input bytes per slot: bytes x 8 / slot seconds, rounded half-up. */
export function shapeUpBandwidth(q: UpBandwidthQuery, bytes: ArrayLike<number>): SlotValuesResponse {
  return shapeSlots(q.slots, bytes, (b) => bandwidthBps(b, q.interval));
}

function shapeSlots(slots: SlotRange, values: ArrayLike<number>, f: (v: number) => number): SlotValuesResponse {
  const data_list: SlotValuesResponse['data_list'] = new Array(slots.count);
  for (let i = 0; i < slots.count; i++) data_list[i] = { value: f(values[i] ?? 0), time: formatUtcSecond(slots.from + i * slots.slotMs) };
  return { data_list };
}
