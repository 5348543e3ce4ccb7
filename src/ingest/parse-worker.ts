import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { AudienceCounter } from './audience/audience-counter.js';
import type { CellBatch } from './cells.js';
import { forEachLine } from './lines.js';
import type { LineProcessor } from './processor.js';
import { createProcessor, type ProcessorSettings } from './setup.js';

/**
 * Messages to a parse worker: a chunk of whole lines; a byte range of a regular file to read
 * itself (lines that start inside the range); or "send me what you counted".
 */
export type WorkerRequest =
  | { kind: 'chunk'; id: number; data: Uint8Array }
  | { kind: 'range'; id: number; file: string; start: number; end: number }
  | { kind: 'finish'; id: number };

export interface WorkerReply {
  id: number;
  /** More replies for this request follow (progress of a range). */
  partial: boolean;
  /** Input bytes consumed since the previous reply. */
  bytes: number;
  stats: { lines: number; accepted: number; dropped: Record<string, number> };
  cells: CellBatch[];
}

/** Cells are posted once this many are held (a batch file commits whole at its end, so posting sooner gains nothing). */
const CELL_POST = 500_000;
const READ = 8 << 20;

function processText(processor: LineProcessor, text: string): void {
  processor.refreshClock();
  forEachLine(text, (line) => processor.process(line));
  if (processor.cells.size > CELL_POST || processor.traffic.size > 2 * CELL_POST || processor.audience.size > 2 * CELL_POST) processor.flushCells();
}

/** Reads the lines that start in [start, end) of a file, calling back per chunk with the bytes consumed. */
export function readRange(
  file: string, start: number, end: number, onText: (text: string, bytes: number) => void, readBytes = READ,
  decode: (buf: Buffer, start: number, end: number) => string = (b, s, e) => b.toString('utf8', s, e),
): void {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(Math.max(readBytes, 64 * 1024));
    let pos = start;
    if (start > 0) {
      // Skip the line that began before the range (its owner reads it): resume after the '\n' at or after start-1.
      for (;;) {
        const n = readSync(fd, buf, 0, 64 * 1024, pos - 1);
        if (n === 0) return;
        const nl = buf.subarray(0, n).indexOf(10);
        if (nl >= 0) {
          pos = pos - 1 + nl + 1;
          break;
        }
        pos += n;
      }
    }
    let carry: Buffer | undefined;
    while (pos < end || carry) {
      const n = readSync(fd, buf, 0, readBytes, pos);
      const data: Buffer = carry ? Buffer.concat([carry, buf.subarray(0, n)]) : buf.subarray(0, n);
      const dataStart = pos - (carry ? carry.length : 0);
      carry = undefined;
      if (n === 0) {
        if (data.length > 0) onText(decode(data, 0, data.length), data.length);
        return;
      }
      // Lines starting before `end` are ours: cut after the first '\n' at or beyond end-1.
      const limit = end - 1 - dataStart;
      if (limit < data.length) {
        const nl = data.indexOf(10, Math.max(limit, 0));
        if (nl >= 0) {
          onText(decode(data, 0, nl), nl + 1);
          return;
        }
      }
      const nl = data.lastIndexOf(10);
      if (nl < 0 && data.length > 4 * readBytes) {
        // No newline in a long stretch (garbage): hand it on as is; it is dropped as one overlong line.
        onText(decode(data, 0, data.length), data.length);
      } else if (nl < 0) {
        carry = Buffer.from(data);
      } else {
        onText(decode(data, 0, nl), nl + 1);
        if (nl + 1 < data.length) carry = Buffer.from(data.subarray(nl + 1));
      }
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
}

if (parentPort) {
  const port = parentPort;
  let pending: CellBatch[] = [];
  const processor = createProcessor(workerData as ProcessorSettings, (cells) => pending.push(cells), undefined, true);
  const reply = (id: number, partial: boolean, bytes: number): void => {
    const r: WorkerReply = { id, partial, bytes, stats: processor.takeStats() as WorkerReply['stats'], cells: pending };
    pending = [];
    port.postMessage(r, r.cells.flatMap((c) => [
      c.keys.buffer as ArrayBuffer, c.counts.buffer as ArrayBuffer, c.bytes.buffer as ArrayBuffer,
      ...(c.traffic ? [c.traffic.tuple, c.traffic.slot, c.traffic.geo, c.traffic.protocol, c.traffic.ipType, c.traffic.requests, c.traffic.bytes]
        .map((a) => a.buffer as ArrayBuffer) : []),
      ...(c.audience ? AudienceCounter.buffers(c.audience) : []),
    ]));
  };
  port.on('message', (msg: WorkerRequest) => {
    if (msg.kind === 'chunk') {
      processText(processor, processor.text(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength)));
      reply(msg.id, false, msg.data.byteLength);
    } else if (msg.kind === 'range') {
      readRange(msg.file, msg.start, msg.end, (text, bytes) => {
        processText(processor, text);
        reply(msg.id, true, bytes);
      }, READ, (b, s, e) => processor.text(b, s, e));
      reply(msg.id, false, 0);
    } else {
      processor.flushCells();
      reply(msg.id, false, 0);
    }
  });
}
