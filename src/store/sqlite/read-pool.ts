import type { AudienceRead } from './audience-reads.js';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { QueryTimeoutError, type HttpCodesFilter, type SampleFilter } from '../types.js';
import type { Reader } from './reader.js';
import type { ReadReply, ReadRequestBody, ReadWorkerData } from './read-worker.js';
import type { HttpCodesResult, SamplesResult } from './reads.js';
import type { TrafficFilter } from '../traffic.js';
import type { TrafficByDomainResult } from './traffic-reads.js';
import { READ_THREAD_NICE } from '../thread-priority.js';
import { WORKER_RESOURCE_LIMITS } from './worker-memory.js';
import type { DetailKind } from '../../contract/traffic/detail.js';
import type { OriginRead } from './origin.js';
import type { QualityFilter, QualitySample } from '../stream-quality.js';
import type { SeriesQuery } from '../../contract/origin/params.js';

export interface ReadPoolOptions {
  /** Worker threads (0 or absent: one per core, at most 4). */
  size?: number;
  /** A query not answered this long after it was asked is failed with QueryTimeoutError (its worker is replaced). */
  timeoutMs?: number;
  /** Nice value of the worker threads (default READ_THREAD_NICE). */
  nice?: number;
  /** The compiled worker script (default: read-worker.js beside this module). */
  workerUrl?: URL;
}

export const defaultReadThreads = (): number => Math.max(1, Math.min(4, availableParallelism()));

interface Job {
  project: string;
  request: ReadRequestBody;
  resolve: (v: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  done: boolean;
  slot: Slot | undefined;
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
  /** Its job timed out: the worker finishes it (nothing can interrupt SQLite), then quits. */
  retiring: boolean;
  /** Resolves when the worker has exited. */
  exited: Promise<void>;
}

/** Workers kept beyond `size` while timed-out ones finish their query. */
const MAX_RETIRING = 4;

/**
 * Store reads in a small pool of worker threads, each with its own read-only connection, so
 * the main thread never runs a query. Queued queries are served round-robin across projects
 * (one project's burst does not starve another), oldest first within a project. A query has
 * `timeoutMs` from the moment it is asked; when it runs over, it fails with QueryTimeoutError at
 * once and a fresh worker takes its place; the old one finishes the query (better-sqlite3 cannot
 * interrupt it, and terminating a thread inside SQLite can crash the process), then exits.
 * An aborted query leaves the queue, or has its result dropped; either way it is settled at once.
 */
export class ReadPool implements Reader {
  private readonly slots: Slot[] = [];
  /** Sent answers' buffers waiting to ride to a worker with its next job. */
  private readonly spares: ArrayBuffer[] = [];
  private readonly queues = new Map<string, Job[]>();
  private readonly order: string[] = [];
  private next = 0;
  private nextId = 0;
  private closed = false;
  readonly size: number;
  private readonly timeoutMs: number;
  private readonly nice: number;
  private readonly workerUrl: URL;

  constructor(private readonly file: string, options: ReadPoolOptions = {}) {
    this.size = options.size && options.size > 0 ? options.size : defaultReadThreads();
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.nice = options.nice ?? READ_THREAD_NICE;
    this.workerUrl = options.workerUrl ?? new URL('./read-worker.js', import.meta.url);
  }

  httpCodes(filter: HttpCodesFilter, signal?: AbortSignal): Promise<HttpCodesResult> {
    return this.submit(filter.project, { kind: 'httpcodes', filter }, signal) as Promise<HttpCodesResult>;
  }

  samples(filter: SampleFilter, signal?: AbortSignal): Promise<SamplesResult> {
    return this.submit(filter.project, { kind: 'samples', filter }, signal) as Promise<SamplesResult>;
  }

  httpCodesBody(filter: HttpCodesFilter, codes: readonly number[], signal?: AbortSignal): Promise<Uint8Array> {
    return this.submit(filter.project, { kind: 'httpcodes-body', filter, codes }, signal) as Promise<Uint8Array>;
  }

  samplesBody(filter: SampleFilter, signal?: AbortSignal): Promise<Uint8Array> {
    return this.submit(filter.project, { kind: 'samples-body', filter }, signal) as Promise<Uint8Array>;
  }

  /**
   * Takes back a sent answer's buffer (only once nothing reads it any more): it travels to a
   * worker with the next job (no message of its own), so every worker renders into memory that
   * is already mapped instead of a fresh ~0.5 MB per answer (fresh memory costs page faults in
   * the worker and unmapping and external-memory GC pressure here: ~0.2 ms per 24 h answer).
   */
  release(bytes: Uint8Array): void {
    const buffer = bytes.buffer;
    if (this.closed || !(buffer instanceof ArrayBuffer) || buffer.byteLength === 0) return;
    if (this.spares.length >= this.size * 2 + 2) this.spares.shift();
    // Moved, not copied: the caller's view is detached at once (nothing may read it any more).
    this.spares.push(structuredClone(buffer, { transfer: [buffer] }));
  }

  trafficSeries(filter: TrafficFilter, signal?: AbortSignal): Promise<Float64Array> {
    return this.submit(filter.project, { kind: 'traffic-series', filter }, signal) as Promise<Float64Array>;
  }

  trafficByDomain(filter: TrafficFilter, signal?: AbortSignal): Promise<TrafficByDomainResult> {
    return this.submit(filter.project, { kind: 'traffic-by-domain', filter }, signal) as Promise<TrafficByDomainResult>;
  }

  trafficDetailBody(filter: TrafficFilter, kind: DetailKind, signal?: AbortSignal): Promise<Uint8Array> {
    return this.submit(filter.project, { kind: 'traffic-detail-body', filter, detail: kind }, signal) as Promise<Uint8Array>;
  }

  trafficDomains(project: string, signal?: AbortSignal): Promise<string[]> {
    return this.submit(project, { kind: 'traffic-domains', project }, signal) as Promise<string[]>;
  }

  origin(project: string, read: OriginRead, signal?: AbortSignal): Promise<unknown> {
    return this.submit(project, { kind: 'origin', read }, signal);
  }

  quality(filter: QualityFilter, signal?: AbortSignal): Promise<QualitySample[]> {
    return this.submit(filter.project, { kind: 'quality', filter }, signal) as Promise<QualitySample[]>;
  }

  qualityBody(filter: QualityFilter, query: SeriesQuery, signal?: AbortSignal): Promise<Uint8Array> {
    return this.submit(filter.project, { kind: 'quality-body', filter, query }, signal) as Promise<Uint8Array>;
  }

  audience(read: AudienceRead, signal?: AbortSignal): Promise<unknown> {
    return this.submit(read.op === 'domains' ? read.project : read.filter.project, { kind: 'audience', read }, signal);
  }

  /** Queries waiting for a worker (for tests and metrics). */
  get queued(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  private submit(project: string, request: ReadRequestBody, signal?: AbortSignal): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('read pool closed'));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      const job: Job = { project, request, resolve, reject, timer: undefined, signal, onAbort: undefined, done: false, slot: undefined };
      job.timer = setTimeout(() => this.timeout(job), this.timeoutMs);
      if (signal) {
        job.onAbort = () => this.abort(job);
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      let q = this.queues.get(project);
      if (!q) {
        this.queues.set(project, (q = []));
        this.order.push(project);
      }
      q.push(job);
      this.dispatch();
    });
  }

  private settle(job: Job): boolean {
    if (job.done) return false;
    job.done = true;
    clearTimeout(job.timer);
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    return true;
  }

  private removeQueued(job: Job): void {
    const q = this.queues.get(job.project);
    const i = q ? q.indexOf(job) : -1;
    if (q && i >= 0) q.splice(i, 1);
  }

  private timeout(job: Job): void {
    if (!this.settle(job)) return;
    this.removeQueued(job);
    if (job.slot) job.slot.retiring = true;
    job.reject(new QueryTimeoutError(this.timeoutMs));
    this.dispatch();
  }

  private abort(job: Job): void {
    if (!this.settle(job)) return;
    this.removeQueued(job);
    // A running query's answer is dropped when it arrives; the worker then takes the next job.
    job.reject(abortError(job.signal as AbortSignal));
  }

  /** Round-robin over projects with waiting jobs. */
  private take(): Job | undefined {
    while (this.order.length > 0) {
      if (this.next >= this.order.length) this.next = 0;
      const project = this.order[this.next] as string;
      const q = this.queues.get(project) ?? [];
      const job = q.shift();
      if (q.length === 0) {
        this.queues.delete(project);
        this.order.splice(this.next, 1);
      } else {
        this.next++;
      }
      if (job) return job;
    }
    return undefined;
  }

  private dispatch(): void {
    if (this.closed) return;
    for (;;) {
      // One pass over the few slots (no arrays made per answer): an idle worker, and how many are retiring.
      let slot: Slot | undefined;
      let retiring = 0;
      for (const s of this.slots) {
        if (s.retiring) retiring++;
        else if (slot === undefined && s.job === undefined) slot = s;
      }
      const active = this.slots.length - retiring;
      if (!slot && active < this.size && retiring <= MAX_RETIRING) slot = this.spawn();
      if (!slot) return;
      const job = this.take();
      if (!job) return;
      slot.job = job;
      job.slot = slot;
      const spare = this.spares.pop();
      if (spare) slot.worker.postMessage({ ...job.request, id: this.nextId++, spare }, [spare]);
      else slot.worker.postMessage({ ...job.request, id: this.nextId++ });
    }
  }

  private spawn(): Slot {
    const data: ReadWorkerData = { file: this.file, nice: this.nice };
    const worker = new Worker(this.workerUrl, { workerData: data, resourceLimits: WORKER_RESOURCE_LIMITS });
    const slot: Slot = {
      worker, job: undefined, retiring: false,
      exited: new Promise<void>((resolve) => worker.once('exit', () => resolve())),
    };
    slot.worker.on('message', (reply: ReadReply) => {
      const job = slot.job;
      slot.job = undefined;
      if (job && this.settle(job)) {
        if (reply.ok) job.resolve(reply.result);
        else job.reject(new Error(reply.message));
      }
      if (slot.retiring || this.closed) this.remove(slot);
      this.dispatch();
    });
    slot.worker.on('error', (err) => this.fail(slot, err));
    slot.worker.on('exit', (code) => {
      if (!this.closed && this.slots.includes(slot)) this.fail(slot, new Error(`read worker exited with code ${code}`));
    });
    slot.worker.unref();
    this.slots.push(slot);
    return slot;
  }

  /** A worker died: its job fails, the slot is dropped (a new worker is spawned on demand). */
  private fail(slot: Slot, err: Error): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.slots.splice(i, 1);
    const job = slot.job;
    slot.job = undefined;
    if (job && this.settle(job)) job.reject(err);
    void slot.worker.terminate();
    this.dispatch();
  }

  /** Stops an idle worker (never one inside a query). */
  private remove(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    void slot.worker.terminate();
  }

  /** Fails what waits; workers still inside a query finish it first, then exit. */
  async close(): Promise<void> {
    this.closed = true;
    this.spares.length = 0;
    for (const q of this.queues.values()) {
      for (const job of q) if (this.settle(job)) job.reject(new Error('read pool closed'));
    }
    this.queues.clear();
    const slots = [...this.slots];
    for (const s of slots) {
      if (s.job && this.settle(s.job)) s.job.reject(new Error('read pool closed'));
      if (!s.job) this.remove(s);
    }
    await Promise.all(slots.map((s) => s.exited));
  }
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('query aborted');
}
