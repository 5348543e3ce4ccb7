import { stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import type { Aggregator } from './aggregator.js';
import { addCells, type CellBatch } from './cells.js';
import { isGzip, openChunks } from './chunks.js';
import { forEachLine } from './lines.js';
import { dropDomains, type ProjectNames } from './name-limits.js';
import type { DropReason } from './formats/types.js';
import type { WorkerReply, WorkerRequest } from './parse-worker.js';
import { mergeNotes, type IngestNotes } from './notes.js';
import { emptyStats, mergeStats, type IngestStats } from './processor.js';
import { createProcessor, type ProcessorSettings } from './setup.js';

export interface Progress {
  file: string;
  bytesRead: number;
  totalBytes: number | undefined;
  lines: number;
}

export interface BatchIngestOptions {
  project: string;
  files: string[];
  settings: ProcessorSettings;
  aggregator: Aggregator;
  /** Parse threads; 0 parses on the main thread. */
  workers: number;
  onProgress?: (p: Progress) => void;
  /** True for a file that needs no reading (already counted); it is skipped. */
  skipFile?: (file: string) => Promise<boolean>;
  /**
   * Called once all of a file's counts were handed to the aggregator together (a file is
   * committed whole or not at all); rejects to stop the run (e.g. the store refused it).
   */
  commitFile?: (file: string, stats: IngestStats) => Promise<void>;
  /** The project's name caps: checked per line inline; parse workers each get a share of what is left. */
  names?: ProjectNames;
  /** Receives the run's notes (sample dropped lines, client addresses): merged into it as files are read. */
  notes?: IngestNotes;
}

/** Worker threads need compiled JavaScript: from TypeScript sources (tests) parsing stays inline. */
export const workersAvailable = (): boolean => import.meta.url.endsWith('.js');

/** A pool of parse workers with at most two chunks in flight each. */
class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly inFlight: number[] = [];
  private readonly waiters = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  private nextId = 0;

  constructor(count: number, settings: ProcessorSettings, private readonly absorb: (r: WorkerReply) => void) {
    for (let i = 0; i < count; i++) {
      const worker = new Worker(new URL('./parse-worker.js', import.meta.url), { workerData: settings });
      worker.on('message', (r: WorkerReply) => {
        this.absorb(r);
        if (r.partial) return;
        this.inFlight[i] = (this.inFlight[i] ?? 1) - 1;
        this.waiters.get(r.id)?.resolve();
        this.waiters.delete(r.id);
        this.wake?.();
      });
      worker.on('error', (err) => {
        this.failure ??= err;
        for (const w of this.waiters.values()) w.reject(err);
        this.waiters.clear();
        this.wake?.();
      });
      this.workers.push(worker);
      this.inFlight.push(0);
    }
  }

  /** Posts a chunk to the least busy worker, first waiting while every worker has two. */
  async submit(chunk: Buffer): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure;
      const i = this.leastBusy();
      if ((this.inFlight[i] as number) < 2) {
        const copy = new Uint8Array(chunk.length);
        copy.set(chunk);
        this.post(i, { kind: 'chunk', id: this.nextId++, data: copy }, [copy.buffer]);
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Each worker reads an equal share of a regular file itself; resolves when all are read. */
  async readFile(file: string, size: number): Promise<void> {
    const n = this.workers.length;
    await Promise.all(this.workers.map((_, i) => this.request(i, (id) => ({
      kind: 'range', id, file, start: Math.floor((size * i) / n), end: Math.floor((size * (i + 1)) / n),
    }))));
  }

  /** Collects every worker's remaining cells. */
  async finish(): Promise<void> {
    await Promise.all(this.workers.map((_, i) => this.request(i, (id) => ({ kind: 'finish', id }))));
  }

  private request(i: number, make: (id: number) => WorkerRequest): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      const id = this.nextId++;
      this.waiters.set(id, { resolve, reject });
      this.post(i, make(id));
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private post(i: number, req: WorkerRequest, transfer: ArrayBuffer[] = []): void {
    this.inFlight[i] = (this.inFlight[i] as number) + 1;
    (this.workers[i] as Worker).postMessage(req, transfer);
  }

  private leastBusy(): number {
    let best = 0;
    for (let i = 1; i < this.inFlight.length; i++) if ((this.inFlight[i] as number) < (this.inFlight[best] as number)) best = i;
    return best;
  }
}

/**
 * Reads each file in line-aligned chunks and counts it: on the main thread, or spread over
 * worker threads that parse, geo-locate and pre-aggregate, posting cells back. A file's cells
 * are held until the whole file is read and then handed to the aggregator at once, so each
 * file commits in one batch (and commitFile can record it with its counts).
 */
export async function ingestFiles(o: BatchIngestOptions): Promise<IngestStats> {
  const total = emptyStats();
  let held: CellBatch[] = [];
  const feed = (cells: CellBatch): void => {
    held.push(cells);
  };
  let progressOf: ((bytes: number) => void) | undefined;
  const absorb = (r: WorkerReply): void => {
    mergeStats(total, r.stats as IngestStats);
    if (r.notes && o.notes) mergeNotes(o.notes, r.notes);
    for (const c of r.cells) feed(c);
    if (r.bytes > 0) progressOf?.(r.bytes);
  };
  const inline = o.workers <= 0 || !workersAvailable() ? createProcessor(o.settings, feed, undefined, true, o.names) : undefined;
  const pool = inline ? undefined : new WorkerPool(o.workers, o.names ? { ...o.settings, names: o.names.snapshot() } : o.settings, absorb);
  try {
    for (const file of o.files) {
      if (o.skipFile && (await o.skipFile(file))) continue;
      const before = { ...total, dropped: { ...total.dropped } };
      held = [];
      const size = file === '-' ? undefined : (await stat(file)).size;
      if (pool && size !== undefined && !(await isGzip(file))) {
        let done = 0;
        progressOf = (bytes) => {
          done += bytes;
          o.onProgress?.({ file, bytesRead: done, totalBytes: size, lines: total.lines });
        };
        await pool.readFile(file, size);
        progressOf = undefined;
      } else {
        const src = await openChunks(file, size);
        for await (const chunk of src.chunks) {
          if (inline) {
            inline.refreshClock();
            forEachLine(inline.text(chunk), (line) => inline.process(line));
            mergeStats(total, inline.takeStats());
            if (o.notes) mergeNotes(o.notes, inline.takeNotes());
          } else {
            await (pool as WorkerPool).submit(chunk);
          }
          o.onProgress?.({ file, bytesRead: src.bytesRead(), totalBytes: src.totalBytes, lines: total.lines });
        }
      }
      if (inline) inline.flushCells();
      else await (pool as WorkerPool).finish();
      if (pool && o.names) held = gateDomains(held, o.names, total);
      for (const c of held) addCells(o.aggregator, o.project, c);
      if (pool && o.names) for (const c of held) o.names.note(c.slotDomains, streamsOf(c));
      held = [];
      await o.commitFile?.(file, statsSince(before, total));
    }
  } finally {
    await pool?.close();
  }
  return total;
}

/**
 * The domain cap for cells from parse workers, checked here on the main thread in the order the
 * domains appear: a refused domain's cells are removed and its lines moved from accepted to dropped.
 */
function gateDomains(held: CellBatch[], names: ProjectNames, total: IngestStats): CellBatch[] {
  const refused = new Map<string, DropReason>();
  for (const c of held) {
    for (const d of [...c.slotDomains, ...(c.traffic?.domains ?? [])]) {
      if (refused.has(d)) continue;
      const reason = names.domain(d);
      if (reason !== undefined) refused.set(d, reason);
    }
  }
  if (refused.size === 0) return held;
  const set = new Set(refused.keys());
  return held.map((c) => {
    const { cells, removed } = dropDomains(c, set);
    for (const [d, n] of removed) {
      const reason = refused.get(d) as DropReason;
      total.accepted -= n;
      total.dropped[reason] = (total.dropped[reason] ?? 0) + n;
    }
    return cells;
  });
}

/** The (domain, app, stream) streams of a batch's traffic cells. */
function* streamsOf(c: CellBatch): IterableIterator<readonly [string, string, string]> {
  const t = c.traffic;
  if (!t) return;
  for (let k = 0; k < t.domains.length; k++) {
    if (t.apps[k] !== '' || t.streams[k] !== '') yield [t.domains[k] as string, t.apps[k] as string, t.streams[k] as string];
  }
}

function statsSince(before: IngestStats, now: IngestStats): IngestStats {
  const dropped: IngestStats['dropped'] = {};
  for (const [k, v] of Object.entries(now.dropped) as Array<[keyof IngestStats['dropped'], number]>) {
    const d = v - (before.dropped[k] ?? 0);
    if (d > 0) dropped[k] = d;
  }
  return { lines: now.lines - before.lines, accepted: now.accepted - before.accepted, dropped };
}
