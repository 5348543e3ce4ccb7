import { parentPort, workerData } from 'node:worker_threads';
import type { CellBatch } from './cells.js';
import { forEachLine } from './lines.js';
import { createProcessor, type ProcessorSettings } from './setup.js';

/** Messages to a parse worker: a chunk of whole lines, or "send me what you counted". */
export type WorkerRequest = { kind: 'chunk'; id: number; data: Uint8Array } | { kind: 'finish'; id: number };

export interface WorkerReply {
  id: number;
  stats: { lines: number; accepted: number; dropped: Record<string, number> };
  cells: CellBatch[];
}

const CELL_LIMIT = 200_000;

if (parentPort) {
  const port = parentPort;
  let pending: CellBatch[] = [];
  const processor = createProcessor(workerData as ProcessorSettings, (cells) => pending.push(cells));
  port.on('message', (msg: WorkerRequest) => {
    if (msg.kind === 'chunk') {
      processor.refreshClock();
      const text = Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength).toString('utf8');
      forEachLine(text, (line) => processor.process(line));
      if (processor.cells.size > CELL_LIMIT) processor.flushCells();
    } else {
      processor.flushCells();
    }
    const reply: WorkerReply = { id: msg.id, stats: processor.takeStats() as WorkerReply['stats'], cells: pending };
    pending = [];
    port.postMessage(reply, reply.cells.flatMap((c) => [c.keys.buffer as ArrayBuffer, c.counts.buffer as ArrayBuffer]));
  });
}
