import type { CubeCells } from './cube.js';
import { BlockIdIndex } from './id-index.js';

type Cells = CubeCells & { count: number };

/** Columns sumDuplicateCells sums into, kept between calls (grown; a call's result is copied out of them). */
let scratchFirst = new Int32Array(0);
let scratchSums: Float64Array[] = [];
/** Writes of more cells than this get columns of their own (not kept). */
const KEEP_SCRATCH = 1 << 17;

function scratch(n: number, m: number): { firstOf: Int32Array; sums: Float64Array[] } {
  if (n > KEEP_SCRATCH) return { firstOf: new Int32Array(n), sums: Array.from({ length: m }, () => new Float64Array(n)) };
  if (scratchFirst.length < n) {
    const cap = Math.min(KEEP_SCRATCH, Math.max(n, scratchFirst.length * 2));
    scratchFirst = new Int32Array(cap);
    scratchSums = scratchSums.map(() => new Float64Array(cap));
  }
  while (scratchSums.length < m) scratchSums.push(new Float64Array(scratchFirst.length));
  return { firstOf: scratchFirst, sums: scratchSums.slice(0, m) };
}

/**
 * The same cells with duplicates summed: one cell per (series, slot, dims, key). A cube write
 * costs per input cell and level, so cells that will land on the same stored cell (e.g. the
 * streams of one domain, for the per-domain cube) are cheaper summed once first. `dimSizes` are
 * the dims' value counts. Returns the input as is when the cells cannot be numbered exactly
 * (a composite beyond 2^53) or nothing repeats.
 */
export function sumDuplicateCells(cells: Cells, dimSizes: readonly number[]): Cells {
  const n = cells.count;
  if (n < 2) return cells;
  let minSlot = Infinity;
  let maxSlot = -Infinity;
  let maxSeries = 0;
  let maxKey = 0;
  for (let i = 0; i < n; i++) {
    const s = cells.slot[i] as number;
    if (s < minSlot) minSlot = s;
    if (s > maxSlot) maxSlot = s;
    maxSeries = Math.max(maxSeries, cells.series[i] as number);
    maxKey = Math.max(maxKey, cells.key[i] as number);
  }
  const slots = maxSlot - minSlot + 1;
  const groups = dimSizes.reduce((a, b) => a * b, 1);
  if (!((maxSeries + 1) * slots * groups * (maxKey + 1) < 2 ** 53)) return cells;
  const index = new BlockIdIndex(Math.min(n, 1 << 20));
  // Typed columns of n entries (at most n distinct cells): no boxed numbers or growing arrays.
  const m = cells.measures.length;
  const { firstOf, sums } = scratch(n, m);
  let k = 0;
  for (let i = 0; i < n; i++) {
    let g = 0;
    for (let d = 0; d < dimSizes.length; d++) g = g * (dimSizes[d] as number) + ((cells.dims[d] as ArrayLike<number>)[i] as number);
    const id = (((cells.series[i] as number) * slots + ((cells.slot[i] as number) - minSlot)) * groups + g) * (maxKey + 1) + (cells.key[i] as number);
    const j = index.add(id);
    if (j === k) {
      firstOf[k++] = i;
      for (let v = 0; v < m; v++) (sums[v] as Float64Array)[j] = (cells.measures[v] as ArrayLike<number>)[i] as number;
    } else {
      for (let v = 0; v < m; v++) {
        const col = sums[v] as Float64Array;
        col[j] = (col[j] as number) + ((cells.measures[v] as ArrayLike<number>)[i] as number);
      }
    }
  }
  if (k === n) return cells;
  const pick = (col: ArrayLike<number>, make: (len: number) => Float64Array | Int32Array): Float64Array | Int32Array => {
    const out = make(k);
    for (let j = 0; j < k; j++) out[j] = col[firstOf[j] as number] as number;
    return out;
  };
  const f64 = (len: number): Float64Array => new Float64Array(len);
  const i32 = (len: number): Int32Array => new Int32Array(len);
  return {
    count: k,
    series: pick(cells.series, f64),
    slot: pick(cells.slot, f64),
    dims: cells.dims.map((d) => pick(d, i32)),
    key: pick(cells.key, i32),
    measures: sums.map((s) => s.slice(0, k)),
  };
}
