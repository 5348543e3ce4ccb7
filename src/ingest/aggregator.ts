import { randomUUID } from 'node:crypto';
import type { Isp, Region } from '../contract/values.js';
import type { TrafficRow } from '../store/traffic.js';
import type { CountRow, SampleRow, Store, WriteBatch } from '../store/types.js';

const MINUTE = 60_000;
const SECOND = 1000;

/** One request seen in an access log, already normalized and geo-located. */
export interface AccessRecord {
  project: string;
  domain: string;
  /** Epoch ms of the request. */
  time: number;
  region: Region;
  isp: Isp;
  code: number;
}

export interface AggregatorLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface AggregatorOptions {
  flushIntervalMs?: number;
  logger?: AggregatorLogger;
}

export interface AggregatorStats {
  /** Counted records not yet handed to the store. */
  pendingRecords: number;
  /** Sealed batches waiting for (or retrying) their write. */
  pendingBatches: number;
  flushes: number;
  failedFlushes: number;
}

const silent: AggregatorLogger = { info: () => {}, error: () => {} };

/**
 * The in-memory minute aggregator every ingest path feeds. Records are summed per
 * (project, domain, minute, region, isp, code) cell; carousel samples keep the latest
 * value per (project, task, second); checkpoints keep the latest value per key.
 * Every flush seals what was collected into one batch and writes batches to the store
 * in order, each in one transaction. A batch whose write fails is kept and retried
 * as-is (same id) before anything newer, so nothing acknowledged is lost or reordered.
 */
export class Aggregator {
  private counts = new Map<string, CountRow>();
  private traffic = new Map<string, TrafficRow>();
  private samples = new Map<string, SampleRow>();
  private tasks = new Map<string, { project: string; taskId: string }>();
  private checkpoints = new Map<string, string>();
  private pendingRecords = 0;
  private readonly queue: WriteBatch[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private flushes = 0;
  private failedFlushes = 0;
  private readonly written: Array<(projects: Set<string>, checkpointKeys: string[]) => void> = [];
  private readonly flushIntervalMs: number;
  private readonly logger: AggregatorLogger;

  constructor(private readonly store: Store, options: AggregatorOptions = {}) {
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.logger = options.logger ?? silent;
  }

  /** Counts `n` requests of one record sending `bytes` in all (n > 1 lets pre-aggregated sources feed whole cells). */
  add(r: AccessRecord, n = 1, bytes = 0): void {
    const minute = Math.floor(r.time / MINUTE) * MINUTE;
    const key = `${r.project}\u0000${r.domain}\u0000${minute}\u0000${r.region}\u0000${r.isp}\u0000${r.code}`;
    const row = this.counts.get(key);
    if (row) {
      row.count += n;
      row.bytes = (row.bytes ?? 0) + bytes;
    } else {
      this.counts.set(key, { project: r.project, domain: r.domain, minute, region: r.region, isp: r.isp, code: r.code, count: n, bytes });
    }
    this.pendingRecords += n;
  }

  /**
   * Adds a traffic cube cell (the same requests as `add`, by stream, protocol and address family).
   * The aggregator may keep `r` itself: callers pass a row they do not change afterwards.
   */
  addTraffic(r: TrafficRow): void {
    const key = `${r.project}\u0000${r.domain}\u0000${r.app}\u0000${r.stream}\u0000${r.protocol}\u0000${r.region}\u0000${r.isp}\u0000${r.ipType}\u0000${r.slot}`;
    const row = this.traffic.get(key);
    if (row) {
      row.requests += r.requests;
      row.bytes += r.bytes;
    } else {
      this.traffic.set(key, r);
    }
  }

  /** Records a per-second carousel sample; a later sample for the same second replaces the earlier one. */
  addSample(s: SampleRow): void {
    const second = Math.floor(s.second / SECOND) * SECOND;
    this.samples.set(`${s.project}\u0000${s.taskId}\u0000${second}`, { ...s, second });
    this.pendingRecords += 1;
  }

  /** Makes a carousel task exist even before its first sample. */
  registerTask(project: string, taskId: string): void {
    this.tasks.set(`${project}\u0000${taskId}`, { project, taskId });
  }

  /** Stores a resume position with the next batch, so it commits with the data fed before it. */
  checkpoint(key: string, value: string): void {
    this.checkpoints.set(key, value);
  }

  /** Calls `listener` with the projects and checkpoint keys of every batch once the store has it. */
  onWritten(listener: (projects: Set<string>, checkpointKeys: string[]) => void): void {
    this.written.push(listener);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      // A failure is logged in drain() and the batch stays queued for the next tick.
      if (!this.running) this.flush().catch(() => undefined);
    }, this.flushIntervalMs);
    this.timer.unref();
  }

  stats(): AggregatorStats {
    return {
      pendingRecords: this.pendingRecords + this.queue.reduce((n, b) => n + b.counts.length + b.samples.length, 0),
      pendingBatches: this.queue.length,
      flushes: this.flushes,
      failedFlushes: this.failedFlushes,
    };
  }

  private seal(): void {
    if (this.counts.size === 0 && this.traffic.size === 0 && this.samples.size === 0 && this.tasks.size === 0 && this.checkpoints.size === 0) {
      return;
    }
    this.queue.push({
      id: randomUUID(),
      counts: [...this.counts.values()],
      samples: [...this.samples.values()],
      tasks: [...this.tasks.values()],
      checkpoints: [...this.checkpoints].map(([key, value]) => ({ key, value })),
      ...(this.traffic.size > 0 ? { traffic: [...this.traffic.values()] } : {}),
    });
    this.counts = new Map();
    this.traffic = new Map();
    this.samples = new Map();
    this.tasks = new Map();
    this.checkpoints = new Map();
    this.pendingRecords = 0;
  }

  /**
   * Seals what has been collected and writes every pending batch. Resolves once all were
   * written; rejects (keeping the failed batch queued) when the store refused one.
   * Concurrent calls wait for the running flush, then flush again.
   */
  async flush(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
    const run = this.drain();
    this.running = run;
    try {
      await run;
    } finally {
      this.running = undefined;
    }
  }

  private async drain(): Promise<void> {
    this.seal();
    while (this.queue.length > 0) {
      const batch = this.queue[0] as WriteBatch;
      try {
        await this.store.write(batch);
      } catch (err) {
        this.failedFlushes++;
        this.logger.error({ err, batch: batch.id, rows: batch.counts.length + batch.samples.length }, 'flush failed; will retry');
        throw err;
      }
      this.queue.shift();
      this.flushes++;
      if (this.written.length > 0) {
        const projects = new Set<string>();
        for (const r of batch.counts) projects.add(r.project);
        for (const r of batch.samples) projects.add(r.project);
        for (const r of batch.traffic ?? []) projects.add(r.project);
        for (const t of batch.tasks) projects.add(t.project);
        const keys = batch.checkpoints.map((c) => c.key);
        for (const l of this.written) l(projects, keys);
      }
    }
  }

  /** Stops the timer and writes everything pending, retrying a failing store a few times. */
  async stop(retries = 5): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.flush();
        return;
      } catch (err) {
        if (attempt >= retries) throw err;
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      }
    }
  }
}
