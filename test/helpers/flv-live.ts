import { readFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';

interface Tag {
  /** Stream time in ms. */
  ts: number;
  /** The whole tag including its trailing PreviousTagSize. */
  bytes: Buffer;
  keyframe: boolean;
  /** Metadata or a codec sequence header (sent first to every viewer). */
  config: boolean;
}

/** Splits an FLV file into its header and tags. */
function readTags(flv: Buffer): { header: Buffer; tags: Tag[] } {
  const headerLen = flv.readUInt32BE(5) + 4;
  const tags: Tag[] = [];
  let off = headerLen;
  while (off + 11 <= flv.length) {
    const type = flv.readUInt8(off);
    const size = flv.readUIntBE(off + 1, 3);
    const ts = flv.readUIntBE(off + 4, 3) | (flv.readUInt8(off + 7) << 24);
    const end = off + 11 + size + 4;
    if (end > flv.length) break;
    const first = flv.readUInt8(off + 11);
    const packetType = size > 1 ? flv.readUInt8(off + 12) : -1;
    const config = type === 18 || (type === 9 && packetType === 0) || (type === 8 && first >> 4 === 10 && packetType === 0);
    const keyframe = type === 9 && first >> 4 === 1 && !config;
    tags.push({ ts, bytes: flv.subarray(off, end), keyframe, config });
    off = end;
  }
  return { header: flv.subarray(0, headerLen), tags };
}

export interface LiveFlvServer {
  url: string;
  close(): Promise<void>;
}

/**
 * An HTTP-FLV "live" server with a GOP cache, like SRS or nginx-http-flv: every viewer that
 * connects gets the stream from the last keyframe at or before the live point `liveMs` at once
 * (the cache), then the rest of the file paced in real time. `answerAfterMs` delays the
 * answer (a slow origin), so the burst does not fall into the partial connect second.
 */
export async function serveLiveFlv(file: string, liveMs: number, answerAfterMs = 0): Promise<LiveFlvServer> {
  const { header, tags } = readTags(await readFile(file));
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on('error', () => {});
    sock.on('close', () => sockets.delete(sock));
    sock.once('data', () => {
      const timer = setTimeout(() => answer(sock), answerAfterMs);
      timers.add(timer);
    });
  });
  function answer(sock: Socket): void {
    {
      sock.write('HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\nConnection: close\r\n\r\n');
      sock.write(header);
      const lastKey = tags.filter((t) => t.keyframe && t.ts <= liveMs).at(-1)?.ts ?? 0;
      const start = Date.now();
      for (const t of tags) {
        if (t.config) sock.write(t.bytes);
        else if (t.ts >= lastKey && t.ts < liveMs) sock.write(t.bytes); // the cached GOP, at once
      }
      const live = tags.filter((t) => !t.config && t.ts >= liveMs);
      const pump = (): void => {
        const due = Date.now() - start + liveMs;
        while (live.length > 0 && (live[0] as Tag).ts <= due) sock.write((live.shift() as Tag).bytes);
        if (live.length === 0) sock.end();
        else {
          const timer = setTimeout(pump, 10);
          timers.add(timer);
        }
      };
      pump();
    }
  }
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/live/ch.flv`,
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
