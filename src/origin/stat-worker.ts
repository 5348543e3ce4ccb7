// The worker thread of the statistics-page parser (stat-parser.ts): decodes and parses a page read
// by the poller, off the main thread, and sends it back packed in parts (stat-pack.ts), one part
// per request for the next: the main thread unpacks each in its own event-loop task (parts sent
// all at once would be deserialized in one go when the main thread drains its port).
import { parentPort, threadId } from 'node:worker_threads';
import { packStat, type StatPart } from './stat-pack.js';
import { parseRtmpStat } from './stat-xml.js';

export interface ParseRequest {
  id: number;
  /** The page's bytes, in order; the last block may be longer than what is left of `length`. */
  blocks: Uint8Array[];
  length: number;
}

/** After a part: `next` asks for the following one, `cancel` drops the rest. */
export interface PartAck {
  id: number;
  next: boolean;
}

export type ParseReply =
  | { id: number; part: StatPart }
  | { id: number; done: true; threadId: number }
  | { id: number; error: string };

const port = parentPort;
if (!port) throw new Error('stat-worker runs as a worker thread');
const pending = new Map<number, StatPart[]>();

function send(id: number): void {
  const parts = pending.get(id) ?? [];
  const part = parts.shift();
  if (part) {
    port?.postMessage({ id, part } satisfies ParseReply, [part.nums.buffer as ArrayBuffer]);
    return;
  }
  pending.delete(id);
  port?.postMessage({ id, done: true, threadId } satisfies ParseReply);
}

port.on('message', (m: ParseRequest | PartAck) => {
  if ('next' in m) {
    if (m.next && pending.has(m.id)) send(m.id);
    else pending.delete(m.id);
    return;
  }
  try {
    const text = Buffer.concat(m.blocks, m.length).toString('utf8');
    pending.set(m.id, packStat(parseRtmpStat(text)));
  } catch (err) {
    port.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) } satisfies ParseReply);
    return;
  }
  send(m.id);
});
