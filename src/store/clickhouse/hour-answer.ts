import type { HttpCodesColumns } from '../../contract/httpcodes-body.js';
import type { CodeCount } from '../types.js';
import type { LevelCells } from './hour-cells.js';

const MIN = 60_000;

/** One hour block's cells of a level, and the answer slot of the hour's minute 0. */
export interface BlockSlice {
  cells: LevelCells;
  base: number;
}

/** Cells read by SQL (the edges, stale hours): answer slot, code, count. */
export interface ExtraCells {
  slot: Int32Array;
  code: Int32Array;
  count: Float64Array;
}

/** Column of each code (-1: none yet) while one answer is summed: reset after each, so reused (a worker sums one answer at a time). */
const columnOf = new Int32Array(65_536).fill(-1);

/**
 * Adds up the cells of `groups` of every block, and the extra cells, into per-code columns of
 * `slots` minutes from `fromMinute` (codes ascending): what renderHttpCodes takes. Pure; the
 * hour-block worker runs it, so a 24 h x 10 domains answer (240 blocks) is summed off the main thread.
 * The cells go straight into one flat array (a code's column found by a table lookup, not a Map: a
 * block's cells change code at almost every cell), and the columns are put in code order at the end.
 */
export function sumColumns(fromMinute: number, slots: number, blocks: readonly BlockSlice[], groups: readonly number[], extra?: ExtraCells): HttpCodesColumns {
  const seen: number[] = [];
  let acc = new Float64Array(slots * 8);
  const column = (c: number): number => {
    const k = seen.length;
    seen.push(c);
    columnOf[c] = k;
    if ((k + 1) * slots > acc.length) {
      const grown = new Float64Array(acc.length * 2);
      grown.set(acc);
      acc = grown;
    }
    return k;
  };
  try {
    for (const { cells, base } of blocks) {
      const { offsets, minute, code, count } = cells;
      for (const g of groups) {
        for (let i = offsets[g] as number, end = offsets[g + 1] as number; i < end; i++) {
          const c = code[i] as number;
          let k = columnOf[c] as number;
          if (k < 0) k = column(c);
          const s = k * slots + base + (minute[i] as number);
          acc[s] = (acc[s] as number) + (count[i] as number);
        }
      }
    }
    if (extra) {
      for (let i = 0; i < extra.slot.length; i++) {
        const c = extra.code[i] as number;
        // Codes are 16-bit (the tables' type): anything else is not a code this answer can hold.
        if (!(c >= 0 && c < 65_536)) throw new Error('a count with a code out of range');
        let k = columnOf[c] as number;
        if (k < 0) k = column(c);
        const s = k * slots + (extra.slot[i] as number);
        acc[s] = (acc[s] as number) + (extra.count[i] as number);
      }
    }
    const codes = Int32Array.from(seen).sort();
    const counts = new Float64Array(codes.length * slots);
    codes.forEach((c, k) => counts.set(acc.subarray((columnOf[c] as number) * slots, ((columnOf[c] as number) + 1) * slots), k * slots));
    return { fromMinute, slots, codes, counts };
  } finally {
    for (const c of seen) columnOf[c] = -1;
  }
}

/** The columns as cells, by minute then code; cells without requests are left out (as SQL never returns one). */
export function columnsToCells(cols: HttpCodesColumns): CodeCount[] {
  const out: CodeCount[] = [];
  const n = cols.slots;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < cols.codes.length; k++) {
      const v = cols.counts[k * n + i] as number;
      if (v !== 0) out.push({ minute: cols.fromMinute + i * MIN, code: cols.codes[k] as number, count: v });
    }
  }
  return out;
}
