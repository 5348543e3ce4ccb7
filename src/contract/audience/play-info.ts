import { normalizeDomain } from '../domain.js';
import { ApiError, invalidParameter } from '../errors.js';
import { readArray, readSingle } from '../params.js';
import { duration, minuteReason } from '../reasons.js';
import type { RawQuery } from '../query.js';
import { DAY, MINUTE, SECOND, floorTo, formatUtcSecond, parseUtcSecond } from '../time.js';
import { bandwidthBps } from '../traffic/bandwidth.js';
import { PLAY_INFO_DOMAINS_PARAM, PLAY_INFO_TIME_PARAM } from './params.js';
import { isAudienceProtocol, type AudienceProtocol } from './values.js';

export const PLAY_INFO_MAX_LOOKBACK_MS = 7 * DAY;

/** A validated ListPlayDomainStreamInfo request. */
export interface PlayInfoQuery {
  /** Normalized, de-duplicated, request order; empty: every play domain of the project. */
  domains: string[];
  /** The minute's start, epoch ms. */
  minute: number;
}

/** One (domain, app, stream, protocol) of the minute as the store answers it. */
export interface PlayInfoCell {
  domain: string;
  app: string;
  stream: string;
  /** Anything but flv/hls/rtmp (requests of no known stream shape) is not listed. */
  protocol: string;
  /** Bytes sent in the minute. */
  bytes: number;
  /** Online viewers of the minute. */
  online: number;
}

export interface PlayInfoEntry {
  play_domain: string;
  stream: string;
  protocol: AudienceProtocol;
  bandwidth: number;
  online: number;
}
export interface PlayInfoResponse {
  time: string;
  data_list: PlayInfoEntry[];
}

/**
 * Parses ListPlayDomainStreamInfo: play_domains (up to 10), then time, which must be a whole UTC
 * minute (seconds 00) that has begun by now and is at most 7 days (and what is stored) ago.
 */
export function parsePlayInfoQuery(query: RawQuery, nowMs: number, storedMs: number): PlayInfoQuery | ApiError {
  const domains = readArray(query, PLAY_INFO_DOMAINS_PARAM, normalizeDomain);
  if (domains instanceof ApiError) return domains;
  const text = readSingle(query, PLAY_INFO_TIME_PARAM);
  if (text instanceof ApiError) return text;
  if (text === undefined) return invalidParameter(PLAY_INFO_TIME_PARAM.name, 'required, and not given');
  const minute = parseUtcSecond(text);
  if (minute === undefined || minute % MINUTE !== 0) return invalidParameter(PLAY_INFO_TIME_PARAM.name, minuteReason(text));
  const now = floorTo(nowMs, SECOND);
  if (minute > now) {
    return invalidParameter(PLAY_INFO_TIME_PARAM.name, `${text} is a minute that has not begun yet (now is ${formatUtcSecond(now)}); the latest accepted time is ${formatUtcSecond(floorTo(now, MINUTE))}`);
  }
  const maxMs = Math.min(PLAY_INFO_MAX_LOOKBACK_MS, storedMs);
  if (now - minute > maxMs) {
    const oldest = formatUtcSecond(Math.ceil((now - maxMs) / MINUTE) * MINUTE);
    return invalidParameter(PLAY_INFO_TIME_PARAM.name, `${text} is ${duration(now - minute)} ago; at most ${duration(maxMs)} back is allowed` +
      `${maxMs < PLAY_INFO_MAX_LOOKBACK_MS ? ' (what the audience store keeps)' : ''} (the oldest accepted time now is ${oldest})`);
  }
  return { domains, minute };
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The entries of the minute: cells of a known protocol with traffic or viewers, ordered by domain,
 * stream, protocol (then app, which the provider's shape does not carry, so equal-looking entries
 * keep one stable order); bandwidth = bytes x 8 / 60, half-up.
 */
export function playInfoEntries(cells: readonly PlayInfoCell[]): PlayInfoEntry[] {
  const kept = cells.filter((c) => isAudienceProtocol(c.protocol) && c.stream !== '' && (c.bytes > 0 || c.online > 0));
  kept.sort((a, b) => byText(a.domain, b.domain) || byText(a.stream, b.stream) || byText(a.protocol, b.protocol) || byText(a.app, b.app));
  return kept.map((c) => ({
    play_domain: c.domain, stream: c.stream, protocol: c.protocol as AudienceProtocol, bandwidth: bandwidthBps(c.bytes, 60), online: c.online,
  }));
}

export function shapePlayInfo(q: PlayInfoQuery, cells: readonly PlayInfoCell[]): PlayInfoResponse {
  return { time: formatUtcSecond(q.minute), data_list: playInfoEntries(cells) };
}
