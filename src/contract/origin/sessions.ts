import { formatUtcSecond } from '../time.js';
import { bandwidthBps } from '../traffic/bandwidth.js';
import type { SlotRange } from '../traffic/slots.js';
import type { HistoryQuery, OnlineQuery, StreamCountQuery, UpBandwidthQuery } from './params.js';
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
  bitrate: number;
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

/** ceil(total / limit): the number of pages. */
export const totalPages = (total: number, limit: number): number => Math.ceil(total / limit);

/** `WIDTHxHEIGHT`, or '' when the size is unknown. */
export const resolutionOf = (s: Pick<SessionView, 'width' | 'height'>): string => (s.width > 0 && s.height > 0 ? `${s.width}x${s.height}` : '');

/** A page of sessions the store selected and ordered (newest first), and how many match in all. */
export interface SessionsPage {
  total: number;
  sessions: readonly SessionView[];
}

/** ListLiveStreamsOnline from the page of open sessions the store selected (domain, app, stream; newest first). */
export function shapeOnline(q: OnlineQuery, page: SessionsPage, requestId: string): OnlineResponse {
  return {
    total_page: totalPages(page.total, q.limit),
    total_num: page.total,
    offset: q.page,
    limit: q.limit,
    request_id: requestId,
    streams: page.sessions.map((s) => ({
      publish_domain: s.domain, app: s.app, stream: s.stream, video_codec: s.videoCodec, audio_codec: s.audioCodec,
      frame_rate: s.frameRate, bitrate: s.bitrate, resolution: resolutionOf(s), client_ip: s.clientIp,
      start_time: formatUtcSecond(s.start),
    })),
  };
}

/** ListHistoryStreams from the page of sessions overlapping the window the store selected; an open one ends at now. */
export function shapeHistory(q: HistoryQuery, page: SessionsPage): HistoryResponse {
  const now = q.window.now;
  return {
    history_stream_list: page.sessions.map((s) => ({
      domain: s.domain, app: s.app, stream: s.stream, type: s.type, video_codec: s.videoCodec, audio_codec: s.audioCodec,
      client_ip: s.clientIp, start_time: formatUtcSecond(s.start), end_time: formatUtcSecond(s.end ?? now),
    })),
    total: page.total,
  };
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
