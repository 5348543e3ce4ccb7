import { invalidParameter, type ApiError } from './errors.js';
import { singleParam, type RawQuery } from './query.js';
import { DAY, HOUR, SECOND, floorTo, parseUtcSecond } from './time.js';

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
  const startParam = singleParam(query, 'start_time');
  if (!startParam.ok) return invalidParameter('start_time');
  const endParam = singleParam(query, 'end_time');
  if (!endParam.ok) return invalidParameter('end_time');

  let startGiven: number | undefined;
  if (startParam.value !== undefined) {
    startGiven = parseUtcSecond(startParam.value);
    if (startGiven === undefined) return invalidParameter('start_time');
  }
  let endGiven: number | undefined;
  if (endParam.value !== undefined) {
    endGiven = parseUtcSecond(endParam.value);
    if (endGiven === undefined) return invalidParameter('end_time');
  }

  const end = endGiven ?? now;
  const start = startGiven ?? end - rule.defaultSpanMs;
  if (end <= start) return invalidParameter(endGiven !== undefined ? 'end_time' : 'start_time');
  if (end - start > rule.maxSpanMs) return invalidParameter(startGiven !== undefined ? 'start_time' : 'end_time');
  if (now - start > rule.maxLookbackMs) return invalidParameter(startGiven !== undefined ? 'start_time' : 'end_time');
  return { start, end, now };
}
