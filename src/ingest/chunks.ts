import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

export const CHUNK_BYTES = 8 << 20;

export interface ChunkSource {
  /** Line-aligned chunks: each ends just after a '\n' (the last one may not). */
  chunks: AsyncGenerator<Buffer>;
  /** Bytes read from the file so far (compressed bytes for .gz), for progress. */
  bytesRead(): number;
  /** Total size in bytes when known (regular files), else undefined. */
  totalBytes: number | undefined;
}

/** Opens FILE (or '-' for stdin); .gz files (by name or magic bytes) are decompressed. */
export async function openChunks(file: string, totalBytes: number | undefined): Promise<ChunkSource> {
  let read = 0;
  const stream = await openStream(file, (n) => {
    read += n;
  });
  return { chunks: lineAligned(stream), bytesRead: () => read, totalBytes };
}

/**
 * FILE (or '-' for stdin) as a stream of its (decompressed) bytes as they arrive; `onRead` sees the
 * byte count of each piece read from the source (before decompression).
 */
export async function openStream(file: string, onRead: (bytes: number) => void = () => undefined): Promise<Readable> {
  const gz = file !== '-' && (await isGzip(file));
  const raw: Readable = file === '-' ? process.stdin : createReadStream(file, { highWaterMark: 1 << 20 });
  // Counts bytes as they pass (a 'data' listener would start the flow before anyone reads).
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      onRead(chunk.length);
      done(null, chunk);
    },
  });
  raw.on('error', (err) => counter.destroy(err));
  let stream: Readable = raw.pipe(counter);
  if (gz) {
    const gunzip = createGunzip();
    counter.on('error', (err) => gunzip.destroy(err));
    stream = counter.pipe(gunzip);
  }
  // A reader that stops early (dry run) destroys the stream: the source goes too (stdin's handle
  // would otherwise keep the process waiting for a writer that never closes its pipe).
  stream.once('close', () => raw.destroy());
  return stream;
}

/** .gz by name or by the gzip magic bytes. */
export async function isGzip(file: string): Promise<boolean> {
  if (file.endsWith('.gz')) return true;
  const fh = await open(file, 'r');
  try {
    const b = Buffer.alloc(2);
    const { bytesRead } = await fh.read(b, 0, 2, 0);
    return bytesRead === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

async function* lineAligned(stream: Readable): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let size = 0;
  for await (const data of stream as AsyncIterable<Buffer>) {
    parts.push(data);
    size += data.length;
    if (size < CHUNK_BYTES) continue;
    const nl = data.lastIndexOf(10);
    if (nl < 0) {
      if (size < 4 * CHUNK_BYTES) continue;
      // No newline in a long stretch (garbage): hand it on as is; it is dropped as one overlong line.
      yield Buffer.concat(parts);
      parts = [];
      size = 0;
      continue;
    }
    const tail = data.subarray(nl + 1);
    parts[parts.length - 1] = data.subarray(0, nl + 1);
    yield Buffer.concat(parts);
    parts = tail.length > 0 ? [Buffer.from(tail)] : [];
    size = tail.length;
  }
  if (size > 0) yield Buffer.concat(parts);
}
