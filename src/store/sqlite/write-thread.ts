import { Worker } from 'node:worker_threads';
import type { WriteBatch } from '../types.js';
import type { WriteReply, WriteRequest, WriteWorkerData } from './write-worker.js';
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
      worker.postMessage({ id, batch } satisfies WriteRequest);
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
