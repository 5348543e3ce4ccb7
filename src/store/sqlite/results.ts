import type { CarouselSample, CodeCount } from '../types.js';
import { MINUTE_MS, SECOND_MS } from './layout.js';
import type { HttpCodesResult, SamplesResult } from './reads.js';

/** The Store interface's cells from a typed read result (non-zero cells only). */
export function toCodeCounts(r: HttpCodesResult): CodeCount[] {
  const out: CodeCount[] = [];
  for (let c = 0; c < r.codes.length; c++) {
    const code = r.codes[c] as number;
    const base = c * r.slots;
    for (let i = 0; i < r.slots; i++) {
      const count = r.counts[base + i] as number;
      if (count > 0) out.push({ minute: r.fromMinute + i * MINUTE_MS, code, count });
    }
  }
  return out;
}

export function toSamples(r: SamplesResult): CarouselSample[] {
  const out: CarouselSample[] = [];
  for (let i = 0; i < r.present.length; i++) {
    if (r.present[i] === 0) continue;
    const v = r.values;
    out.push({
      second: r.from + i * SECOND_MS, videoFps: v[i * 4] as number, videoKbps: v[i * 4 + 1] as number,
      audioFps: v[i * 4 + 2] as number, audioKbps: v[i * 4 + 3] as number,
    });
  }
  return out;
}
