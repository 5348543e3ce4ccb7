import type { CarouselSample } from '../contract/carousel.js';
import type { CodeCount } from '../contract/httpcodes.js';
import type { Isp, Region } from '../contract/values.js';
import type { ProjectCells } from './packed.js';
import type { AudienceQuery, ProjectAudience } from './audience.js';
import type { TrafficQuery, TrafficRow } from './traffic.js';
import type { OriginBatch, OriginQuery } from './origin.js';
import type { StreamQualityStore } from './stream-quality.js';

export type { CarouselSample } from '../contract/carousel.js';
export type { CodeCount } from '../contract/httpcodes.js';

/** Requests (and bytes sent) counted for one (project, domain, minute, region, isp, code) cell; minute in epoch ms. */
export interface CountRow {
  project: string;
  domain: string;
  minute: number;
  region: Region;
  isp: Isp;
  code: number;
  count: number;
  /** Bytes sent for these requests ($bytes_sent, else $body_bytes_sent); 0 or absent when not logged. */
  bytes?: number;
}

export interface SampleRow extends CarouselSample {
  project: string;
  taskId: string;
}

/** An opaque resume position (e.g. a followed file's offset), written atomically with the data it covers. */
export interface Checkpoint {
  key: string;
  value: string;
}

/**
 * Everything one aggregator flush writes. A store applies it atomically: counts are
 * added to what is stored, samples replace the same second, checkpoints overwrite.
 * `id` is unique per batch; stores that can see a retried write use it to apply it once.
 */
export interface WriteBatch {
  id: string;
  counts: CountRow[];
  samples: SampleRow[];
  tasks: Array<{ project: string; taskId: string }>;
  checkpoints: Checkpoint[];
  /** Traffic cube cells (src/store/traffic.ts), written atomically with the rest; absent = none. */
  traffic?: TrafficRow[];
  /**
   * Playback and traffic cells in columns (src/store/packed.ts), the same meaning as rows in counts and
   * traffic; only given to a store with `writesPacked` (absent = none).
   */
  packed?: ProjectCells[];
  /** Audience cube input (src/store/audience.ts), written atomically with the rest; absent = none. */
  audience?: ProjectAudience[];
  /** Publish-side rows (src/store/origin.ts; OriginBatch.audience travels in `audience`), written atomically with the rest. */
  origin?: OriginBatch;
}

export interface HttpCodesFilter {
  project: string;
  domains: string[];
  regions: Region[];
  isps: Isp[];
  /** Inclusive, epoch ms, minute-aligned. */
  fromMinute: number;
  /** Exclusive, epoch ms. */
  toMinute: number;
}

export interface SampleFilter {
  project: string;
  taskId: string;
  /** Inclusive, epoch ms. */
  from: number;
  /** Exclusive, epoch ms. */
  to: number;
}

export interface TaskInfo {
  taskId: string;
  createdAt: number;
  /** Epoch ms of the newest sample's second, or null when the task has none yet. */
  lastSampleAt: number | null;
}

/**
 * Options of a read made for a client. `signal` aborts when the client has gone: the store then
 * stops the work where it can and rejects with `signal.reason` instead of answering (a read that
 * cannot be interrupted drops its result). See src/api/query-slots.ts.
 */
export interface QueryOptions {
  signal?: AbortSignal;
}

/** A store read that ran longer than the configured query timeout. */
export class QueryTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`query timed out after ${timeoutMs} ms`);
    this.name = 'QueryTimeoutError';
  }
}

/** The names one project has stored (what its caps count; see src/ingest/name-limits.ts). */
export interface StoredNames {
  domains: string[];
  /** (domain, app, stream) */
  streams: Array<[string, string, string]>;
  tasks: string[];
}

/** Series ids the store has left for new names, shared by every project. */
export interface NameSpace {
  /** New play domains (the smaller of the playback and traffic id spaces left). */
  domains: number;
  /** New streams. */
  streams: number;
}

/** The one storage interface every backend implements; see test/store-conformance for its behaviour. */
export interface Store extends TrafficQuery, AudienceQuery, OriginQuery, StreamQualityStore {
  readonly kind: string;
  /** True when write() reads `batch.packed`; otherwise packed cells reach it as rows. */
  readonly writesPacked?: boolean;
  /** Applies all pending schema migrations; safe to call on every start. */
  init(): Promise<void>;
  write(batch: WriteBatch): Promise<void>;
  /** Per (minute, code) request counts summed over the filter; codes are not filtered here. */
  queryHttpCodes(filter: HttpCodesFilter, options?: QueryOptions): Promise<CodeCount[]>;
  querySamples(filter: SampleFilter, options?: QueryOptions): Promise<CarouselSample[]>;
  /**
   * Optional: the whole httpcodes answer for `codes` (the query's code filter) as bytes, rendered by
   * the store where that is cheaper (off the main thread); byte-identical to
   * `httpCodesJson(query, await queryHttpCodes(filter))`. Routes use it when present.
   */
  httpCodesBody?(filter: HttpCodesFilter, codes: readonly number[], options?: QueryOptions): Promise<Uint8Array>;
  /** Optional: the carousel detail answer as bytes, byte-identical to `carouselJson(query, await querySamples(filter))`. */
  carouselBody?(filter: SampleFilter, options?: QueryOptions): Promise<Uint8Array>;
  /** Optional: a body from httpCodesBody/carouselBody has been sent whole; the store may reuse its memory. */
  releaseBody?(bytes: Uint8Array): void;
  taskExists(project: string, taskId: string, options?: QueryOptions): Promise<boolean>;
  listTasks(project: string): Promise<TaskInfo[]>;
  getCheckpoint(key: string): Promise<string | undefined>;
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
  /** Deletes counts and samples older than the cutoff (epoch ms). */
  deleteBefore(cutoff: number): Promise<void>;
  /** Deletes traffic cube data older than the cutoff (epoch ms; the traffic cube has its own retention). */
  deleteTrafficBefore(cutoff: number): Promise<void>;
  /** Deletes checkpoints whose key starts with `prefix` last written before the cutoff (e.g. old batch ids). */
  deleteCheckpointsBefore?(prefix: string, cutoff: number): Promise<void>;
  /** Optional: the names a project has stored, for the per-project caps (absent: only names seen since start count). */
  storedNames?(project: string): Promise<StoredNames>;
  /** Optional: the play domains a project has stored (storedNames' domains without reading every stream: the dashboard's picker). */
  storedDomains?(project: string): Promise<string[]>;
  /** Optional: series ids left for new names (absent: unbounded). */
  nameSpace?(): Promise<NameSpace>;
  close(): Promise<void>;
}
