import { parentPort, workerData } from 'node:worker_threads';
import type { WriteBatch } from '../types.js';
import { SqliteStore } from './store.js';
import { joinWriteParts } from './write-parts.js';
import { WORKER_CACHE_KIB } from './worker-memory.js';

/** Messages to the write worker and its answers. */
export interface WriteRequest {
  id: number;
  batch: WriteBatch;
}

/** A part of a big batch (src/store/sqlite/write-parts.ts): kept until its WriteRequest (the last part) arrives, then all are written as one batch. */
export interface WritePart {
  id: number;
  part: WriteBatch;
}

export type WriteReply = { id: number; ok: true } | { id: number; ok: false; message: string; code: string | undefined };

export interface WriteWorkerData {
  file: string;
}

if (parentPort) {
  const port = parentPort;
  // Its own connection and its own store: the same transaction code as an inline write
  // (one IMMEDIATE transaction per batch, checkpoints with their counts).
  const store = new SqliteStore((workerData as WriteWorkerData).file, { cacheKiB: WORKER_CACHE_KIB });
  const ready = store.init();
  // Batches are written one at a time, in the order they were posted.
  let chain: Promise<void> = Promise.resolve();
  const parts = new Map<number, WriteBatch[]>();
  port.on('message', (m: WriteRequest | WritePart) => {
    if ('part' in m) {
      const held = parts.get(m.id);
      if (held) held.push(m.part);
      else parts.set(m.id, [m.part]);
      return;
    }
    const held = parts.get(m.id);
    parts.delete(m.id);
    const req: WriteRequest = held ? { id: m.id, batch: joinWriteParts([...held, m.batch]) } : m;
    chain = chain.then(async () => {
      try {
        await ready;
        await store.write(req.batch);
        port.postMessage({ id: req.id, ok: true } satisfies WriteReply);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        port.postMessage({ id: req.id, ok: false, message: e.message, code: typeof e.code === 'string' ? e.code : undefined } satisfies WriteReply);
      }
    });
  });
}
