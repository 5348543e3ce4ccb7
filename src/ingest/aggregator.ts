import { randomUUID } from 'node:crypto';
import type { Isp, Region } from '../contract/values.js';
import { BatchRejectedError, classifyStoreError, failedWriteApplied, isOutage, StoreUnavailableError, type FaultReason } from '../health/store-faults.js';
import { StoreHealth } from '../health/store-health.js';
import { cellValue } from '../store/cell-values.js';
import { expandPacked, packedRequests, type PackedCells, type ProjectCells } from '../store/packed.js';
import type { ProjectAudience } from '../store/audience.js';
import type { TrafficRow } from '../store/traffic.js';
import type { Checkpoint, CountRow, SampleRow, Store, WriteBatch } from '../store/types.js';

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
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Told about every store write of a batch: how long it took, and which attempt it was
 * (1 for the first; more when the batch is retried after a failure). Must not throw.
 */
export interface FlushObserver {
  written(batch: WriteBatch, seconds: number, attempt: number): void;
  failed(batch: WriteBatch, seconds: number, attempt: number): void;
}

export interface AggregatorOptions {
  flushIntervalMs?: number;
  logger?: AggregatorLogger;
  /** Metrics of store writes (see FlushObserver). */
  observer?: FlushObserver;
  /** Where write failures and recoveries are reported (default: a private one logging to `logger`). */
  health?: StoreHealth;
  /**
   * How long a batch in doubt must keep failing for its data before it is rejected (default
   * IN_DOUBT_DATA_FAULT_MS): a server-side condition that passes (ClickHouse "too many parts") must not lose it.
   */
  inDoubtDataFaultMs?: number;
}

export interface AggregatorStats {
  /** Counted records not yet handed to the store. */
  pendingRecords: number;
  /** Sealed batches waiting for (or retrying) their write. */
  pendingBatches: number;
  flushes: number;
  failedFlushes: number;
  /** Records refused since start (never stored). */
  refusedRecords: number;
  /** Of those, records rejected for their data while the store took other writes (see BatchRejectedError). */
  rejectedRecords: number;
}

/** What the store refused in one failure: none of it is stored, ever. */
export interface Refusal {
  reason: FaultReason;
  records: number;
  /** Checkpoint keys that were refused with the data (follow offsets, batch ids). */
  checkpointKeys: string[];
  /**
   * Set when the data itself was rejected (BatchRejectedError), not refused for a store outage: then
   * also the refused checkpoints' values (a follower skips past lines the store can never take).
   */
  rejected?: { checkpoints: Checkpoint[] };
}

const silent: AggregatorLogger = { info: () => {}, warn: () => {}, error: () => {} };
/** Longest wait between write attempts while the store refuses writes. */
export const MAX_RETRY_DELAY_MS = 4000;
/** Written when the store is degraded and nothing else is pending, so recovery is noticed by itself. */
export const PROBE_CHECKPOINT = 'livestats:probe';

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(err: Error): void;
}

function deferred(): Deferred {
  let resolve: () => void = () => {};
  let reject: (err: Error) => void = () => {};
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // observed by whoever awaits it; never an unhandled rejection
  return { promise, resolve, reject };
}

interface Queued {
  batch: WriteBatch;
  /** Settles with the whole batch (for a part of a split batch: with the last of its parts). */
  done: Deferred;
  /** Per-project waiters (committed(project)): settled with that project's data. */
  waiters: Map<string, Deferred>;
  /** The project of each checkpoint key that named one (see checkpoint()). */
  owners: Map<string, string>;
  records: number;
  /** A write failed in a way that may have stored part of it: it is retried (same id) until it lands. */
  inDoubt: boolean;
  /** Attempts that failed for a data fault (the store took a probe write right after). */
  dataFailures: number;
  /** When the first of them failed (epoch ms). */
  dataSince?: number;
  /** Set on the parts of a batch split after a data fault. */
  split?: Split;
  /** The part of a split batch holding the checkpoints that named no project (written last). */
  unowned?: boolean;
}

/** The parts one batch was split into: its `done` settles once every part has. */
interface Split {
  left: number;
  /** Why a part was rejected (the whole batch's `done` rejects with it). */
  error: BatchRejectedError | undefined;
  /** Waiters of projects that had no data in the batch: resolved with the last part. */
  rest: Deferred[];
}

/**
 * A batch (or part) whose write failed this many times in a row while a probe write succeeded after
 * each is rejected for its data (see the class comment): one failure may be a passing condition.
 */
export const DATA_FAULT_ATTEMPTS = 3;
/** Wait before writing a batch again after a data failure (doubled per failure, at most MAX_RETRY_DELAY_MS). */
const DATA_RETRY_MS = 100;
/** A batch in doubt is rejected for its data only after failing so for this long (see AggregatorOptions). */
export const IN_DOUBT_DATA_FAULT_MS = 60_000;

/** A batch's part: only its project's data and the checkpoints that named its project. */
function partOf(batch: WriteBatch, owners: Map<string, string>, project: string | undefined): WriteBatch {
  const mine = (p: string): boolean => p === project;
  const traffic = batch.traffic?.filter((r) => mine(r.project));
  const packed = batch.packed?.filter((p) => mine(p.project));
  const audience = batch.audience?.filter((p) => mine(p.project));
  return {
    id: randomUUID(),
    counts: batch.counts.filter((r) => mine(r.project)),
    samples: batch.samples.filter((r) => mine(r.project)),
    tasks: batch.tasks.filter((r) => mine(r.project)),
    checkpoints: batch.checkpoints.filter((c) => owners.get(c.key) === project),
    ...(traffic && traffic.length > 0 ? { traffic } : {}),
    ...(packed && packed.length > 0 ? { packed } : {}),
    ...(audience && audience.length > 0 ? { audience } : {}),
  };
}

/** The records (requests, samples) a batch carries, as pendingRecords counted them. */
function recordsOf(b: WriteBatch): number {
  let n = b.samples.length;
  for (const r of b.counts) n += r.count;
  for (const p of b.packed ?? []) n += packedRequests(p.cells);
  return n;
}

/** The projects of a queued batch: those with data in it, and those its checkpoints named. */
function partProjects(q: Queued): Set<string> {
  const projects = projectsOf(q.batch);
  for (const c of q.batch.checkpoints) {
    const owner = q.owners.get(c.key);
    if (owner !== undefined) projects.add(owner);
  }
  return projects;
}

/** The projects whose data a batch carries. */
function projectsOf(b: WriteBatch): Set<string> {
  const projects = new Set<string>();
  for (const r of b.counts) projects.add(r.project);
  for (const r of b.samples) projects.add(r.project);
  for (const r of b.traffic ?? []) projects.add(r.project);
  for (const p of b.packed ?? []) projects.add(p.project);
  for (const p of b.audience ?? []) projects.add(p.project);
  for (const t of b.tasks) projects.add(t.project);
  return projects;
}

/**
 * The in-memory minute aggregator every ingest path feeds. Records are summed per
 * (project, domain, minute, region, isp, code) cell; carousel samples keep the latest
 * value per (project, task, second); checkpoints keep the latest value per key.
 * Every flush seals what was collected into one batch and writes batches to the store
 * in order, each atomically.
 *
 * One rule for a failed write: everything not yet committed is refused and dropped (its
 * writers are told through commit() and onRefused, and decide: the HTTP intake answers 503,
 * follow rewinds to its committed offset, syslog keeps its buffer), so nothing refused is
 * counted later. The exception is a batch the store may have partly applied (ClickHouse has
 * no transactions): it is kept and retried as-is (same id) until it lands, which the store
 * applies exactly once; its writers wait.
 *
 * The blast radius of bad data is one project. A write that fails for a reason that is not an
 * outage (isOutage) is followed by a probe: a write of nothing but a checkpoint. When the probe
 * fails too, the store is down (the rule above). When it succeeds, the batch's data is at fault:
 * a batch of several projects is split into one part per project (new ids; each part carries the
 * checkpoints that named its project, and the checkpoints that named none go in a last part that
 * is written only when every other part was), the parts are written in its place, and a part that
 * fails for its data DATA_FAULT_ATTEMPTS times (a first failure may be a passing condition) is
 * rejected alone (BatchRejectedError: its writers are told, the store stays "ok"). A batch in doubt
 * cannot be split (its id must stay): it is retried the same way for at least inDoubtDataFaultMs
 * (60 s) and then rejected, so it never blocks every tenant forever (the one case where a rejected
 * batch may have been partly stored).
 */
export class Aggregator {
  private counts = new Map<string, CountRow>();
  private traffic = new Map<string, TrafficRow>();
  private packed: ProjectCells[] = [];
  private audience: ProjectAudience[] = [];
  private samples = new Map<string, SampleRow>();
  private tasks = new Map<string, { project: string; taskId: string }>();
  private checkpoints = new Map<string, string>();
  private owners = new Map<string, string>();
  private pendingRecords = 0;
  private open: Deferred = deferred();
  private openWaiters = new Map<string, Deferred>();
  private readonly queue: Queued[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private flushes = 0;
  private failedFlushes = 0;
  private refusedRecords = 0;
  private rejectedRecords = 0;
  private refusalCount = 0;
  private retryDelayMs = 0;
  private nextAttemptAt = 0;
  private readonly written: Array<(projects: Set<string>, checkpointKeys: string[]) => void> = [];
  private readonly refusedListeners: Array<(r: Refusal) => void> = [];
  private readonly flushIntervalMs: number;
  private readonly logger: AggregatorLogger;
  private readonly observer: FlushObserver | undefined;
  private readonly inDoubtDataFaultMs: number;
  /** Failed attempts of the batch at the head of the queue (only the head is ever written). */
  private headFailures = 0;
  readonly health: StoreHealth;

  constructor(private readonly store: Store, options: AggregatorOptions = {}) {
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.logger = options.logger ?? silent;
    this.observer = options.observer;
    this.inDoubtDataFaultMs = options.inDoubtDataFaultMs ?? IN_DOUBT_DATA_FAULT_MS;
    this.health = options.health ?? new StoreHealth({ logger: this.logger });
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

  /**
   * Adds pre-aggregated cells of one project (what the parse paths produce); returns their requests.
   * A store that reads packed cells gets them as they are (no object or string key per cell); for
   * any other they are added as rows. The aggregator keeps `cells`: callers do not change it afterwards.
   */
  addPacked(project: string, cells: PackedCells): number {
    const requests = packedRequests(cells);
    if (cells.audience) {
      // The audience cells travel beside the packed ones (WriteBatch.audience), for every kind of store.
      this.audience.push({ project, cells: cells.audience });
      delete cells.audience;
    }
    if (this.store.writesPacked === true) {
      this.packed.push({ project, cells });
      this.pendingRecords += requests;
      return requests;
    }
    const { counts, traffic } = expandPacked({ project, cells });
    for (const r of counts) this.add({ project, domain: r.domain, time: r.minute, region: r.region, isp: r.isp, code: r.code }, r.count, r.bytes ?? 0);
    for (const r of traffic) this.addTraffic(r);
    return requests;
  }

  /** Records a per-second carousel sample; a later sample for the same second replaces the earlier one. */
  addSample(s: SampleRow): void {
    const second = Math.floor(s.second / SECOND) * SECOND;
    // Storable whatever the source (the intake's schema bounds them; an in-process probe is not checked by it).
    const v = { videoFps: cellValue(s.videoFps), videoKbps: cellValue(s.videoKbps), audioFps: cellValue(s.audioFps), audioKbps: cellValue(s.audioKbps) };
    this.samples.set(`${s.project}\u0000${s.taskId}\u0000${second}`, { ...s, ...v, second });
    this.pendingRecords += 1;
  }

  /** Makes a carousel task exist even before its first sample. */
  registerTask(project: string, taskId: string): void {
    this.tasks.set(`${project}\u0000${taskId}`, { project, taskId });
  }

  /**
   * Stores a resume position with the next batch, so it commits with the data fed before it.
   * `project` names the project whose data the position covers: when a batch is split after a
   * data fault (see the class comment), the checkpoint goes with that project's part.
   */
  checkpoint(key: string, value: string, project?: string): void {
    this.checkpoints.set(key, value);
    if (project === undefined) this.owners.delete(key);
    else this.owners.set(key, project);
  }

  /** Calls `listener` with the projects and checkpoint keys of every batch once the store has it. */
  onWritten(listener: (projects: Set<string>, checkpointKeys: string[]) => void): void {
    this.written.push(listener);
  }

  /** Calls `listener` whenever data was refused (see the class comment). */
  onRefused(listener: (r: Refusal) => void): void {
    this.refusedListeners.push(listener);
  }

  /** Grows by one on every refusal: a writer that saw another value has had data refused since. */
  get refusals(): number {
    return this.refusalCount;
  }

  /**
   * Resolves once everything added so far is committed; rejects (StoreUnavailableError, or
   * BatchRejectedError for rejected data) when it was refused. With `project`, only that project's
   * data counts: another project's rejected data does not reject it.
   */
  committed(project?: string): Promise<void> {
    if (this.hasOpenData()) {
      if (project === undefined) return this.open.promise;
      let d = this.openWaiters.get(project);
      if (!d) this.openWaiters.set(project, (d = deferred()));
      return d.promise;
    }
    const last = this.queue[this.queue.length - 1];
    if (!last) return Promise.resolve();
    if (project === undefined) return last.done.promise;
    let d = last.waiters.get(project);
    if (!d) {
      d = deferred();
      if (last.split && !partProjects(last).has(project)) last.split.rest.push(d);
      else last.waiters.set(project, d);
    }
    return d.promise;
  }

  /** Flushes now and waits for everything added so far (of `project`, when given): committed, or refused (rejects). */
  commit(project?: string): Promise<void> {
    const done = this.committed(project);
    this.flush().catch(() => undefined);
    return done;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      if (!this.health.ok) {
        // Degraded: one attempt per back-off interval (a locked SQLite makes each attempt wait
        // for its busy timeout), with a probe when idle so recovery is seen without traffic.
        if (Date.now() < this.nextAttemptAt) return;
        if (!this.hasOpenData() && this.queue.length === 0) this.checkpoints.set(PROBE_CHECKPOINT, String(Date.now()));
      }
      this.flush().then(() => {
        this.retryDelayMs = 0;
      }, () => {
        // Reported in drain(); refused writers were told there.
        this.retryDelayMs = Math.min(MAX_RETRY_DELAY_MS, Math.max(this.flushIntervalMs, this.retryDelayMs * 2));
        this.nextAttemptAt = Date.now() + this.retryDelayMs;
      });
    }, this.flushIntervalMs);
    this.timer.unref();
  }

  stats(): AggregatorStats {
    return {
      pendingRecords: this.pendingRecords + this.queue.reduce((n, q) => n + q.records, 0),
      pendingBatches: this.queue.length,
      flushes: this.flushes,
      failedFlushes: this.failedFlushes,
      refusedRecords: this.refusedRecords,
      rejectedRecords: this.rejectedRecords,
    };
  }

  private hasOpenData(): boolean {
    return this.counts.size > 0 || this.traffic.size > 0 || this.packed.length > 0 || this.audience.length > 0 || this.samples.size > 0 || this.tasks.size > 0 || this.checkpoints.size > 0;
  }

  /** Takes the open generation's data (and its waiters) out as a batch. */
  private take(): Queued | undefined {
    if (!this.hasOpenData()) return undefined;
    const q: Queued = {
      batch: {
        id: randomUUID(),
        counts: [...this.counts.values()],
        samples: [...this.samples.values()],
        tasks: [...this.tasks.values()],
        checkpoints: [...this.checkpoints].map(([key, value]) => ({ key, value })),
        ...(this.traffic.size > 0 ? { traffic: [...this.traffic.values()] } : {}),
        ...(this.packed.length > 0 ? { packed: this.packed } : {}),
        ...(this.audience.length > 0 ? { audience: this.audience } : {}),
      },
      done: this.open,
      waiters: this.openWaiters,
      owners: this.owners,
      records: this.pendingRecords,
      inDoubt: false,
      dataFailures: 0,
    };
    this.counts = new Map();
    this.traffic = new Map();
    this.packed = [];
    this.audience = [];
    this.samples = new Map();
    this.tasks = new Map();
    this.checkpoints = new Map();
    this.owners = new Map();
    this.openWaiters = new Map();
    this.pendingRecords = 0;
    this.open = deferred();
    return q;
  }

  private seal(): void {
    const q = this.take();
    if (q) this.queue.push(q);
  }

  /**
   * Seals what has been collected and writes every pending batch. Resolves once all were
   * written; rejects when the store refused a write (see the class comment for what is kept).
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
      const head = this.queue[0] as Queued;
      if (head.unowned && head.split?.error) {
        // The checkpoints that named no project go only where every part of their batch went.
        this.queue.shift();
        this.reject(head, head.split.error);
        continue;
      }
      const attempt = this.headFailures + 1;
      const started = performance.now();
      try {
        await this.store.write(head.batch);
      } catch (err) {
        this.failedFlushes++;
        this.headFailures++;
        this.observer?.failed(head.batch, (performance.now() - started) / 1000, attempt);
        if (!head.inDoubt && failedWriteApplied(this.store, err) === 'maybe') head.inDoubt = true;
        if (await this.dataFault(head, err)) continue;
        const reason = this.health.writeFailed(err);
        this.refuse(head.inDoubt ? 1 : 0, reason, err);
        throw new StoreUnavailableError(reason, err);
      }
      this.queue.shift();
      this.headFailures = 0;
      this.flushes++;
      this.observer?.written(head.batch, (performance.now() - started) / 1000, attempt);
      this.health.writeSucceeded();
      this.settle(head, undefined);
      if (this.written.length > 0) {
        const projects = projectsOf(head.batch);
        const keys = head.batch.checkpoints.map((c) => c.key);
        for (const l of this.written) l(projects, keys);
      }
    }
  }

  /**
   * After a failed write of the head: when the failure is not an outage and a probe write succeeds,
   * handles it as a fault of the head's data (split it, or reject it alone) and returns true.
   */
  private async dataFault(head: Queued, err: unknown): Promise<boolean> {
    if (isOutage(classifyStoreError(err))) return false;
    try {
      await this.store.write({ id: randomUUID(), counts: [], samples: [], tasks: [], checkpoints: [{ key: PROBE_CHECKPOINT, value: String(Date.now()) }] });
    } catch {
      return false;
    }
    head.dataFailures++;
    head.dataSince ??= Date.now();
    this.health.writeSucceeded();
    if (!head.inDoubt && !head.split) {
      const projects = [...partProjects(head)];
      const unowned = head.batch.checkpoints.some((c) => c.key !== PROBE_CHECKPOINT && !head.owners.has(c.key));
      if (projects.length + (unowned ? 1 : 0) > 1) {
        this.logger.warn({ err, batch: head.batch.id, projects: projects.length }, 'store rejected a batch for its data: writing it again one project at a time');
        this.queue.splice(0, 1, ...this.splitParts(head, projects, unowned));
        this.headFailures = 0;
        return true;
      }
    }
    if (head.dataFailures < DATA_FAULT_ATTEMPTS || (head.inDoubt && Date.now() - head.dataSince < this.inDoubtDataFaultMs)) {
      await new Promise((r) => setTimeout(r, Math.min(MAX_RETRY_DELAY_MS, DATA_RETRY_MS * 2 ** (head.dataFailures - 1))));
      return true;
    }
    this.queue.shift();
    this.headFailures = 0;
    this.logger.warn({ err, batch: head.batch.id, projects: [...projectsOf(head.batch)], records: head.records, in_doubt: head.inDoubt },
      head.inDoubt ? 'store rejected data after retries: dropped (it may be partly stored), other writes go on' : 'store rejected data: dropped, other writes go on');
    this.reject(head, new BatchRejectedError(err));
    return true;
  }

  /** The parts of a batch, one per project (the checkpoints that named none last). */
  private splitParts(head: Queued, projects: string[], unowned: boolean): Queued[] {
    const split: Split = { left: 0, error: undefined, rest: [] };
    const parts: Queued[] = [];
    const keys: Array<string | undefined> = unowned ? [...projects, undefined] : projects;
    for (const project of keys) {
      const batch = partOf(head.batch, head.owners, project);
      const waiters = new Map<string, Deferred>();
      const w = project === undefined ? undefined : head.waiters.get(project);
      if (project !== undefined && w) waiters.set(project, w);
      parts.push({ batch, done: head.done, waiters, owners: head.owners, records: recordsOf(batch), inDoubt: false, dataFailures: 0, split, ...(project === undefined ? { unowned: true } : {}) });
    }
    for (const [project, w] of head.waiters) if (!projects.includes(project)) split.rest.push(w);
    split.left = parts.length;
    return parts;
  }

  /** A batch (or part) is done: stored (error undefined) or rejected for its data. */
  private settle(q: Queued, error: BatchRejectedError | undefined): void {
    for (const w of q.waiters.values()) {
      if (error) w.reject(error);
      else w.resolve();
    }
    const split = q.split;
    if (!split) {
      if (error) q.done.reject(error);
      else q.done.resolve();
      return;
    }
    split.error ??= error;
    if (--split.left > 0) return;
    for (const w of split.rest) w.resolve();
    if (split.error) q.done.reject(split.error);
    else q.done.resolve();
  }

  /** Drops a batch (or part) the store rejected for its data, and tells its writers. */
  private reject(q: Queued, error: BatchRejectedError): void {
    const checkpoints = q.batch.checkpoints.filter((c) => c.key !== PROBE_CHECKPOINT);
    this.refusedRecords += q.records;
    this.rejectedRecords += q.records;
    this.refusalCount++;
    this.health.refused(q.records);
    this.settle(q, error);
    for (const l of this.refusedListeners) l({ reason: 'store_error', records: q.records, checkpointKeys: checkpoints.map((c) => c.key), rejected: { checkpoints } });
  }

  /** Drops every queued batch from `from` on and the open generation, and tells their writers. */
  private refuse(from: number, reason: FaultReason, err: unknown): void {
    const dropped = this.queue.splice(from);
    const open = this.take();
    if (open) dropped.push(open);
    if (dropped.length === 0) return;
    let records = 0;
    const checkpointKeys: string[] = [];
    const error = new StoreUnavailableError(reason, err);
    for (const q of dropped) {
      records += q.records;
      for (const c of q.batch.checkpoints) if (c.key !== PROBE_CHECKPOINT) checkpointKeys.push(c.key);
      q.done.reject(error);
      for (const w of q.waiters.values()) w.reject(error);
      for (const w of q.split?.rest ?? []) w.reject(error);
    }
    this.refusedRecords += records;
    this.refusalCount++;
    this.health.refused(records);
    for (const l of this.refusedListeners) l({ reason, records, checkpointKeys });
  }

  /**
   * A writer stops waiting for `done` (from commit()/committed()) because the store has not
   * answered in time (a stalled server): the store is reported unreachable, and what `done` covers
   * is refused now if it was not sent to the store yet, with everything after it (its writers are
   * told; it is never written). 'in_doubt': `done` covers the batch being written (or kept in
   * doubt), which the store may still apply; it is kept and settles as usual. 'settled': `done`
   * has already settled (await it for the outcome).
   */
  abandon(done: Promise<void>, err: Error): 'refused' | 'in_doubt' | 'settled' {
    // `done` is a batch's own promise (commit()) or one project's waiter on it (commit(project)).
    const isWaiter = (waiters: Iterable<Deferred>): boolean => {
      for (const w of waiters) if (w.promise === done) return true;
      return false;
    };
    const queued = this.queue.findIndex((q) => q.done.promise === done || isWaiter(q.waiters.values()) || isWaiter(q.split?.rest ?? []));
    const open = queued < 0 && (this.open.promise === done || isWaiter(this.openWaiters.values())) && this.hasOpenData();
    if (queued < 0 && !open) return 'settled';
    const reason = this.health.writeFailed(err);
    const head = this.queue[0];
    if (queued === 0 && head && (this.running !== undefined || head.inDoubt)) return 'in_doubt';
    this.refuse(open ? this.queue.length : queued, reason, err);
    return 'refused';
  }

  /**
   * Stops the timer and writes everything pending. A batch in doubt is retried a few times;
   * rejects when something was refused or is still in doubt after the retries.
   */
  async stop(retries = 5): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.flush();
        return;
      } catch (err) {
        if (this.queue.length === 0 || attempt >= retries) throw err;
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      }
    }
  }
}
