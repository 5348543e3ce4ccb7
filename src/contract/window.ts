import { ApiError, invalidParameter } from './errors.js';
import { readSingle, type ParamSpec } from './params.js';
import { timeReason, windowReasons } from './reasons.js';
import type { RawQuery } from './query.js';
import { DAY, HOUR, SECOND, floorTo, parseUtcSecond } from './time.js';

/** The only timestamp form the contract accepts (the calendar is checked after the pattern). */
const UTC_SECOND: ParamSpec['schema'] = {
  type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$', examples: ['2026-11-23T07:00:00Z'],
};
export const START_TIME_PARAM: ParamSpec = {
  name: 'start_time', in: 'query', kind: 'single',
  description: 'Window start, UTC, YYYY-MM-DDThh:mm:ssZ; default end_time minus 1 hour; at most 7 days ago.',
  schema: UTC_SECOND,
};
export const END_TIME_PARAM: ParamSpec = {
  name: 'end_time', in: 'query', kind: 'single',
  description: 'Window end (exclusive), UTC, YYYY-MM-DDThh:mm:ssZ; default now; after start_time.',
  schema: UTC_SECOND,
};

export interface WindowRule {
  /** Largest allowed end - start. */
  maxSpanMs: number;
  /** Oldest allowed start, as a distance back from now. */
  maxLookbackMs: number;
  /** Span used when start_time is not given. */
  defaultSpanMs: number;
}

export const HTTPCODES_WINDOW: WindowRule = { maxSpanMs: DAY, maxLookbackMs: 7 * DAY, defaultSpanMs: HOUR };
export const CAROUSEL_WINDOW: WindowRule = { maxSpanMs: 3 * HOUR, maxLookbackMs: 7 * DAY, defaultSpanMs: HOUR };

/** A requested window, half-open [start, end), in epoch ms; `now` is the second the request was judged at. */
export interface TimeWindow {
  start: number;
  end: number;
  now: number;
}

/**
 * Resolves start_time/end_time against the rule. When a check fails, the parameter
 * blamed is the one the caller actually supplied (see README, "Contract decisions").
 */
export function resolveWindow(query: RawQuery, rule: WindowRule, nowMs: number): TimeWindow | ApiError {
  const now = floorTo(nowMs, SECOND);
  const startText = readSingle(query, START_TIME_PARAM);
  if (startText instanceof ApiError) return startText;
  const endText = readSingle(query, END_TIME_PARAM);
  if (endText instanceof ApiError) return endText;

  let startGiven: number | undefined;
  if (startText !== undefined) {
    startGiven = parseUtcSecond(startText);
    if (startGiven === undefined) return invalidParameter('start_time', timeReason(startText));
  }
  let endGiven: number | undefined;
  if (endText !== undefined) {
    endGiven = parseUtcSecond(endText);
    if (endGiven === undefined) return invalidParameter('end_time', timeReason(endText));
  }

  // Without start_time the default window counts back from the end, and that end is clamped to now
  // first: `end_time=9999-...` alone is the default span ending now (slots after now are never
  // listed), not a span in the future that answers nothing.
  const end = startGiven === undefined && endGiven !== undefined ? Math.min(endGiven, now) : endGiven ?? now;
  const start = startGiven ?? end - rule.defaultSpanMs;
  if (end <= start) return invalidParameter(endGiven !== undefined ? 'end_time' : 'start_time', windowReasons.order(start, end));
  if (end - start > rule.maxSpanMs) {
    return invalidParameter(startGiven !== undefined ? 'start_time' : 'end_time', windowReasons.span(start, end, rule.maxSpanMs));
  }
  if (now - start > rule.maxLookbackMs) {
    return invalidParameter(startGiven !== undefined ? 'start_time' : 'end_time', windowReasons.lookback(start, now, rule.maxLookbackMs));
  }
  return { start, end, now };
}
