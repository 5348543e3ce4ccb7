import { runAudienceRead, type AudienceRead } from './audience-reads.js';
import type Database from 'better-sqlite3';
import type { HttpCodesFilter, SampleFilter } from '../types.js';
import { giveSpare } from '../../contract/json-bytes.js';
import { httpCodesBody, samplesBody } from './bodies.js';
import type { TrafficFilter } from '../traffic.js';
import { readHttpCodes, readSamples, type HttpCodesResult, type SamplesResult } from './reads.js';
import { readTrafficByDomain, readTrafficDomains, readTrafficSeries, trafficDetailBody, type TrafficByDomainResult } from './traffic-reads.js';
import type { DetailKind } from '../../contract/traffic/detail.js';
import { runOriginRead, type OriginRead } from './origin.js';
import { readQuality } from './stream-quality.js';
import type { SeriesQuery } from '../../contract/origin/params.js';
import { seriesBody } from '../../contract/origin/series.js';
import type { QualityFilter, QualitySample } from '../stream-quality.js';

/** Runs the store's reads: on the calling thread (InlineReader) or in a pool of worker threads. */
export interface Reader {
  httpCodes(f: HttpCodesFilter, signal?: AbortSignal): Promise<HttpCodesResult>;
  samples(f: SampleFilter, signal?: AbortSignal): Promise<SamplesResult>;
  /** The rendered answers (see bodies.ts). */
  httpCodesBody(f: HttpCodesFilter, codes: readonly number[], signal?: AbortSignal): Promise<Uint8Array>;
  samplesBody(f: SampleFilter, signal?: AbortSignal): Promise<Uint8Array>;
  /** A rendered answer has been sent: its buffer may be reused. */
  release(bytes: Uint8Array): void;
  trafficSeries(f: TrafficFilter, signal?: AbortSignal): Promise<Float64Array>;
  trafficByDomain(f: TrafficFilter, signal?: AbortSignal): Promise<TrafficByDomainResult>;
  trafficDomains(project: string, signal?: AbortSignal): Promise<string[]>;
  trafficDetailBody(f: TrafficFilter, kind: DetailKind, signal?: AbortSignal): Promise<Uint8Array>;
  /** The publish side's reads (src/store/sqlite/origin.ts); `project` only orders the queue. */
  origin(project: string, read: OriginRead, signal?: AbortSignal): Promise<unknown>;
  /** Per-second stream quality (src/store/sqlite/stream-quality.ts). */
  quality(f: QualityFilter, signal?: AbortSignal): Promise<QualitySample[]>;
  /** A per-stream series answer rendered whole (seriesBody). */
  qualityBody(f: QualityFilter, q: SeriesQuery, signal?: AbortSignal): Promise<Uint8Array>;
  /** An audience cube read (audience-reads.ts); the result as runAudienceRead answers it. */
  audience(read: AudienceRead, signal?: AbortSignal): Promise<unknown>;
  close(): Promise<void>;
}

/** Reads on the store's own connection (tests from TypeScript sources, tools, pool size 0). */
export class InlineReader implements Reader {
  constructor(private readonly db: Database.Database) {}

  async httpCodes(f: HttpCodesFilter): Promise<HttpCodesResult> {
    return readHttpCodes(this.db, f);
  }

  async samples(f: SampleFilter): Promise<SamplesResult> {
    return readSamples(this.db, f);
  }

  async httpCodesBody(f: HttpCodesFilter, codes: readonly number[]): Promise<Uint8Array> {
    return httpCodesBody(this.db, f, codes);
  }

  async samplesBody(f: SampleFilter): Promise<Uint8Array> {
    return samplesBody(this.db, f);
  }

  release(bytes: Uint8Array): void {
    if (bytes.buffer instanceof ArrayBuffer) giveSpare(bytes.buffer);
  }

  async trafficSeries(f: TrafficFilter): Promise<Float64Array> {
    return readTrafficSeries(this.db, f);
  }

  async trafficByDomain(f: TrafficFilter): Promise<TrafficByDomainResult> {
    return readTrafficByDomain(this.db, f);
  }

  async trafficDomains(project: string): Promise<string[]> {
    return readTrafficDomains(this.db, project);
  }

  async trafficDetailBody(f: TrafficFilter, kind: DetailKind): Promise<Uint8Array> {
    return trafficDetailBody(this.db, f, kind);
  }

  async origin(_project: string, read: OriginRead): Promise<unknown> {
    return runOriginRead(this.db, read);
  }

  async qualityBody(f: QualityFilter, q: SeriesQuery): Promise<Uint8Array> {
    return seriesBody(q, readQuality(this.db, f));
  }

  async quality(f: QualityFilter): Promise<QualitySample[]> {
    return readQuality(this.db, f);
  }

  async audience(read: AudienceRead): Promise<unknown> {
    return runAudienceRead(this.db, read);
  }

  async close(): Promise<void> {}
}
