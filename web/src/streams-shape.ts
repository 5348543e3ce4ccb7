/**
 * Pure shaping for the Streams view: the publish-side answers (validated, since they arrive as untyped
 * JSON) into the live table (with viewers matched by stream name), the per-second lines with a gap at
 * every break, and the paged history. No DOM.
 */
import { ShapeError } from './shape.js';
import type { LiveStream } from './viewers-shape.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isAmount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const bad = (what: string): ShapeError => new ShapeError(`Unexpected response from the server: ${what}`);
const UTC_SECOND = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const SECOND_MS = 1000;

function time(v: unknown, what: string): number {
  if (typeof v !== 'string' || !UTC_SECOND.test(v)) throw bad(what);
  return Date.parse(v);
}
function text(v: unknown, what: string): string {
  if (typeof v !== 'string') throw bad(what);
  return v;
}

export interface LiveRow {
  domain: string;
  app: string;
  stream: string;
  videoCodec: string;
  audioCodec: string;
  fps: number;
  kbps: number;
  resolution: string;
  clientIp: string;
  start: number;
  /** Online viewers in the newest complete minute (summed over play domains and protocols); undefined: not known. */
  viewers?: number;
}

/** A ListLiveStreamsOnline body (one page). */
export function parseOnline(json: unknown): { total: number; streams: LiveRow[] } {
  if (!isObject(json) || !isCount(json.total_num) || !Array.isArray(json.streams)) throw bad('no streams');
  const streams = (json.streams as unknown[]).map((e): LiveRow => {
    if (!isObject(e) || !isAmount(e.frame_rate) || !isAmount(e.bitrate)) throw bad('bad streams entry');
    return {
      domain: text(e.publish_domain, 'publish_domain'), app: text(e.app, 'app'), stream: text(e.stream, 'stream'),
      videoCodec: text(e.video_codec, 'video_codec'), audioCodec: text(e.audio_codec, 'audio_codec'), fps: e.frame_rate, kbps: e.bitrate,
      resolution: text(e.resolution, 'resolution'), clientIp: text(e.client_ip, 'client_ip'), start: time(e.start_time, 'start_time'),
    };
  });
  return { total: json.total_num, streams };
}

/**
 * Adds each live stream's viewers: the play-info rows of the same stream name, summed over play
 * domains and protocols (livestats does not know which play domain serves which publish domain, so a
 * stream name published on two domains counts the viewers of both). `play` undefined: viewers unknown.
 */
export function withViewers(rows: readonly LiveRow[], play: readonly LiveStream[] | undefined): LiveRow[] {
  if (!play) return rows.map((r) => ({ ...r, viewers: undefined }));
  const byStream = new Map<string, number>();
  for (const p of play) byStream.set(p.stream, (byStream.get(p.stream) ?? 0) + p.online);
  return rows.map((r) => ({ ...r, viewers: byStream.get(r.stream) ?? 0 }));
}

/** "H264 / AAC", one codec alone, or "—" when neither is known. */
export function codecs(video: string, audio: string): string {
  const parts = [video, audio].filter((c) => c !== '');
  return parts.length > 0 ? parts.join(' / ') : '—';
}

/** One unbroken run of seconds: `values[i]` is the value of second `start + i` s. */
export interface Run {
  start: number;
  values: number[];
}

/** The runs of a bitrate (`bitrate_info_list`) or framerate (`framerate_info_list`) body, oldest first. */
export function parseRuns(json: unknown, list: 'bitrate_info_list' | 'framerate_info_list'): Run[] {
  if (!isObject(json) || !Array.isArray(json[list])) throw bad(`no ${list}`);
  const runs = (json[list] as unknown[]).map((e): Run => {
    if (!isObject(e) || !Array.isArray(e.data_list) || !(e.data_list as unknown[]).every(isAmount)) throw bad(`bad ${list} entry`);
    const start = time(e.start_time, 'start_time');
    const end = time(e.end_time, 'end_time');
    const values = e.data_list as number[];
    if (end - start !== values.length * SECOND_MS) throw bad(`${list} entry: data_list does not cover start_time..end_time`);
    return { start, values };
  });
  return runs.sort((a, b) => a.start - b.start);
}

/**
 * The points of a line through `runs`: one per second, and a null between two runs, so the line stops
 * at a break instead of joining across it (each run is its own segment).
 */
export function runPoints(runs: readonly Run[]): Array<[number, number | null]> {
  const out: Array<[number, number | null]> = [];
  runs.forEach((r, i) => {
    if (i > 0) out.push([r.start - SECOND_MS / 2, null]);
    r.values.forEach((v, k) => out.push([r.start + k * SECOND_MS, v]));
  });
  return out;
}

/** The breaks between runs: [last second of a run + 1 s, first second of the next). */
export function breaks(runs: readonly Run[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 1; i < runs.length; i++) {
    const prev = runs[i - 1] as Run;
    out.push([prev.start + prev.values.length * SECOND_MS, (runs[i] as Run).start]);
  }
  return out;
}

export interface HistoryRow {
  domain: string;
  app: string;
  stream: string;
  relay: boolean;
  videoCodec: string;
  audioCodec: string;
  clientIp: string;
  start: number;
  end: number;
}

/** A ListHistoryStreams body (one page). */
export function parseHistory(json: unknown): { total: number; rows: HistoryRow[] } {
  if (!isObject(json) || !isCount(json.total) || !Array.isArray(json.history_stream_list)) throw bad('no history_stream_list');
  const rows = (json.history_stream_list as unknown[]).map((e): HistoryRow => {
    if (!isObject(e) || (e.type !== 0 && e.type !== 1)) throw bad('bad history_stream_list entry');
    return {
      domain: text(e.domain, 'domain'), app: text(e.app, 'app'), stream: text(e.stream, 'stream'), relay: e.type === 1,
      videoCodec: text(e.video_codec, 'video_codec'), audioCodec: text(e.audio_codec, 'audio_codec'), clientIp: text(e.client_ip, 'client_ip'),
      start: time(e.start_time, 'start_time'), end: time(e.end_time, 'end_time'),
    };
  });
  return { total: json.total, rows };
}

/** "page 2 of 5 (43 sessions)"; the page is 0-based in the API, 1-based here. */
export function pageLabel(page: number, total: number, limit: number): string {
  const pages = Math.max(1, Math.ceil(total / limit));
  return `page ${page + 1} of ${pages} (${total} session${total === 1 ? '' : 's'})`;
}

/** Whether a next page exists after 0-based `page`. */
export const hasNext = (page: number, total: number, limit: number): boolean => (page + 1) * limit < total;

/** kbit/s as shown: "1,500 kbps" below 10 Mbps, else Mbps with one decimal. */
export function formatKbps(kbps: number): string {
  return kbps >= 10_000 ? `${(kbps / 1000).toFixed(1)} Mbps` : `${Math.round(kbps).toLocaleString('en-US')} kbps`;
}

/** A duration in seconds as "1 h 05 min", "3 min 07 s" or "12 s". */
export function formatSpan(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const two = (n: number): string => String(n).padStart(2, '0');
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${two(Math.floor((s % 3600) / 60))} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${two(s % 60)} s`;
  return `${s} s`;
}
