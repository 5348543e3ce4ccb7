/**
 * Pure data shaping: API responses (validated, since they arrive as untyped JSON) into what
 * the charts and tables draw. No DOM, no ECharts: unit-tested on its own.
 */

export interface HttpCodeCount {
  code: number;
  count: number;
}
export interface HttpCodesResponse {
  data_series: Array<{ time: string; http_codes: HttpCodeCount[] }>;
}
export interface CarouselResponse {
  start_time: string;
  end_time: string;
  video_framerate_list: number[];
  video_bitrate_list: number[];
  audio_framerate_list: number[];
  audio_bitrate_list: number[];
}

export class ShapeError extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

function parseTime(v: unknown, what: string): number {
  const ms = typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(ms)) throw new ShapeError(`Unexpected response from the server: bad ${what}`);
  return ms;
}

/** Checks a ListQueryHttpCode body; throws ShapeError on anything unexpected. */
export function parseHttpCodes(json: unknown): HttpCodesResponse {
  if (!isObject(json) || !Array.isArray(json.data_series)) throw new ShapeError('Unexpected response from the server: no data_series');
  for (const entry of json.data_series as unknown[]) {
    if (!isObject(entry) || !Array.isArray(entry.http_codes)) throw new ShapeError('Unexpected response from the server: bad data_series entry');
    parseTime(entry.time, 'time');
    for (const c of entry.http_codes as unknown[]) {
      if (!isObject(c) || !Number.isInteger(c.code) || !isCount(c.count)) throw new ShapeError('Unexpected response from the server: bad http_codes entry');
    }
  }
  return json as unknown as HttpCodesResponse;
}

const LISTS = ['video_framerate_list', 'video_bitrate_list', 'audio_framerate_list', 'audio_bitrate_list'] as const;

/** Checks a ListCarouselTaskDetail body; throws ShapeError on anything unexpected. */
export function parseCarousel(json: unknown): CarouselResponse {
  if (!isObject(json)) throw new ShapeError('Unexpected response from the server: not an object');
  parseTime(json.start_time, 'start_time');
  parseTime(json.end_time, 'end_time');
  let length: number | undefined;
  for (const key of LISTS) {
    const list = json[key];
    if (!Array.isArray(list) || !list.every(isCount)) throw new ShapeError(`Unexpected response from the server: bad ${key}`);
    if (length !== undefined && list.length !== length) throw new ShapeError('Unexpected response from the server: lists differ in length');
    length = list.length;
  }
  return json as unknown as CarouselResponse;
}

export type CodeClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx';
export const codeClass = (code: number): CodeClass => `${Math.min(5, Math.max(1, Math.floor(code / 100)))}xx` as CodeClass;
export const isError = (code: number): boolean => code >= 400;

export type Point = [number, number];
export type GapPoint = [number, number | null];

export interface CodeRow {
  code: number;
  cls: CodeClass;
  total: number;
  /** Share of all requests in the window, 0..1. */
  share: number;
}

export const isServerError = (code: number): boolean => code >= 500;

/** A minute's requests with fewer than this many gets no error-share point (its share would be noise). */
export const MIN_SHARE_REQUESTS = 20;
export const MINUTE_MS = 60_000;

export interface MinuteTotals {
  time: number;
  total: number;
  /** 4xx + 5xx. */
  errors: number;
  /** 5xx only. */
  serverErrors: number;
}

export interface PlaybackShape {
  /** Minute slot starts (ms), oldest first (the minute in progress included). */
  times: number[];
  /** Requests per complete minute, one series per status code, ascending by code. */
  codes: Array<{ code: number; cls: CodeClass; points: Point[] }>;
  /**
   * (4xx + 5xx) / all requests per complete minute, 0..1; null for a minute with fewer than
   * MIN_SHARE_REQUESTS requests.
   */
  errorShare: GapPoint[];
  /** 5xx / all requests per complete minute, 0..1; null likewise. */
  serverErrorShare: GapPoint[];
  /** Totals of each complete minute, oldest first. */
  minutes: MinuteTotals[];
  /** The minute still in progress at `now` (requests so far), left out of the lines above. */
  partial?: MinuteTotals;
  /** Totals of the window, the minute in progress included. */
  table: CodeRow[];
  total: number;
  errors: number;
  serverErrors: number;
}

const shareOf = (part: number, total: number): number | null => (total >= MIN_SHARE_REQUESTS ? part / total : null);

/**
 * Requests per minute by status code, the error share lines, and the per-code totals of the window.
 * With `now`, a minute that has not ended by then is in progress: kept apart as `partial`.
 */
export function shapePlayback(resp: HttpCodesResponse, now = Number.POSITIVE_INFINITY): PlaybackShape {
  const times = resp.data_series.map((e) => Date.parse(e.time));
  const codeSet = new Set<number>();
  for (const e of resp.data_series) for (const c of e.http_codes) codeSet.add(c.code);
  const codes = [...codeSet].sort((a, b) => a - b);
  const index = new Map(codes.map((c, i) => [c, i]));
  const perCode: Point[][] = codes.map(() => []);
  const totals = codes.map(() => 0);
  const errorShare: GapPoint[] = [];
  const serverErrorShare: GapPoint[] = [];
  const minutes: MinuteTotals[] = [];
  let partial: MinuteTotals | undefined;
  let total = 0;
  let errors = 0;
  let serverErrors = 0;
  resp.data_series.forEach((entry, slot) => {
    const t = times[slot] ?? 0;
    const counts = codes.map(() => 0);
    for (const c of entry.http_codes) {
      const i = index.get(c.code);
      if (i !== undefined) counts[i] = (counts[i] ?? 0) + c.count;
    }
    const m: MinuteTotals = { time: t, total: 0, errors: 0, serverErrors: 0 };
    const inProgress = t + MINUTE_MS > now;
    counts.forEach((n, i) => {
      const code = codes[i] ?? 0;
      if (!inProgress) perCode[i]?.push([t, n]);
      totals[i] = (totals[i] ?? 0) + n;
      m.total += n;
      if (isError(code)) m.errors += n;
      if (isServerError(code)) m.serverErrors += n;
    });
    if (inProgress) {
      // Only the newest minute can be in progress; should two be (a clock far behind), they add up.
      partial = partial ? { time: partial.time, total: partial.total + m.total, errors: partial.errors + m.errors, serverErrors: partial.serverErrors + m.serverErrors } : m;
    } else {
      minutes.push(m);
      errorShare.push([t, shareOf(m.errors, m.total)]);
      serverErrorShare.push([t, shareOf(m.serverErrors, m.total)]);
    }
    total += m.total;
    errors += m.errors;
    serverErrors += m.serverErrors;
  });
  return {
    times,
    codes: codes.map((code, i) => ({ code, cls: codeClass(code), points: perCode[i] ?? [] })),
    errorShare,
    serverErrorShare,
    minutes,
    ...(partial ? { partial } : {}),
    table: codes.map((code, i) => {
      const n = totals[i] ?? 0;
      return { code, cls: codeClass(code), total: n, share: total > 0 ? n / total : 0 };
    }),
    total,
    errors,
    serverErrors,
  };
}

export interface ProvinceRow {
  region: string;
  ok: number;
  errors: number;
  total: number;
}

/** Requests and errors in one province's response (summed over the window). */
export function provinceRow(region: string, resp: HttpCodesResponse): ProvinceRow {
  let ok = 0;
  let errors = 0;
  for (const e of resp.data_series) {
    for (const c of e.http_codes) {
      if (isError(c.code)) errors += c.count;
      else ok += c.count;
    }
  }
  return { region, ok, errors, total: ok + errors };
}

/** Provinces with traffic, busiest first (ties by code), at most `limit`. */
export function topProvinces(rows: ProvinceRow[], limit: number): ProvinceRow[] {
  return rows
    .filter((r) => r.total > 0)
    .sort((a, b) => b.total - a.total || a.region.localeCompare(b.region))
    .slice(0, limit);
}

export interface CarouselShape {
  start: number;
  seconds: number;
  videoFps: Point[];
  videoKbps: Point[];
  audioFps: Point[];
  audioKbps: Point[];
  /** [from, to) in ms where all four values are 0: the channel was down. */
  outages: Array<[number, number]>;
  outageSeconds: number;
}

/** Four per-second lines (index i = second start + i) and the outage ranges. */
export function shapeCarousel(resp: CarouselResponse): CarouselShape {
  const start = Date.parse(resp.start_time);
  const seconds = resp.video_framerate_list.length;
  const at = (i: number): number => start + i * 1000;
  const line = (list: number[]): Point[] => list.map((v, i) => [at(i), v]);
  const outages: Array<[number, number]> = [];
  let outageSeconds = 0;
  let from: number | undefined;
  for (let i = 0; i <= seconds; i++) {
    const down = i < seconds &&
      resp.video_framerate_list[i] === 0 && resp.video_bitrate_list[i] === 0 &&
      resp.audio_framerate_list[i] === 0 && resp.audio_bitrate_list[i] === 0;
    if (down) {
      outageSeconds++;
      from ??= i;
    } else if (from !== undefined) {
      outages.push([at(from), at(i)]);
      from = undefined;
    }
  }
  return {
    start, seconds,
    videoFps: line(resp.video_framerate_list),
    videoKbps: line(resp.video_bitrate_list),
    audioFps: line(resp.audio_framerate_list),
    audioKbps: line(resp.audio_bitrate_list),
    outages, outageSeconds,
  };
}
