import type { CellColumns } from './codec.js';

/** New cells of one block: entries `order[from .. to)` of the columns (keys, slots, measures). */
export interface NewCells {
  key: ArrayLike<number>;
  slots: ArrayLike<number>;
  measures: ReadonlyArray<ArrayLike<number>>;
  order: Int32Array;
  from: number;
  to: number;
}

/** New cells sorted by insertion below this count (they mostly come in key order), with a comparator above. */
const INSERTION_LIMIT = 48;

/**
 * Sums a block's stored cells and a few new ones by a sorted merge: the new cells are sorted by
 * (key, slot) (stable, so duplicates add in the order given), then walked beside the stored cells,
 * which are already in (key, slot) order and are copied through unless a new cell lands on them.
 * The work is one pass over the stored cells and a sort of the new ones, in sequential memory; the
 * result is exactly what summing both into a table and listing it in order gives (the same values,
 * added in the same order: stored first, then the new cells as given), so the same encoded block.
 * Kept per (slots, measures) and reused: the result's columns are valid until the next merge.
 */
export class CellMerger {
  private out: CellColumns;
  private at = new Float64Array(64);
  private idx = new Int32Array(64);

  constructor(private readonly slots: number, private readonly measures: number) {
    this.out = this.columns(256);
  }

  private columns(cap: number): CellColumns {
    return { count: 0, keys: new Int32Array(cap), slots: new Uint16Array(cap), values: Array.from({ length: this.measures }, () => new Float64Array(cap)) };
  }

  /** The new cells' positions (key x slots + slot) and entries, sorted by position then entry. */
  private sortNew(c: NewCells): number {
    const n = c.to - c.from;
    if (this.at.length < n) {
      this.at = new Float64Array(n * 2);
      this.idx = new Int32Array(n * 2);
    }
    const at = this.at;
    const idx = this.idx;
    for (let j = 0; j < n; j++) {
      const i = c.order[c.from + j] as number;
      idx[j] = i;
      at[j] = (c.key[i] as number) * this.slots + (c.slots[i] as number);
    }
    if (n <= INSERTION_LIMIT) {
      for (let j = 1; j < n; j++) {
        const a = at[j] as number;
        const i = idx[j] as number;
        let k = j - 1;
        while (k >= 0 && ((at[k] as number) > a || ((at[k] as number) === a && (idx[k] as number) > i))) {
          at[k + 1] = at[k] as number;
          idx[k + 1] = idx[k] as number;
          k--;
        }
        at[k + 1] = a;
        idx[k + 1] = i;
      }
      return n;
    }
    // Entries are in the order given: a position's rank breaks ties, so the sort is stable whatever the engine's.
    const perm = new Int32Array(n);
    for (let j = 0; j < n; j++) perm[j] = j;
    perm.sort((x, y) => (at[x] as number) - (at[y] as number) || x - y);
    const at0 = at.slice(0, n);
    const idx0 = idx.slice(0, n);
    for (let j = 0; j < n; j++) {
      at[j] = at0[perm[j] as number] as number;
      idx[j] = idx0[perm[j] as number] as number;
    }
    return n;
  }

  /** The sum of `stored` (sorted, this merger's slots and measures; undefined: none) and the new cells, in (key, slot) order. */
  merge(stored: CellColumns | undefined, c: NewCells): CellColumns {
    const nn = this.sortNew(c);
    const sn = stored === undefined ? 0 : stored.count;
    if (this.out.keys.length < sn + nn) this.out = this.columns(Math.max(sn + nn, this.out.keys.length * 2));
    const out = this.out;
    const slots = this.slots;
    const m = this.measures;
    const at = this.at;
    const idx = this.idx;
    let a = 0;
    let b = 0;
    let j = 0;
    while (a < sn || b < nn) {
      const sa = a < sn ? (stored as CellColumns).keys[a] as number * slots + ((stored as CellColumns).slots[a] as number) : Infinity;
      const nb = b < nn ? (at[b] as number) : Infinity;
      if (sa < nb) {
        const s = stored as CellColumns;
        out.keys[j] = s.keys[a] as number;
        out.slots[j] = s.slots[a] as number;
        for (let mm = 0; mm < m; mm++) (out.values[mm] as Float64Array)[j] = (s.values[mm] as Float64Array)[a] as number;
        a++;
        j++;
        continue;
      }
      const first = idx[b] as number;
      out.keys[j] = c.key[first] as number;
      out.slots[j] = c.slots[first] as number;
      if (sa === nb) {
        const s = stored as CellColumns;
        for (let mm = 0; mm < m; mm++) (out.values[mm] as Float64Array)[j] = 0 + ((s.values[mm] as Float64Array)[a] as number);
        a++;
      } else {
        for (let mm = 0; mm < m; mm++) (out.values[mm] as Float64Array)[j] = 0;
      }
      for (; b < nn && at[b] === nb; b++) {
        const i = idx[b] as number;
        for (let mm = 0; mm < m; mm++) {
          const col = out.values[mm] as Float64Array;
          col[j] = (col[j] as number) + ((c.measures[mm] as ArrayLike<number>)[i] as number);
        }
      }
      j++;
    }
    out.count = j;
    return out;
  }
}
