// The worker thread of the ClickHouse store's hour blocks (hour-blocks.ts): parses a build query's
// TabSeparated rows and sums them into every rollup level, off the main thread.
import { parentPort } from 'node:worker_threads';
import { buildHourCells, parseBuildRows, type HourCells } from './hour-cells.js';

export interface BuildRequest {
  id: number;
  text: string;
}

export type BuildReply = { id: number; blocks: Array<[string, HourCells]> } | { id: number; error: string };

const port = parentPort;
if (!port) throw new Error('hour-block-worker runs as a worker thread');
port.on('message', (m: BuildRequest) => {
  try {
    const blocks: Array<[string, HourCells]> = [];
    const buffers: ArrayBuffer[] = [];
    for (const [k, rows] of parseBuildRows(m.text)) {
      const cells = buildHourCells(rows);
      blocks.push([k, cells]);
      for (const l of Object.values(cells)) buffers.push(...[l.offsets, l.minute, l.code, l.count].map((a) => a.buffer as ArrayBuffer));
    }
    port.postMessage({ id: m.id, blocks } satisfies BuildReply, buffers);
  } catch (err) {
    port.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) } satisfies BuildReply);
  }
});
