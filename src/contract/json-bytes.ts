import { formatUtcSecond } from './time.js';

const DAY = 86_400_000;
const MINUTE = 60_000;
const ZERO = 48;

/**
 * A growable byte buffer for rendering JSON answers straight to bytes (ASCII only): no
 * intermediate strings or objects per value. `finish()` returns a view of the written bytes
 * whose ArrayBuffer can be transferred to another thread.
 */
export class JsonBytes {
  buf: Uint8Array;
  /** The same bytes for 32-bit stores (see copyWords); replaced with buf when it grows. */
  view: DataView;
  pos = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(takeSpare(Math.max(64, capacity)));
    this.view = new DataView(this.buf.buffer, 0, this.buf.length);
  }

  /** Makes room for n more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = new Uint8Array(takeSpare(Math.max(this.buf.length * 2, this.pos + n)));
    grown.set(this.buf.subarray(0, this.pos));
    giveSpare(this.buf.buffer as ArrayBuffer);
    this.buf = grown;
    this.view = new DataView(grown.buffer, 0, grown.length);
  }

  /** ASCII text (callers have ensured room: 1 byte per char). */
  ascii(s: string): void {
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** Pre-encoded bytes (callers have ensured room). */
  bytes(src: Uint8Array): void {
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < src.length; i++) b[p++] = src[i] as number;
    this.pos = p;
  }

  /** A number exactly as JSON.stringify / String() writes it (at most 24 bytes; callers have ensured room). */
  number(v: number): void {
    if (v >= 0 && v <= 0x7fffffff && (v | 0) === v) {
      this.smallInt(v);
      return;
    }
    if (Number.isSafeInteger(v) && v > 0) {
      let digits = 1;
      for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
      const b = this.buf;
      let p = this.pos + digits;
      this.pos = p;
      for (let t = v; digits > 0; digits--) {
        const q = Math.floor(t / 10);
        b[--p] = ZERO + (t - q * 10);
        t = q;
      }
      return;
    }
    this.ascii(String(v));
  }

  private smallInt(v: number): void {
    const b = this.buf;
    let digits = 1;
    for (let t = v; t >= 10; t = (t / 10) | 0) digits++;
    let p = this.pos + digits;
    this.pos = p;
    for (let t = v; digits > 0; digits--) {
      const q = (t / 10) | 0;
      b[--p] = ZERO + (t - q * 10);
      t = q;
    }
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

/**
 * Buffers given back once an answer rendered into them has been sent (see ReadPool.release):
 * reused instead of allocating ~0.5 MB per answer, which in the thread that receives them
 * costs a major GC every few dozen answers (external memory pressure). As many as a loaded
 * server has answers in flight at once (10 connections of the dense bench each waiting on a
 * ~200 KB play-info body: with 4 kept, most of those answers took a new buffer), up to
 * MAX_SPARES_TOTAL bytes together (the oldest dropped first).
 */
const spares: ArrayBuffer[] = [];
export const MAX_SPARES = 16;
const MAX_SPARE_BYTES = 16 * 2 ** 20;
const MAX_SPARES_TOTAL = 4 * MAX_SPARE_BYTES;
let spareBytes = 0;

function takeSpare(bytes: number): ArrayBuffer {
  const i = spares.findIndex((b) => b.byteLength >= bytes);
  if (i < 0) return new ArrayBuffer(bytes);
  const b = spares.splice(i, 1)[0] as ArrayBuffer;
  spareBytes -= b.byteLength;
  return b;
}

/** Keeps a buffer whose contents are no longer needed for the next rendering (up to MAX_SPARES, 16 MiB each, 64 MiB in all). */
export function giveSpare(buffer: ArrayBuffer): void {
  // A buffer given twice would be handed to two renderings at once: kept once.
  if (buffer.byteLength > MAX_SPARE_BYTES || buffer.byteLength === 0 || spares.includes(buffer)) return;
  spares.push(buffer);
  spareBytes += buffer.byteLength;
  while (spares.length > MAX_SPARES || spareBytes > MAX_SPARES_TOTAL) spareBytes -= (spares.shift() as ArrayBuffer).byteLength;
}

export function asciiBytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

/**
 * Fixed texts as little-endian 32-bit words, `stride` words per text (zero-padded): copying a
 * text is then `stride` unaligned 32-bit stores instead of one store per byte. A copy writes
 * up to `4 * stride` bytes, past the text's end: callers keep that much room and let the next
 * write overwrite the excess.
 */
export class WordTexts {
  readonly words: Uint32Array;
  readonly lengths: Uint8Array;

  constructor(texts: readonly Uint8Array[], readonly stride: number) {
    this.words = new Uint32Array(texts.length * stride);
    this.lengths = new Uint8Array(texts.length);
    texts.forEach((t, i) => {
      if (t.length > stride * 4 || t.length > 255) throw new RangeError(`text of ${t.length} bytes in ${stride} words`);
      this.lengths[i] = t.length;
      for (let j = 0; j < t.length; j++) {
        const w = i * stride + (j >> 2);
        this.words[w] = ((this.words[w] as number) | ((t[j] as number) << (8 * (j & 3)))) >>> 0;
      }
    });
  }
}

/** "00".."99" as little-endian 16-bit words. */
const PAIRS = Uint16Array.from({ length: 100 }, (_, i) => (ZERO + ((i / 10) | 0)) | ((ZERO + (i % 10)) << 8));

/** Decimal digits of a whole number 0..2^31-1. */
export function decimalDigits(v: number): number {
  if (v < 10_000) return v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : 4;
  if (v < 100_000_000) return v < 100_000 ? 5 : v < 1_000_000 ? 6 : v < 10_000_000 ? 7 : 8;
  return v < 1_000_000_000 ? 9 : 10;
}

/**
 * Writes a whole number 0..2^31-1 in decimal at byte `p` of `b` (`view` over the same bytes),
 * two digits per store; returns the position after it.
 */
export function writeSmallInt(b: Uint8Array, view: DataView, p: number, v: number): number {
  const end = p + decimalDigits(v);
  let t = v;
  let at = end;
  while (t >= 100) {
    const d = (t / 100) | 0;
    at -= 2;
    view.setUint16(at, PAIRS[t - d * 100] as number, true);
    t = d;
  }
  if (t >= 10) view.setUint16(at - 2, PAIRS[t] as number, true);
  else b[at - 1] = ZERO + t;
  return end;
}

/** Words needed for texts of up to n bytes. */
export const wordsFor = (n: number): number => Math.max(1, Math.ceil(n / 4));

/**
 * Writes `formatUtcSecond(ms)` (20 bytes, "YYYY-MM-DDTHH:MM:SSZ"); the date part is formatted once
 * per UTC day and kept, hours, minutes and seconds are written from the time of day.
 */
export class UtcSecondWriter {
  private day = NaN;
  private readonly date = new Uint8Array(11);

  write(out: JsonBytes, ms: number): void {
    const t = Math.floor(ms / 1000) * 1000;
    if (t < 0 || !Number.isSafeInteger(t)) {
      out.ascii(formatUtcSecond(ms));
      return;
    }
    const day = Math.floor(t / DAY);
    if (day !== this.day) {
      this.day = day;
      const s = formatUtcSecond(t);
      if (s.length !== 20) {
        this.day = NaN;
        out.ascii(s);
        return;
      }
      for (let i = 0; i < 11; i++) this.date[i] = s.charCodeAt(i);
    }
    const inDay = t - day * DAY;
    const minuteOfDay = Math.floor(inDay / MINUTE);
    const h = Math.floor(minuteOfDay / 60);
    const m = minuteOfDay - h * 60;
    const sec = (inDay - minuteOfDay * MINUTE) / 1000;
    out.bytes(this.date);
    const b = out.buf;
    let p = out.pos;
    b[p++] = ZERO + ((h / 10) | 0);
    b[p++] = ZERO + (h % 10);
    b[p++] = 58; // ':'
    b[p++] = ZERO + ((m / 10) | 0);
    b[p++] = ZERO + (m % 10);
    b[p++] = 58;
    b[p++] = ZERO + ((sec / 10) | 0);
    b[p++] = ZERO + (sec % 10);
    b[p++] = 90; // 'Z'
    out.pos = p;
  }
}
