import type { CarouselSample } from '../contract/carousel.js';
import { DAY, SECOND } from '../contract/time.js';

/**
 * Validation of carousel telemetry posted to the intake endpoint. Pure: the caller
 * passes the parsed JSON and the clock. Each sample is judged on its own, so one bad
 * sample never hides the good ones around it.
 */

/** Most samples one request may carry: three hours of one task at one per second. */
export const MAX_SAMPLES_PER_REQUEST = 3 * 3600;
/** Oldest sample accepted (the query side never looks further back). */
export const MAX_SAMPLE_AGE_MS = 7 * DAY;
/** Newest sample accepted, ahead of the server clock (tolerates clock skew). */
export const MAX_SAMPLE_FUTURE_MS = 5 * 60 * SECOND;

/** Upper bounds well above anything real (8K at 240 fps, ~1 Gbit/s video, 7.1 PCM audio). */
export const SAMPLE_LIMITS = {
  video_fps: 1000,
  video_kbps: 1_000_000,
  audio_fps: 1000,
  audio_kbps: 100_000,
} as const;

type MetricField = keyof typeof SAMPLE_LIMITS;
const METRICS = Object.keys(SAMPLE_LIMITS) as MetricField[];
const ALLOWED = new Set<string>(['time', ...METRICS]);

export interface SampleRejection {
  index: number;
  reason: string;
}

export interface SampleValidation {
  samples: CarouselSample[];
  rejected: SampleRejection[];
}

// ISO-8601 date-time with seconds, optional fraction, and Z or a numeric offset.
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:?\d{2})$/;

/** Parses a sample time (ISO-8601 string or epoch seconds) to epoch ms floored to the second. */
export function parseSampleTime(value: unknown): number | string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return 'time must be a non-negative number of epoch seconds';
    return Math.floor(value) * SECOND;
  }
  if (typeof value !== 'string') return 'time must be an ISO-8601 string or epoch seconds';
  const m = ISO_RE.exec(value);
  if (!m) return 'time is not an ISO-8601 date-time such as 2026-01-02T03:04:05Z';
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(ms);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    return 'time is not a real calendar date-time';
  }
  const zone = m[8] as string;
  let offsetMs = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2));
    if (oh > 23 || om > 59) return 'time has an invalid UTC offset';
    offsetMs = sign * (oh * 60 + om) * 60 * SECOND;
  }
  return ms - offsetMs;
}

function validateOne(raw: unknown, nowMs: number): CarouselSample | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'sample must be a JSON object';
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!ALLOWED.has(key)) return `unknown field "${key.slice(0, 40)}"`;
  }
  if (!('time' in obj)) return 'time is required';
  const second = parseSampleTime(obj.time);
  if (typeof second === 'string') return second;
  if (second < nowMs - MAX_SAMPLE_AGE_MS) return 'time is more than 7 days in the past';
  if (second > nowMs + MAX_SAMPLE_FUTURE_MS) return 'time is more than 5 minutes in the future';
  const values: number[] = [];
  for (const field of METRICS) {
    const v = obj[field];
    if (v === undefined) return `${field} is required`;
    if (typeof v !== 'number' || !Number.isInteger(v)) return `${field} must be an integer`;
    if (v < 0) return `${field} must not be negative`;
    if (v > SAMPLE_LIMITS[field]) return `${field} exceeds ${SAMPLE_LIMITS[field]}`;
    values.push(v);
  }
  const [videoFps, videoKbps, audioFps, audioKbps] = values as [number, number, number, number];
  return { second, videoFps, videoKbps, audioFps, audioKbps };
}

/** Splits posted samples into valid ones (in order) and rejections with their index and reason. */
export function validateSamples(items: readonly unknown[], nowMs: number): SampleValidation {
  const samples: CarouselSample[] = [];
  const rejected: SampleRejection[] = [];
  items.forEach((raw, index) => {
    const r = validateOne(raw, nowMs);
    if (typeof r === 'string') rejected.push({ index, reason: r });
    else samples.push(r);
  });
  return { samples, rejected };
}
