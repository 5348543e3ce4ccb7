import type Database from 'better-sqlite3';
import { encodeBlock, type CellColumns } from './codec.js';
import type { Cube, CubeCells } from './cube.js';

/**
 * The bulk path: writes every level of one (series, time block) from all of its cells at once,
 * replacing what was stored (no read-merge-write). Cells may come in any order and must be
 * distinct. Levels are summed in dense (group, key rank, slot) arrays, so the cost is a few
 * adds per cell plus a scan of the groups that were touched.
 */
export function writeWholeBlock(db: Database.Database, cube: Cube, series: number, block: number, cells: Omit<CubeCells, 'series'>): void {
  const spec = cube.spec;
  const slots = spec.blockSlots;
  const m = spec.measures.length;
  const keys = [...new Set(Array.from({ length: cells.count }, (_, i) => cells.key[i] as number))].sort((a, b) => a - b);
  const rank = new Map<number, number>(keys.map((k, i) => [k, i]));
  const width = keys.length * slots;
  if (cube.levels.some((l) => l.keyDimIndex.length > 0)) throw new Error(`cube ${spec.name}: the bulk path has no levels with dims in the key`);
  for (const level of cube.levels) {
    let groups = 1;
    for (const d of level.dimIndex) groups *= (spec.dims[d] as { values: readonly string[] }).values.length;
    const sums = Array.from({ length: m }, () => new Float64Array(groups * width));
    const present = new Uint8Array(groups * width);
    const touched = new Uint8Array(groups);
    for (let i = 0; i < cells.count; i++) {
      let g = 0;
      for (const d of level.dimIndex) {
        g = g * (spec.dims[d] as { values: readonly string[] }).values.length + ((cells.dims[d] as ArrayLike<number>)[i] as number);
      }
      const slot = (cells.slot[i] as number) - block * slots;
      if (slot < 0 || slot >= slots) throw new RangeError(`cell slot ${cells.slot[i]} outside block ${block}`);
      const at = g * width + (rank.get(cells.key[i] as number) as number) * slots + slot;
      present[at] = 1;
      touched[g] = 1;
      for (let v = 0; v < m; v++) {
        const col = sums[v] as Float64Array;
        col[at] = (col[at] as number) + ((cells.measures[v] as ArrayLike<number>)[i] as number);
      }
    }
    for (let g = 0; g < groups; g++) {
      if (touched[g] === 0) continue;
      let n = 0;
      for (let j = g * width; j < (g + 1) * width; j++) n += present[j] as number;
      const out: CellColumns = { count: n, keys: new Int32Array(n), slots: new Uint16Array(n), values: Array.from({ length: m }, () => new Float64Array(n)) };
      let c = 0;
      for (let r = 0; r < keys.length; r++) {
        const base = g * width + r * slots;
        for (let s = 0; s < slots; s++) {
          if (present[base + s] === 0) continue;
          out.keys[c] = keys[r] as number;
          out.slots[c] = s;
          for (let v = 0; v < m; v++) (out.values[v] as Float64Array)[c] = (sums[v] as Float64Array)[base + s] as number;
          c++;
        }
      }
      level.table.put(db, series, g, block, encodeBlock(slots, out));
    }
  }
}
