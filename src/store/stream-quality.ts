import type { SeriesQuery } from '../contract/origin/params.js';
import type { QualitySample } from '../contract/origin/series.js';
import type { QueryOptions } from './types.js';

export type { QualitySample } from '../contract/origin/series.js';

/**
 * Per-second quality of probed live streams (issue 23): the carousel sample's four values (video and
 * audio frames and kbit/s per second) plus the GOP duration, the last video/audio timestamps and the
 * delay, keyed by (project, publish domain, app, stream). Written by the origin prober
 * (src/origin-probe/), read by the four per-stream endpoints. A sample replaces the one of the same second.
 */
export interface QualityRow extends QualitySample {
  project: string;
  domain: string;
  app: string;
  stream: string;
}

export interface QualityFilter {
  project: string;
  domain: string;
  app: string;
  stream: string;
  /** Inclusive, epoch ms (second-aligned). */
  from: number;
  /** Exclusive, epoch ms. */
  to: number;
}

/** Both backends (see test/store-conformance.ts, "stream quality"). */
export interface StreamQualityStore {
  writeQuality(rows: readonly QualityRow[]): Promise<void>;
  /** The stored seconds of [from, to), oldest first. */
  queryQuality(filter: QualityFilter, options?: QueryOptions): Promise<QualitySample[]>;
  /**
   * Optional: the whole answer of a per-stream series operation (seriesBody(q, queryQuality(filter))),
   * read and rendered off the main thread; the main thread only sends the bytes.
   */
  qualityBody?(filter: QualityFilter, q: SeriesQuery, options?: QueryOptions): Promise<Uint8Array>;
}

/** Every stored value is a non-negative integer (the carousel block codec's rule): rounded, clamped at 0, finite. */
export const storedValue = (v: number): number => (Number.isFinite(v) && v > 0 ? Math.min(Math.round(v), Number.MAX_SAFE_INTEGER) : 0);
