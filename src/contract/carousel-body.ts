import type { CarouselQuery } from './carousel.js';
import { JsonBytes, UtcSecondWriter, asciiBytes, writeSmallInt } from './json-bytes.js';
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
  const len = cols.present.length;
  const out = new JsonBytes(128 + n * 4 * 6);
  const time = new UtcSecondWriter();
  out.ensure(64);
  out.bytes(START);
  time.write(out, q.start);
  out.bytes(END);
  time.write(out, q.end);
  const present = cols.present;
  const values = cols.values;
  for (let m = 0; m < 4; m++) {
    out.ensure(32);
    out.bytes(LISTS[m] as Uint8Array);
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
  out.ensure(2);
  out.bytes(CLOSE);
  return out.finish();
}
