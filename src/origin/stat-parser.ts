import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { threadId, Worker } from 'node:worker_threads';
import { projectRoot } from '../paths.js';
import { unpackStat } from './stat-pack.js';
import type { ParseReply, ParseRequest, PartAck } from './stat-worker.js';
import { parseRtmpStat, type StatStream } from './stat-xml.js';

/**
 * Pages up to this size are decoded and parsed on the calling thread (~1-3 ms: a handful of
 * streams); larger ones in the parse worker, so a page of up to 64 MiB (~2.6 s of parsing on a
 * busy core) never holds the event loop.
 */
export const INLINE_MAX_BYTES = 64 * 1024;

const FIRST_BLOCK = INLINE_MAX_BYTES;
const BLOCK = 1024 * 1024;

/**
 * A page's bytes as they arrive, copied into blocks this module owns (each copy is one chunk's
 * size), so they can be handed to the worker without a copy of the whole page on the event loop.
 */
export class PageBytes {
  readonly blocks: Uint8Array[] = [];
  length = 0;
  private room = 0;

  append(chunk: Uint8Array): void {
    let from = 0;
    while (from < chunk.byteLength) {
      if (this.room === 0) {
        const block = new Uint8Array(this.blocks.length === 0 ? FIRST_BLOCK : BLOCK);
        this.blocks.push(block);
        this.room = block.byteLength;
      }
      const block = this.blocks[this.blocks.length - 1] as Uint8Array;
      const n = Math.min(this.room, chunk.byteLength - from);
      block.set(chunk.subarray(from, from + n), block.byteLength - this.room);
      this.room -= n;
      from += n;
    }
    this.length += chunk.byteLength;
  }

  /** The page as text (the caller's thread: small pages only). */
  text(): string {
    return Buffer.concat(this.blocks, this.length).toString('utf8');
  }
}

/** The parse worker's script: beside this module (dist/), else the build's (tests run from the TS sources); undefined when neither exists. */
function defaultWorkerUrl(): URL | undefined {
  const beside = new URL('./stat-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const built = join(projectRoot(), 'dist', 'src', 'origin', 'stat-worker.js');
  return existsSync(built) ? pathToFileURL(built) : undefined;
}

export interface ParsedPage {
  streams: StatStream[];
  /** The thread that parsed it (tests: the main thread's id for small pages, the worker's for big ones). */
  threadId: number;
}

interface Job {
  streams: StatStream[];
  resolve: (p: ParsedPage) => void;
  reject: (err: Error) => void;
}

/**
 * Parses statistics pages: small ones inline, big ones in one worker thread, started at the first
 * big page and reused (pages of several origins queue in it). A worker that dies fails the pages it
 * held (failed polls: nothing changes) and the next big page starts another. Without a built worker
 * script (the TS sources run without a build) every page is parsed inline.
 */
export class StatParser {
  private worker: Worker | undefined;
  private readonly jobs = new Map<number, Job>();
  private nextId = 0;
  private closed = false;
  readonly stats = { inline: 0, worker: 0 };

  constructor(private readonly workerUrl: URL | undefined = defaultWorkerUrl()) {}

  async parse(page: PageBytes): Promise<ParsedPage> {
    if (page.length <= INLINE_MAX_BYTES || !this.workerUrl || this.closed) {
      this.stats.inline++;
      return { streams: parseRtmpStat(page.text()), threadId };
    }
    this.stats.worker++;
    const worker = this.start(this.workerUrl);
    const id = this.nextId++;
    return new Promise<ParsedPage>((resolve, reject) => {
      this.jobs.set(id, { streams: [], resolve, reject });
      worker.ref();
      const buffers = page.blocks.map((b) => b.buffer as ArrayBuffer);
      worker.postMessage({ id, blocks: page.blocks, length: page.length } satisfies ParseRequest, buffers);
      page.blocks.length = 0;
    });
  }

  private start(url: URL): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(url);
    w.unref();
    w.on('message', (m: ParseReply) => {
      const job = this.jobs.get(m.id);
      if (!job) return;
      if ('part' in m) {
        try {
          unpackStat(m.part, job.streams);
        } catch (err) {
          w.postMessage({ id: m.id, next: false } satisfies PartAck);
          this.settle(m.id);
          job.reject(err as Error);
          return;
        }
        w.postMessage({ id: m.id, next: true } satisfies PartAck);
        return;
      }
      this.settle(m.id);
      if ('error' in m) job.reject(new Error(m.error));
      else job.resolve({ streams: job.streams, threadId: m.threadId });
    });
    const fail = (err: Error): void => {
      if (this.worker !== w) return; // already failed (an error, then its exit), or a newer worker's pages
      this.worker = undefined;
      for (const job of this.jobs.values()) job.reject(err);
      this.jobs.clear();
    };
    w.on('error', fail);
    w.on('exit', () => fail(new Error('the statistics parse worker exited')));
    this.worker = w;
    return w;
  }

  private settle(id: number): void {
    this.jobs.delete(id);
    if (this.jobs.size === 0) this.worker?.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }
}

let shared: StatParser | undefined;

/** The process's parser (one worker per process, whatever the number of pollers and origins). */
export function statParser(): StatParser {
  shared ??= new StatParser();
  return shared;
}
