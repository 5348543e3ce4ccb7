/**
 * Pure shaping for the Viewers view: the three audience answers (validated, since they arrive as
 * untyped JSON) into chart series with their provisional tail, the sortable live-streams table and
 * the portrait card. No DOM.
 */
import { ShapeError } from './shape.js';
import type { TimeValue } from './traffic-shape.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isAmount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const bad = (what: string): ShapeError => new ShapeError(`Unexpected response from the server: ${what}`);
const UTC_SECOND = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

export const MINUTE_MS = 60_000;
/**
 * How long a minute may still grow: an FLV session is counted when its log line is written, as it
 * ends. Minutes this recent are drawn as provisional (the provider itself answers ~10 minutes late).
 * With only HLS selected, only the slot still under way is provisional.
 */
export const PROVISIONAL_MS = 10 * MINUTE_MS;

/** A ListUsersOfStream body: `data_list` of (value, time), oldest first. */
export function parseUsers(json: unknown): TimeValue[] {
  if (!isObject(json) || !Array.isArray(json.data_list)) throw bad('no data_list');
  return (json.data_list as unknown[]).map((e) => {
    if (!isObject(e) || !isAmount(e.value) || typeof e.time !== 'string' || !UTC_SECOND.test(e.time)) throw bad('bad data_list entry');
    return { time: Date.parse(e.time), value: e.value };
  });
}

/** The first slot start that may still grow: slots that end after `now - PROVISIONAL_MS` (HLS only: the slot under way). */
export function provisionalFrom(now: number, slotMs: number, protocol: string): number {
  const settledBefore = protocol === 'hls' ? now : now - PROVISIONAL_MS;
  return Math.floor(settledBefore / slotMs) * slotMs;
}

export interface SplitSeries {
  name: string;
  /** Points of settled slots, plus the first provisional one so the two lines join. */
  settled: Array<[number, number]>;
  /** Points of slots that may still grow. */
  provisional: Array<[number, number]>;
}

/** One named series split at `from` into its settled and provisional parts. */
export function splitProvisional(name: string, points: readonly TimeValue[], from: number): SplitSeries {
  const settled: Array<[number, number]> = [];
  const provisional: Array<[number, number]> = [];
  for (const p of points) (p.time < from ? settled : provisional).push([p.time, p.value]);
  const first = provisional[0];
  if (first !== undefined && settled.length > 0) settled.push(first);
  return { name, settled, provisional };
}

/** Series with any viewer, busiest (by peak) first, at most `max` of them. */
export function topSeries(all: ReadonlyArray<{ name: string; points: TimeValue[] }>, max: number): Array<{ name: string; points: TimeValue[] }> {
  const peak = (pts: TimeValue[]): number => pts.reduce((m, p) => Math.max(m, p.value), 0);
  return all.filter((s) => peak(s.points) > 0).sort((a, b) => peak(b.points) - peak(a.points) || (a.name < b.name ? -1 : 1)).slice(0, max);
}

export interface LiveStream {
  domain: string;
  stream: string;
  protocol: string;
  bandwidth: number;
  online: number;
}

/** A ListPlayDomainStreamInfo body. */
export function parsePlayInfo(json: unknown): { time: number; streams: LiveStream[] } {
  if (!isObject(json) || typeof json.time !== 'string' || !UTC_SECOND.test(json.time) || !Array.isArray(json.data_list)) throw bad('no data_list');
  const streams = (json.data_list as unknown[]).map((e) => {
    if (!isObject(e) || typeof e.play_domain !== 'string' || typeof e.stream !== 'string' || typeof e.protocol !== 'string' ||
      !isAmount(e.bandwidth) || !isAmount(e.online)) throw bad('bad data_list entry');
    return { domain: e.play_domain, stream: e.stream, protocol: e.protocol, bandwidth: e.bandwidth, online: e.online };
  });
  return { time: Date.parse(json.time), streams };
}

export type SortKey = keyof LiveStream;
export interface SortState {
  key: SortKey;
  descending: boolean;
}

/** Clicking a column: the same one flips the order; another sorts by it (numbers busiest first, names A to Z). */
export function nextSort(current: SortState, key: SortKey): SortState {
  if (current.key === key) return { key, descending: !current.descending };
  return { key, descending: key === 'bandwidth' || key === 'online' };
}

/** The rows in that order; ties keep the server's order (domain, stream, protocol). */
export function sortStreams(rows: readonly LiveStream[], s: SortState): LiveStream[] {
  const dir = s.descending ? -1 : 1;
  return rows.map((r, i) => ({ r, i })).sort((a, b) => {
    const x = a.r[s.key];
    const y = b.r[s.key];
    const c = x < y ? -1 : x > y ? 1 : 0;
    return c * dir || a.i - b.i;
  }).map((e) => e.r);
}

export interface Portrait {
  day: string;
  flow: number;
  playDuration: number;
  requests: number;
  users: number;
  peakUsers: number;
  peakBandwidth: number;
  pushDuration: number;
}

/** A ShowStreamPortrait body: exactly one entry. */
export function parsePortrait(json: unknown): Portrait {
  if (!isObject(json) || !Array.isArray(json.stream_portraits) || json.stream_portraits.length !== 1) throw bad('no stream_portraits');
  const e: unknown = json.stream_portraits[0];
  if (!isObject(e) || typeof e.time !== 'string') throw bad('bad stream_portraits entry');
  const n = (k: string): number => {
    const v = e[k];
    if (!isAmount(v)) throw bad(`bad ${k}`);
    return v;
  };
  return {
    day: e.time, flow: n('flow'), playDuration: n('play_duration'), requests: n('request_count'), users: n('user_count'),
    peakUsers: n('peak_user_count'), peakBandwidth: n('peak_bandwidth'), pushDuration: n('push_duration'),
  };
}

/** `YYYYMMDD` of the UTC day `daysBack` days before `now`. */
export function utcDay(now: number, daysBack: number): string {
  return new Date(now - daysBack * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
}

/** Seconds as "3 h 05 min" / "4 min 10 s". */
export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  if (m > 0) return `${m} min ${String(s).padStart(2, '0')} s`;
  return `${s} s`;
}
