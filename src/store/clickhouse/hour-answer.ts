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

/**
 * Adds up the cells of `groups` of every block, and the extra cells, into per-code columns of
 * `slots` minutes from `fromMinute` (codes ascending): what renderHttpCodes takes. Pure; the
 * hour-block worker runs it, so a 24 h x 10 domains answer (240 blocks) is summed off the main thread.
 */
export function sumColumns(fromMinute: number, slots: number, blocks: readonly BlockSlice[], groups: readonly number[], extra?: ExtraCells): HttpCodesColumns {
  const byCode = new Map<number, Float64Array>();
  const column = (code: number): Float64Array => {
    let col = byCode.get(code);
    if (!col) byCode.set(code, (col = new Float64Array(slots)));
    return col;
  };
  let lastCode = -1;
  let last: Float64Array = new Float64Array(0);
  for (const { cells, base } of blocks) {
    const { offsets, minute, code, count } = cells;
    for (const g of groups) {
      for (let i = offsets[g] as number, end = offsets[g + 1] as number; i < end; i++) {
        const c = code[i] as number;
        if (c !== lastCode) {
          last = column(c);
          lastCode = c;
        }
        const s = base + (minute[i] as number);
        last[s] = (last[s] as number) + (count[i] as number);
      }
    }
  }
  if (extra) {
    for (let i = 0; i < extra.slot.length; i++) {
      const col = column(extra.code[i] as number);
      const s = extra.slot[i] as number;
      col[s] = (col[s] as number) + (extra.count[i] as number);
    }
  }
  const codes = Int32Array.from([...byCode.keys()].sort((a, b) => a - b));
  const counts = new Float64Array(codes.length * slots);
  codes.forEach((code, k) => counts.set(byCode.get(code) as Float64Array, k * slots));
  return { fromMinute, slots, codes, counts };
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
