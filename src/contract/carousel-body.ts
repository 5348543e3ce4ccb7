import type { CarouselQuery } from './carousel.js';
import { JsonBytes, UtcSecondWriter, asciiBytes } from './json-bytes.js';
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
  for (let m = 0; m < 4; m++) {
    out.ensure(32);
    out.bytes(LISTS[m] as Uint8Array);
    for (let i = 0; i < n; i++) {
      out.ensure(26);
      if (i > 0) out.buf[out.pos++] = 44; // ','
      const j = i + shift;
      if (j >= 0 && j < len && cols.present[j] !== 0) out.number(cols.values[j * 4 + m] as number);
      else out.buf[out.pos++] = 48; // '0'
    }
  }
  out.ensure(2);
  out.bytes(CLOSE);
  return out.finish();
}
