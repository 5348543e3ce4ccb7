import { DAY, HOUR } from '../time.js';
import type { WindowRule } from '../window.js';

/**
 * Limits and windows of the eight publish-side operations (origin-api.md). Names (app, stream) follow the
 * traffic family's rule (isStreamName: 1..256 characters, no '/', no control characters).
 */
export const MAX_ORIGIN_DOMAINS = 100;
export const DEFAULT_PAGE_LIMIT = 10;
export const MAX_PAGE_LIMIT = 100;
/** Largest page number accepted (offset): past it a request is a 400, not a scan. */
export const MAX_PAGE_OFFSET = 1_000_000;

/** ListHistoryStreams: default last 1 day; span <= 1 day; look-back <= 1 year. */
export const HISTORY_WINDOW: WindowRule = { maxSpanMs: DAY, maxLookbackMs: 365 * DAY, defaultSpanMs: DAY };
/** ShowStreamCount and ShowUpBandwidth: default 7 days; span <= 31 days; look-back <= 1 year. */
export const SLOT_WINDOW: WindowRule = { maxSpanMs: 31 * DAY, maxLookbackMs: 365 * DAY, defaultSpanMs: 7 * DAY };
/**
 * The four per-stream series: default last 1 hour; span <= 1 day; look-back <= 1 month, settled here as
 * 31 days (the longest month, so a "same day last month" window is never refused).
 */
export const SERIES_WINDOW: WindowRule = { maxSpanMs: DAY, maxLookbackMs: 31 * DAY, defaultSpanMs: HOUR };

/** ListSingleStreamBitrate's `type`. */
export const BITRATE_TYPES = ['VIDEO', 'AUDIO'] as const;
export type BitrateType = (typeof BITRATE_TYPES)[number];
export const isBitrateType = (v: string): v is BitrateType => v === 'VIDEO' || v === 'AUDIO';

/** ShowUpBandwidth's `type`: RELAY, or absent for publishing. */
export const UP_BANDWIDTH_TYPES = ['RELAY'] as const;
export type UpBandwidthType = (typeof UP_BANDWIDTH_TYPES)[number];
export const isUpBandwidthType = (v: string): v is UpBandwidthType => v === 'RELAY';

/** A publish session's `type`: 0 publisher, 1 relay (an origin pull or push between servers). */
export const SESSION_PUBLISH = 0;
export const SESSION_RELAY = 1;
export type SessionType = typeof SESSION_PUBLISH | typeof SESSION_RELAY;
