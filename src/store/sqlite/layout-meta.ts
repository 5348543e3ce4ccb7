import { BLOCK_FORMAT_VERSION } from '../blocks/codec.js';
import { HTTP_CUBE, SAMPLES } from './layout.js';

interface LayoutMeta {
  blockFormat: number;
  dims: Array<{ name: string; values: readonly string[] }>;
  sampleSlots: number;
}

/** What the stored blocks depend on: the block format and each dim's value order. */
export function layoutMeta(): string {
  const m: LayoutMeta = {
    blockFormat: BLOCK_FORMAT_VERSION,
    dims: HTTP_CUBE.spec.dims.map((d) => ({ name: d.name, values: d.values })),
    sampleSlots: SAMPLES.slots,
  };
  return JSON.stringify(m);
}

/**
 * Refuses a file written with another layout: a newer block format, or dim values reordered
 * (stored group numbers are value indexes; appending values is fine).
 */
export function checkLayout(stored: string | undefined): void {
  if (stored === undefined) return;
  const s = JSON.parse(stored) as LayoutMeta;
  if (s.blockFormat > BLOCK_FORMAT_VERSION) {
    throw new Error(`the database uses block format ${s.blockFormat}; this livestats reads up to ${BLOCK_FORMAT_VERSION} (upgrade livestats)`);
  }
  if (s.sampleSlots !== SAMPLES.slots) throw new Error(`the database uses ${s.sampleSlots}-second sample blocks, this build ${SAMPLES.slots}`);
  for (const d of s.dims) {
    const now = HTTP_CUBE.spec.dims.find((x) => x.name === d.name);
    if (!now || d.values.some((v, i) => now.values[i] !== v)) {
      throw new Error(`the database's ${d.name} values are ordered differently from this build's`);
    }
  }
}
