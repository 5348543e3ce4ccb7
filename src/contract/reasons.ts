import { FORBIDDEN } from './domain.js';
import { quoted } from './errors.js';
import type { JsonSchema } from './schema.js';
import { formatUtcSecond, HOUR } from './time.js';

/**
 * Reasons for refused parameters, in words, for the server log and the reason header (see
 * invalidParameter in errors.ts). The body keeps the contract's `Invalid request parameter: <name>`.
 */

const TIME_FORM = 'use UTC as YYYY-MM-DDThh:mm:ssZ, e.g. 2026-11-23T07:00:00Z';

/** Why `text` is not a contract timestamp (YYYY-MM-DDThh:mm:ssZ, UTC, whole seconds). */
export function timeReason(text: string): string {
  const v = quoted(text);
  if (/^\d+(\.\d+)?$/.test(text)) return `${v} looks like an epoch number, which is not accepted; ${TIME_FORM}`;
  if (/T\d{2}:\d{2}:\d{2}[.,]\d+/.test(text)) return `${v} has fractional seconds, which are not accepted; ${TIME_FORM}`;
  if (/T\d{2}:\d{2}(:\d{2})?([+-]\d{2}(:?\d{2})?)$/.test(text)) {
    return `${v} has a UTC offset, which is not accepted (the API is UTC only); convert it to UTC and ${TIME_FORM}`;
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return `${v} is a date without a time; ${TIME_FORM}`;
  if (/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}$/.test(text)) return `${v} has no Z (UTC) suffix; ${TIME_FORM}`;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$/.test(text)) return `${v} has no seconds; ${TIME_FORM}`;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(text)) {
    return Number(text.slice(0, 4)) < 1970 ? `${v} is before 1970` : `${v} is not a real date and time (month, day, hour, minute or second out of range)`;
  }
  if (/^\d{4}-\d{2}-\d{2}t\d{2}:\d{2}:\d{2}z$/i.test(text)) return `${v}: T and Z must be upper case; ${TIME_FORM}`;
  return `${v} is not a timestamp of the accepted form; ${TIME_FORM}`;
}

/** A duration in words: "25 h", "90 min", "3 days 2 h". */
export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 2 * 3600) return `${Math.round(s / 60)} min`;
  const h = Math.floor(s / 3600);
  if (h < 48) return s % 3600 === 0 ? `${h} h` : `${h} h ${Math.round((s % 3600) / 60)} min`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d} days` : `${d} days ${h % 24} h`;
}

/** The window checks of resolveWindow, in words. */
export const windowReasons = {
  order: (start: number, end: number): string =>
    `end_time (${formatUtcSecond(end)}) must be after start_time (${formatUtcSecond(start)}); the window is [start_time, end_time)`,
  span: (start: number, end: number, maxMs: number): string =>
    `the window ${formatUtcSecond(start)} to ${formatUtcSecond(end)} spans ${duration(end - start)}; at most ${duration(maxMs)} ` +
    `is allowed${maxMs === 24 * HOUR ? ' (query a longer period one day at a time)' : ''}`,
  lookback: (start: number, now: number, maxMs: number): string =>
    `start_time ${formatUtcSecond(start)} is ${duration(now - start)} ago; at most ${duration(maxMs)} back is allowed ` +
    `(the oldest accepted start_time now is ${formatUtcSecond(now - maxMs)})`,
};

/** Why a single value fails its schema (as far as the common keywords say; else a general phrase). */
export function schemaReason(schema: JsonSchema, value: string): string {
  const v = quoted(value);
  const en = schema.enum as readonly unknown[] | undefined;
  if (Array.isArray(en)) return `${v} is not one of ${en.slice(0, 12).map(String).join(', ')}${en.length > 12 ? ', …' : ''}`;
  const maxLength = schema.maxLength as number | undefined;
  if (typeof maxLength === 'number' && value.length > maxLength) return `${v} is longer than ${maxLength} characters`;
  const minLength = schema.minLength as number | undefined;
  if (typeof minLength === 'number' && value.length < minLength) return `${v} is shorter than ${minLength} characters`;
  const pattern = schema.pattern as string | undefined;
  if (typeof pattern === 'string' && !new RegExp(pattern, 'u').test(value)) {
    if (pattern.includes('T[0-9]{2}:[0-9]{2}:[0-9]{2}Z')) return timeReason(value);
    return `${v} does not match ${pattern}`;
  }
  return `${v} is not an accepted value`;
}

/** An array parameter with more distinct values than allowed. */
export const tooMany = (count: number, max: number): string => `${count} distinct values given; at most ${max} are accepted`;
/** A single parameter given twice with different values. */
export const givenTwice = 'given more than once with different values; give it once';
/** A value that is not valid percent-encoding (UTF-8). */
export const badEncoding = 'a value is not valid percent-encoded UTF-8';
/** Why singleParam refused a parameter. */
export const singleReason = (why: 'encoding' | 'twice'): string => (why === 'encoding' ? badEncoding : givenTwice);

/** Why `text` is not a whole UTC minute (YYYY-MM-DDThh:mm:00Z). */
export function minuteReason(text: string): string {
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(text) && !text.endsWith(':00Z')) {
    return `${quoted(text)} is not a whole minute: the seconds must be 00, e.g. ${text.slice(0, 17)}00Z`;
  }
  return `${timeReason(text)} (a whole minute: seconds 00)`;
}

const DAY_FORM = 'use the UTC day as YYYYMMDD, e.g. 20261122';

/** Why `text` is not a UTC day of the form YYYYMMDD. */
export function dayReason(text: string): string {
  const v = quoted(text);
  if (/^\d{8}$/.test(text)) {
    return Number(text.slice(0, 4)) < 1970 ? `${v} is before 1970` : `${v} is not a real calendar date (month or day out of range)`;
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return `${v} has dashes; ${DAY_FORM}`;
  if (/^\d{4}-?\d{2}-?\d{2}[T ]/.test(text)) return `${v} has a time of day; ${DAY_FORM}`;
  return `${v} is not a day of the accepted form; ${DAY_FORM}`;
}

/** Why `text` is not a host name (the check of normalizeDomain). */
export function domainReason(text: string): string {
  const v = quoted(text);
  const bad = FORBIDDEN.exec(text.trim());
  if (bad) return `${v} contains ${quoted(bad[0])}, which a domain name cannot contain; give the host name only (no scheme, port or path)`;
  return `${v} is not a valid domain name (dot-separated labels of letters, digits, '-' or '_', each at most 63 characters)`;
}

/** Why `text` is not an app or stream name (isStreamName). */
export const nameReason = (name: string, text: string, maxLength: number): string =>
  `${quoted(text)} is not a valid ${name} name: 1 to ${maxLength} characters, no '/' and no control characters`;
