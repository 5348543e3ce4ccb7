import { createWriteStream, type WriteStream } from 'node:fs';

/** A generated log file written in ~1 MiB chunks, waiting for the stream to drain between them. */
export class LineFile {
  private readonly out: WriteStream;
  private buf = '';
  private bytes = 0;

  constructor(file: string) {
    this.out = createWriteStream(file);
  }

  /** Adds one line (with its newline). */
  async add(line: string): Promise<void> {
    this.buf += line;
    if (this.buf.length > 1 << 20) {
      this.bytes += Buffer.byteLength(this.buf);
      const drained = this.out.write(this.buf);
      this.buf = '';
      if (!drained) await new Promise<void>((r) => this.out.once('drain', () => r()));
    }
  }

  /** Writes the rest and resolves with the file's size in bytes. */
  async close(): Promise<number> {
    this.bytes += Buffer.byteLength(this.buf);
    const out = this.out;
    out.end(this.buf);
    this.buf = '';
    await new Promise<void>((r, j) => out.on('finish', () => r()).on('error', j));
    return this.bytes;
  }
}
