import { Worker } from 'node:worker_threads';
import type { WriteBatch } from '../types.js';
import { splitWrite } from './write-parts.js';
import type { WritePart, WriteReply, WriteRequest, WriteWorkerData } from './write-worker.js';
import { WORKER_RESOURCE_LIMITS } from './worker-memory.js';

/** Where SqliteStore.write sends its batches instead of writing on the calling thread. */
export interface BatchSink {
  write(batch: WriteBatch): Promise<void>;
  close(): Promise<void>;
}

/** A write that failed in the write thread: its message and SQLite code as the thread saw them. */
export class WriteThreadError extends Error {
  constructor(message: string, readonly code: string | undefined) {
    super(message);
    this.name = 'WriteThreadError';
  }
}

/**
 * Batch writes in one worker thread with its own connection, so the main thread (HTTP, health,
 * ingest acknowledgements) never waits for a read-merge-write transaction. Batches are written
 * in the order given; each promise settles once its transaction committed (or rolled back, with
 * the thread's error). A thread that dies fails what it had been given (none of it acknowledged:
 * a batch is committed whole or not at all) and is started again for the next batch.
 */
export class WriteThread implements BatchSink {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private nextId = 0;
  private closed = false;
  private readonly inFlight = new Set<Promise<void>>();
  /** A big batch being handed over in parts (one per event-loop task); later batches are posted after it, so the thread gets them in order. */
  private posting: Promise<void> | undefined;
  /** Messages posted a task later (parts of big batches, and batches posted after them; tests). */
  partsPosted = 0;

  constructor(private readonly file: string, private readonly workerUrl = new URL('./write-worker.js', import.meta.url)) {
    // Started at once (it stays unref'd while idle): the first batch does not wait for the thread
    // to load and open its connection (hundreds of ms on a busy machine).
    this.spawn();
  }

  write(batch: WriteBatch): Promise<void> {
    if (this.closed) return Promise.reject(new Error('write thread closed'));
    const worker = this.worker ?? this.spawn();
    const id = this.nextId++;
    const done = new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const parts = splitWrite(batch);
      if (!parts && !this.posting) worker.postMessage({ id, batch } satisfies WriteRequest);
      else this.postLater(worker, id, parts ?? [batch]);
    });
    this.inFlight.add(done);
    // Keep the process alive while a write is in flight (a shutdown's last flush waits on it).
    worker.ref();
    const forget = (): void => {
      this.inFlight.delete(done);
      if (this.inFlight.size === 0) this.worker?.unref();
    };
    done.then(forget, forget);
    return done;
  }

  /**
   * Posts a batch's parts one per event-loop task (setImmediate between), after any batch still
   * being posted; the last part goes as the WriteRequest. A thread that dies meanwhile has failed
   * the batch already: the rest is not posted (a new thread never gets the tail of a batch).
   */
  private postLater(worker: Worker, id: number, parts: Iterable<WriteBatch>): void {
    const post = async (): Promise<void> => {
      let last: WriteBatch | undefined;
      for (const part of parts) {
        if (last) {
          if (this.worker !== worker) return;
          worker.postMessage({ id, part: last } satisfies WritePart);
          this.partsPosted++;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        last = part;
      }
      if (last && this.worker === worker) {
        worker.postMessage({ id, batch: last } satisfies WriteRequest);
        this.partsPosted++;
      }
    };
    const posting: Promise<void> = (this.posting ?? Promise.resolve()).then(post).catch((err: unknown) => {
      this.pending.get(id)?.reject(err instanceof Error ? err : new Error(String(err)));
      this.pending.delete(id);
    }).finally(() => {
      if (this.posting === posting) this.posting = undefined;
    });
    this.posting = posting;
  }

  private spawn(): Worker {
    const worker = new Worker(this.workerUrl, { workerData: { file: this.file } satisfies WriteWorkerData, resourceLimits: WORKER_RESOURCE_LIMITS });
    worker.on('message', (reply: WriteReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (reply.ok) p.resolve();
      else p.reject(new WriteThreadError(reply.message, reply.code));
    });
    const fail = (err: Error): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`write thread exited with code ${code}`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  /** Waits for the batches already given, then stops the thread. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}
