// The message loop of a ClickHouse block worker thread (hour-block-worker.ts, traffic-block-worker.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThreadPriority } from '../thread-priority.js';

/** What a block worker thread is started with (worker-host.ts, hour-blocks.ts). */
export interface BlockWorkerData {
  /** The nice value the thread gives itself before anything else (HourBlocksOptions.threadNice; 0: none). */
  nice: number;
}

/**
 * Serves `handle` on this worker thread's port: a reply (with the buffers it transfers) is posted back; a
 * request that throws is answered `{ id, error }` when it awaits an answer (`answered`), else dropped.
 */
export function serveBlockWorker<Req extends object>(name: string, handle: (m: Req) => [object, ArrayBuffer[]] | undefined,
  answered: (m: Req) => boolean): void {
  const port = parentPort;
  if (!port) throw new Error(`${name} runs as a worker thread`);
  // Below the main thread's priority (see thread-priority.ts): a heavy query's summing and rendering wait for the
  // ingest acknowledgements and the inserts, not the other way round.
  const nice = (workerData as Partial<BlockWorkerData> | undefined)?.nice;
  if (typeof nice === 'number' && nice > 0) lowerThreadPriority(nice);
  port.on('message', (m: Req) => {
    try {
      const reply = handle(m);
      if (reply) port.postMessage(reply[0], reply[1]);
    } catch (err) {
      if (answered(m)) port.postMessage({ id: 'id' in m ? m.id : undefined, error: err instanceof Error ? err.message : String(err) });
    }
  });
}
