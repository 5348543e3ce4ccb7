/** Unsigned LEB128 varints for whole numbers 0..2^53-1 (7 bits a byte, low bits first). */

export class BlockFormatError extends Error {
  constructor(message: string) {
    super(`malformed block: ${message}`);
    this.name = 'BlockFormatError';
  }
}

/** A growable byte buffer that varints are appended to. */
export class ByteWriter {
  private buf: Uint8Array;
  length = 0;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  uint(v: number): void {
    if (!(v >= 0 && v <= Number.MAX_SAFE_INTEGER && Number.isInteger(v))) {
      throw new RangeError(`varint out of range: ${v}`);
    }
    this.reserve(8);
    const buf = this.buf;
    let n = this.length;
    if (v < 0x80) {
      // Most varints of a block (slot deltas, small counts, zeros): one byte.
      buf[n] = v;
      this.length = n + 1;
      return;
    }
    // Below 2^31 the 7-bit groups come from integer shifts; above, from float division (the same bytes).
    while (v >= 0x80000000) {
      buf[n++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    while (v >= 0x80) {
      buf[n++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[n++] = v;
    this.length = n;
  }

  /** Appends what another writer holds (no view made). */
  append(other: ByteWriter): void {
    const n = other.length;
    this.reserve(n);
    if (n <= 64) {
      // Short streams (most of a small block's): copied byte by byte, without making a view.
      const from = other.buf;
      const to = this.buf;
      const at = this.length;
      for (let i = 0; i < n; i++) to[at + i] = from[i] as number;
    } else this.buf.set(other.buf.length === n ? other.buf : other.buf.subarray(0, n), this.length);
    this.length += n;
  }

  /** Forgets what was written (the buffer is kept for reuse). */
  reset(): void {
    this.length = 0;
  }

  /** The bytes written so far, without copying (valid until the next write or reset). */
  view(start = 0, end = this.length): Uint8Array {
    return this.buf.subarray(start, end);
  }

  /** A copy of the bytes written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Reads varints from a byte range; every read is bounds-checked. */
export class ByteReader {
  pos: number;

  constructor(public buf: Uint8Array, start = 0, public end = buf.length) {
    this.pos = start;
  }

  /** Points the reader at buf[start..end) (a reader reused for many ranges: nothing allocated per range). */
  reset(buf: Uint8Array, start: number, end: number): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    return this;
  }

  byte(): number {
    if (this.pos >= this.end) throw new BlockFormatError(`truncated at byte ${this.pos}`);
    return this.buf[this.pos++] as number;
  }

  uint(): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    if (pos >= end) throw new BlockFormatError(`truncated varint at byte ${pos}`);
    let b = buf[pos++] as number;
    if (b < 0x80) {
      this.pos = pos;
      return b;
    }
    let v = b & 0x7f;
    let scale = 0x80;
    for (let i = 1; ; i++) {
      if (pos >= end) throw new BlockFormatError(`truncated varint at byte ${pos}`);
      if (i > 7) throw new BlockFormatError(`varint longer than 8 bytes at byte ${this.pos}`);
      b = buf[pos++] as number;
      v += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 0x80;
    }
    if (v > Number.MAX_SAFE_INTEGER) throw new BlockFormatError(`varint beyond 2^53 at byte ${this.pos}`);
    this.pos = pos;
    return v;
  }
}
