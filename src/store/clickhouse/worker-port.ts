// The message loop of a ClickHouse block worker thread (hour-block-worker.ts, traffic-block-worker.ts).
import { parentPort } from 'node:worker_threads';

/**
 * Serves `handle` on this worker thread's port: a reply (with the buffers it transfers) is posted back; a
 * request that throws is answered `{ id, error }` when it awaits an answer (`answered`), else dropped.
 */
export function serveBlockWorker<Req extends object>(name: string, handle: (m: Req) => [object, ArrayBuffer[]] | undefined,
  answered: (m: Req) => boolean): void {
  const port = parentPort;
  if (!port) throw new Error(`${name} runs as a worker thread`);
  port.on('message', (m: Req) => {
    try {
      const reply = handle(m);
      if (reply) port.postMessage(reply[0], reply[1]);
    } catch (err) {
      if (answered(m)) port.postMessage({ id: 'id' in m ? m.id : undefined, error: err instanceof Error ? err.message : String(err) });
    }
  });
}
