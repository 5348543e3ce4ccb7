/** Longest line kept; a longer one is dropped as 'parse' (defends memory against newline-free input). */
export const MAX_LINE_BYTES = 1 << 20;

/**
 * Turns a byte stream into whole lines: push() returns the text of the complete lines in the
 * chunk (a partial last line is kept for the next push), end() returns what is left.
 */
export class LineSplitter {
  private rest: Buffer | undefined;
  /** Lines given up because they grew past MAX_LINE_BYTES. */
  oversized = 0;

  push(chunk: Buffer): string {
    const nl = chunk.lastIndexOf(10);
    if (nl < 0) {
      this.rest = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
      if (this.rest.length > MAX_LINE_BYTES) {
        this.oversized++;
        this.rest = undefined;
      }
      return '';
    }
    let head: Buffer = chunk.subarray(0, nl);
    if (this.rest) head = Buffer.concat([this.rest, head]);
    this.rest = nl + 1 < chunk.length ? Buffer.from(chunk.subarray(nl + 1)) : undefined;
    return head.toString('utf8');
  }

  end(): string {
    const r = this.rest;
    this.rest = undefined;
    return r ? r.toString('utf8') : '';
  }
}

/** Calls fn for each line of text ('\n' separated, a trailing '\r' removed, empty lines skipped). */
export function forEachLine(text: string, fn: (line: string, index: number) => void): void {
  let start = 0;
  let index = 0;
  const n = text.length;
  while (start <= n) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = n;
    let stop = end;
    if (stop > start && text.charCodeAt(stop - 1) === 13) stop--;
    if (stop > start) fn(text.slice(start, stop), index);
    index++;
    start = end + 1;
  }
}
