// What the ClickHouse store's block workers share on the main thread (hour-blocks.ts, traffic-blocks.ts): where
// a worker script is, the rendered answers' buffers given back to a worker once sent, and one worker thread
// that is ref'd only while an answer is awaited from it and whose crash is reported once.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { projectRoot } from '../../paths.js';
import { READ_THREAD_NICE } from '../thread-priority.js';
import type { BlockWorkerData } from './worker-port.js';

/** The worker script `file` beside this module when compiled, else the build's copy (tests run the TypeScript sources). */
export function blockWorkerUrl(file: string): URL | undefined {
  const beside = new URL(`./${file}`, import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const built = join(projectRoot(), 'dist', 'src', 'store', 'clickhouse', file);
  return existsSync(built) ? pathToFileURL(built) : undefined;
}

/**
 * The buffers of answers a worker rendered (and transferred here), until they are given back: a body
 * sent whole (ClickHouseStore.releaseBody) has its buffer moved (the caller's view is detached at once:
 * nothing may read it any more) and kept as a spare, which goes back to a worker with the next answer
 * asked of it (no message of its own) and is rendered into again (json-bytes.ts giveSpare) instead of
 * fresh memory per answer, which this thread then had to collect (external memory: major GCs) and unmap.
 * Anything else (other bodies, a buffer given twice) is left alone.
 */
export class RenderedBodies {
  private readonly rendered = new WeakSet<ArrayBuffer>();
  private readonly spares: ArrayBuffer[] = [];

  /** `max`: spares kept at most (the oldest goes). */
  constructor(private readonly max: number) {}

  /** Notes a body a worker rendered. */
  add(body: Uint8Array): void {
    if (body.buffer instanceof ArrayBuffer) this.rendered.add(body.buffer);
  }

  /** A body has been sent whole: its buffer becomes a spare when a worker rendered it (see the class). */
  release(bytes: Uint8Array): void {
    const buffer = bytes.buffer;
    if (!(buffer instanceof ArrayBuffer) || !this.rendered.delete(buffer)) return;
    if (this.spares.length >= this.max) this.spares.shift();
    this.spares.push(structuredClone(buffer, { transfer: [buffer] }));
  }

  /** A spare to send with the next answer (then transferred), if any. */
  take(): ArrayBuffer | undefined {
    return this.spares.pop();
  }

  /** Spares not yet sent to a worker (tests read it). */
  get count(): number {
    return this.spares.length;
  }

  clear(): void {
    this.spares.length = 0;
  }
}

/** What a block worker answers: a reply names the request's id; `error` when the request failed there. */
export interface BlockWorkerReply {
  id: number;
}

/**
 * One worker thread, started at the first message and again after a crash (empty: the owner drops
 * what it knew of its blocks in `onFail`). It is unref'd (a background build must not keep a process
 * alive) except while an answer is awaited from it: a process with nothing else to do exited mid-answer
 * (code 13, a child process in CI).
 */
export class BlockWorker<Req extends object, Rep extends BlockWorkerReply> {
  private worker: Worker | undefined;
  private held = 0;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (r: Rep) => void; reject: (e: Error) => void }>();
  private closed = false;

  /** `onFail`: the running worker crashed or exited (stop() too; not close()). `nice`: the thread's nice value (worker-port.ts). */
  constructor(private readonly url: URL, private readonly onFail: () => void, private readonly nice = READ_THREAD_NICE) {}

  /** Whether a worker runs now. */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** Posts `m` (no answer awaited), starting the worker when it is not running. */
  post(m: Req, transfer: ArrayBuffer[] = []): void {
    if (this.closed) return;
    this.start().postMessage(m, transfer);
  }

  /** Posts `m` with a fresh id and awaits its reply (rejected when the worker fails meanwhile or replies `error`). */
  call(m: Req, transfer: ArrayBuffer[] = []): Promise<Rep> {
    if (this.closed) return Promise.reject(new Error('the block worker is closed'));
    const w = this.start();
    const id = this.nextId++;
    if (this.held++ === 0) w.ref();
    return new Promise<Rep>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      w.postMessage({ ...m, id }, transfer);
    }).finally(() => {
      if (--this.held === 0 && this.worker === w) w.unref();
    }).then((r) => {
      if ('error' in r) throw new Error(String(r.error));
      return r;
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.url, { workerData: { nice: this.nice } satisfies BlockWorkerData });
    const fail = (err: Error): void => {
      if (this.worker !== w) return;
      this.worker = undefined;
      this.held = 0;
      const waiting = [...this.waiting.values()];
      this.waiting.clear();
      for (const job of waiting) job.reject(err);
      void w.terminate();
      if (!this.closed) this.onFail();
    };
    w.on('message', (m: Rep) => {
      const job = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      job?.resolve(m);
    });
    w.on('error', fail);
    w.on('exit', () => fail(new Error('a block worker exited')));
    // After the listeners: adding the first 'message' listener refs the worker's port again.
    w.unref();
    this.worker = w;
    return w;
  }

  /** Tests: ends the worker as a crash would (onFail is called, the next message starts a new one). */
  async stop(): Promise<void> {
    await this.worker?.terminate();
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    for (const job of this.waiting.values()) job.reject(new Error('the block worker is closed'));
    this.waiting.clear();
    await w?.terminate();
  }
}

/**
 * The reply to an answer asked of a block worker, or undefined (counted in `stats.bySql`): the worker
 * failed (its blocks go with it; it is started again, empty, at the next message), or it lacks a block
 * the answer names (dropped meanwhile, or a new worker): that answer by SQL.
 */
export async function workerAnswer<R extends object>(stats: { bySql: number }, ask: () => Promise<R>): Promise<R | undefined> {
  let reply: R;
  try {
    reply = await ask();
  } catch {
    stats.bySql++;
    return undefined;
  }
  if ('missing' in reply) {
    stats.bySql++;
    return undefined;
  }
  return reply;
}
