import { ApiError, invalidParameter } from '../errors.js';
import { readSingle } from '../params.js';
import { dayReason } from '../reasons.js';
import type { RawQuery } from '../query.js';
import { DAY, floorTo } from '../time.js';
import { bandwidthBps } from '../traffic/bandwidth.js';
import { readPlayDomain, type AudienceStored } from './users.js';
import { PORTRAIT_STREAM_PARAM, PORTRAIT_TIME_PARAM } from './params.js';

/** "a UTC day among the last 31 days, not today". */
export const PORTRAIT_MAX_DAYS_BACK = 31;

/** A validated ShowStreamPortrait request. */
export interface PortraitQuery {
  domain: string;
  /** Absent: the whole domain. Any application. */
  stream: string | undefined;
  /** The day's UTC midnight, epoch ms. */
  day: number;
}

/** The day's totals as the store answers them (every protocol, the stream or the whole domain). */
export interface PortraitTotals {
  /** Bytes sent. */
  flow: number;
  /** Log lines. */
  requests: number;
  /** FLV/RTMP session seconds plus 60 per HLS (IP, minute). */
  playSeconds: number;
  /** Distinct client IPs of the day. */
  users: number;
  /** The largest per-minute online viewers of the day. */
  peakUsers: number;
  /** The largest 5-minute byte count of the day (peak_bandwidth = that x 8 / 300). */
  peakBytes5m: number;
  /** Seconds the stream was published that day (origin publish records; 0 when none). */
  pushSeconds: number;
}

export const EMPTY_PORTRAIT: PortraitTotals = {
  flow: 0, requests: 0, playSeconds: 0, users: 0, peakUsers: 0, peakBytes5m: 0, pushSeconds: 0,
};

export interface PortraitEntry {
  time: string;
  flow: number;
  play_duration: number;
  request_count: number;
  user_count: number;
  peak_user_count: number;
  peak_bandwidth: number;
  push_duration: number;
}
export interface PortraitResponse {
  stream_portraits: PortraitEntry[];
}

const DAY_RE = /^(\d{4})(\d{2})(\d{2})$/;

/** A YYYYMMDD text as its UTC midnight, undefined when it is not a real calendar date. */
export function parseDay(text: string): number | undefined {
  const m = DAY_RE.exec(text);
  if (!m) return undefined;
  const [y, mo, d] = m.slice(1).map(Number) as [number, number, number];
  if (y < 1970 || mo < 1 || mo > 12 || d < 1) return undefined;
  const ms = Date.UTC(y, mo - 1, d);
  return new Date(ms).getUTCDate() === d ? ms : undefined;
}

export const formatDay = (ms: number): string => {
  const d = new Date(ms);
  return `${String(d.getUTCFullYear()).padStart(4, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
};

/**
 * Parses ShowStreamPortrait: play_domain, stream, then time: a UTC day among the last 31 days
 * (and what is stored at the level asked for: a stream or the domain), not today; today, a future day, an older day or a malformed date is a 400.
 */
export function parsePortraitQuery(query: RawQuery, nowMs: number, stored: AudienceStored): PortraitQuery | ApiError {
  const domain = readPlayDomain(query);
  if (domain instanceof ApiError) return domain;
  const stream = readSingle(query, PORTRAIT_STREAM_PARAM);
  if (stream instanceof ApiError) return stream;
  const text = readSingle(query, PORTRAIT_TIME_PARAM);
  if (text instanceof ApiError) return text;
  if (text === undefined) return invalidParameter(PORTRAIT_TIME_PARAM.name, 'required, and not given');
  const day = parseDay(text);
  if (day === undefined) return invalidParameter(PORTRAIT_TIME_PARAM.name, dayReason(text));
  const today = floorTo(nowMs, DAY);
  // The whole day must still be stored (at the level asked for): its start no older than the retention.
  const storedMs = stream === undefined ? stored.domainMs : stored.streamMs;
  if (day >= today || day < today - PORTRAIT_MAX_DAYS_BACK * DAY || day < nowMs - storedMs) {
    const oldest = Math.max(today - PORTRAIT_MAX_DAYS_BACK * DAY, Math.ceil((nowMs - storedMs) / DAY) * DAY);
    const pick = oldest < today ? `pick a day from ${formatDay(oldest)} to ${formatDay(today - DAY)}` : 'no day is old enough and still stored';
    const why = day === today ? 'is today (UTC), a day that has not ended yet'
      : day > today ? 'is a day in the future (UTC)'
        : day < today - PORTRAIT_MAX_DAYS_BACK * DAY ? `is more than ${PORTRAIT_MAX_DAYS_BACK} days ago`
          : `is older than the audience data kept at the ${stream === undefined ? 'domain' : 'stream'} level`;
    return invalidParameter(PORTRAIT_TIME_PARAM.name, `${text} ${why}; ${pick} (UTC)`);
  }
  return { domain, stream, day };
}

export function shapePortrait(q: PortraitQuery, t: PortraitTotals): PortraitResponse {
  return {
    stream_portraits: [{
      time: formatDay(q.day),
      flow: t.flow,
      play_duration: t.playSeconds,
      request_count: t.requests,
      user_count: t.users,
      peak_user_count: t.peakUsers,
      peak_bandwidth: bandwidthBps(t.peakBytes5m, 300),
      push_duration: t.pushSeconds,
    }],
  };
}
