import type { CarouselQuery } from './carousel.js';
import { JsonBytes, UtcSecondWriter, asciiBytes, giveSpare, writeSmallInt } from './json-bytes.js';
import { SECOND } from './time.js';

/** Per-second samples as a store reads them: second `from + i * SECOND` has values[4 i .. 4 i + 3] when present[i]. */
export interface SampleColumns {
  from: number;
  present: Uint8Array;
  values: Float64Array;
}

const LISTS = ['","video_framerate_list":[', '],"video_bitrate_list":[', '],"audio_framerate_list":[', '],"audio_bitrate_list":['].map(asciiBytes);
const START = asciiBytes('{"start_time":"');
const END = asciiBytes('","end_time":"');
const CLOSE = asciiBytes(']}');

/**
 * The ListCarouselTaskDetail answer rendered straight to bytes: the same bytes as
 * `carouselJson(q, toSamples(columns))` (property-tested), without a sample object per second.
 */
export function renderCarousel(q: Pick<CarouselQuery, 'start' | 'end'>, cols: SampleColumns): Uint8Array {
  const n = Math.max(0, Math.floor((q.end - q.start) / SECOND));
  const offset = (q.start - cols.from) / SECOND;
  const shift = Number.isInteger(offset) ? offset : NaN;
  const out = new JsonBytes(128 + n * 4 * 6);
  const time = new UtcSecondWriter();
  out.ensure(64);
  out.bytes(START);
  time.write(out, q.start);
  out.bytes(END);
  time.write(out, q.end);
  for (let m = 0; m < 4; m++) {
    out.ensure(32);
    out.bytes(LISTS[m] as Uint8Array);
    writeList(out, cols, m, shift, n);
  }
  out.ensure(2);
  out.bytes(CLOSE);
  return out.finish();
}

/** Measure m's values of seconds shift .. shift + n - 1 of `cols`, comma-joined (0 where no sample). */
function writeList(out: JsonBytes, cols: SampleColumns, m: number, shift: number, n: number): void {
  const present = cols.present;
  const values = cols.values;
  const len = present.length;
  for (let i = 0; i < n; ) {
    // A run of up to 256 values per room check (each at most 25 bytes with its comma).
    out.ensure(256 * 26 + 8);
    const b = out.buf;
    const v = out.view;
    let p = out.pos;
    for (const stop = Math.min(n, i + 256); i < stop; i++) {
      if (i > 0) b[p++] = 44; // ','
      const j = i + shift;
      const x = j >= 0 && j < len && present[j] !== 0 ? (values[j * 4 + m] as number) : 0;
      if (x >= 0 && x <= 0x7fffffff && (x | 0) === x) {
        p = writeSmallInt(b, v, p, x);
      } else {
        out.pos = p;
        out.number(x);
        p = out.pos;
      }
    }
    out.pos = p;
  }
}

/**
 * A stretch of an answer's four lists rendered ahead: `count` seconds, list m's values
 * comma-joined (no brackets) in bytes[ends[m - 1] .. ends[m]) (from 0 for m = 0).
 */
export interface SampleLists {
  count: number;
  bytes: Uint8Array;
  ends: readonly [number, number, number, number];
}

/** The four lists of `count` seconds from `from` (epoch ms) of `cols`, for assembleCarousel. */
export function renderSampleLists(from: number, count: number, cols: SampleColumns): SampleLists {
  const offset = (from - cols.from) / SECOND;
  const shift = Number.isInteger(offset) ? offset : NaN;
  const n = Math.max(0, count);
  const out = new JsonBytes(64 + n * 4 * 6);
  const ends: [number, number, number, number] = [0, 0, 0, 0];
  for (let m = 0; m < 4; m++) {
    writeList(out, cols, m, shift, n);
    ends[m] = out.pos;
  }
  // A copy of its own size: the stretch may be kept (a block); the renderer's buffer is reused.
  const bytes = out.finish().slice();
  giveSpare(out.buf.buffer as ArrayBuffer);
  return { count: n, bytes, ends };
}

/**
 * The answer from stretches that cover its seconds in order (their counts add up to the answer's
 * second count): the same bytes as renderCarousel over the samples they were rendered from, the
 * stretches copied, not rendered again.
 */
export function assembleCarousel(q: Pick<CarouselQuery, 'start' | 'end'>, parts: readonly SampleLists[]): Uint8Array {
  const n = Math.max(0, Math.floor((q.end - q.start) / SECOND));
  const used = parts.filter((p) => p.count > 0);
  if (used.reduce((a, p) => a + p.count, 0) !== n) throw new Error('assembleCarousel: the stretches do not cover the answer');
  let size = 128 + CLOSE.length;
  for (const l of LISTS) size += l.length;
  for (const p of used) size += p.bytes.length + 4;
  const out = new JsonBytes(size);
  const time = new UtcSecondWriter();
  out.ensure(128);
  out.bytes(START);
  time.write(out, q.start);
  out.bytes(END);
  time.write(out, q.end);
  for (let m = 0; m < 4; m++) {
    out.ensure(32);
    out.bytes(LISTS[m] as Uint8Array);
    for (const [k, p] of used.entries()) {
      const from = m === 0 ? 0 : p.ends[m - 1] as number;
      const to = p.ends[m] as number;
      out.ensure(to - from + 1);
      if (k > 0) out.buf[out.pos++] = 44; // ','
      out.buf.set(p.bytes.subarray(from, to), out.pos);
      out.pos += to - from;
    }
  }
  out.ensure(CLOSE.length);
  out.bytes(CLOSE);
  return out.finish();
}
