import type { CarouselSample } from '../contract/carousel.js';
import { validatorOf, type JsonSchema } from '../contract/schema.js';
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

const METRIC_HELP: Record<MetricField, string> = {
  video_fps: 'video frames in that second',
  video_kbps: 'video payload kilobits in that second',
  audio_fps: 'audio frames (AAC: one per 1024 samples) in that second',
  audio_kbps: 'audio payload kilobits in that second',
};

/** One posted sample: what the intake checks each sample against, and what GET /openapi.json publishes. */
export const SAMPLE_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['time', ...METRICS],
  properties: {
    time: {
      description: 'The second the values are for: an ISO-8601 date-time (Z or an offset; a fraction is cut) or epoch seconds; ' +
        'at most 7 days old and 5 minutes ahead',
      oneOf: [{ type: 'string', pattern: ISO_RE.source, examples: ['2026-11-23T02:48:35Z'] }, { type: 'number', minimum: 0 }],
    },
    ...Object.fromEntries(METRICS.map((f) => [f, { type: 'integer', minimum: 0, maximum: SAMPLE_LIMITS[f], description: METRIC_HELP[f] }])),
  },
};

/** The request body: each sample is judged on its own (see validateSamples); the array as a whole by these bounds. */
export const SAMPLES_BODY_SCHEMA: JsonSchema = {
  type: 'array', maxItems: MAX_SAMPLES_PER_REQUEST, items: SAMPLE_SCHEMA,
  description: 'Per-second samples of one task; valid ones are stored even when others are rejected; a later sample for the same second replaces the earlier one.',
};

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

type SchemaErrors = NonNullable<ReturnType<typeof validatorOf>['errors']>;

/** Why a sample failed SAMPLE_SCHEMA (errors: Ajv's, all of them), shape and time first, then the values. */
function schemaReason(raw: unknown, errors: SchemaErrors, after: 'time' | 'metrics'): string | undefined {
  if (errors.length === 0) return undefined;
  const obj = raw as Record<string, unknown>;
  if (after === 'time') {
    if (errors.some((e) => e.instancePath === '' && e.keyword === 'type')) return 'sample must be a JSON object';
    const unknown = errors.find((e) => e.keyword === 'additionalProperties');
    if (unknown) return `unknown field "${String((unknown.params as { additionalProperty: string }).additionalProperty).slice(0, 40)}"`;
    const missing = (field: string): boolean =>
      errors.some((e) => e.keyword === 'required' && (e.params as { missingProperty: string }).missingProperty === field);
    if (missing('time')) return 'time is required';
    if (errors.some((e) => e.instancePath === '/time')) {
      if (typeof obj.time === 'number') return 'time must be a non-negative number of epoch seconds';
      if (typeof obj.time === 'string') return 'time is not an ISO-8601 date-time such as 2026-01-02T03:04:05Z';
      return 'time must be an ISO-8601 string or epoch seconds';
    }
    return undefined;
  }
  for (const field of METRICS) {
    const at = errors.filter((e) => e.instancePath === `/${field}`).map((e) => e.keyword);
    if (errors.some((e) => e.keyword === 'required' && (e.params as { missingProperty: string }).missingProperty === field)) return `${field} is required`;
    if (at.includes('type')) return `${field} must be an integer`;
    if (at.includes('minimum')) return `${field} must not be negative`;
    if (at.includes('maximum')) return `${field} exceeds ${SAMPLE_LIMITS[field]}`;
  }
  return 'sample does not match the sample schema';
}

function validateOne(raw: unknown, nowMs: number): CarouselSample | string {
  const validate = validatorOf(SAMPLE_SCHEMA);
  const errors = validate(raw) ? [] : [...(validate.errors ?? [])];
  const early = schemaReason(raw, errors, 'time');
  if (early !== undefined) return early;
  const obj = raw as Record<string, unknown>;
  // The calendar, the offset and the window are beyond the schema.
  const second = parseSampleTime(obj.time);
  if (typeof second === 'string') return second;
  if (second < nowMs - MAX_SAMPLE_AGE_MS) return 'time is more than 7 days in the past';
  if (second > nowMs + MAX_SAMPLE_FUTURE_MS) return 'time is more than 5 minutes in the future';
  const late = schemaReason(raw, errors, 'metrics');
  if (late !== undefined) return late;
  const [videoFps, videoKbps, audioFps, audioKbps] = METRICS.map((f) => obj[f]) as [number, number, number, number];
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
