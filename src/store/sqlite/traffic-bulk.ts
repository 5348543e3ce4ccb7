import type Database from 'better-sqlite3';
import { encodeBlock, type CellColumns } from '../blocks/codec.js';
import type { Cube, CubeDim } from '../blocks/cube.js';
import { TRAFFIC_BLOCK_SLOTS } from './traffic-layout.js';

/**
 * The cells of one traffic (series, 6-hour block) for the bulk path: parallel arrays, cell i is
 * (slot[i] within the block, region index, isp index, cell key = trafficKey(protocol, ip type))
 * with its requests and bytes. Cells may repeat a coordinate (they are summed) and come in any order.
 */
export interface TrafficBlockCells {
  count: number;
  slot: ArrayLike<number>;
  region: ArrayLike<number>;
  isp: ArrayLike<number>;
  key: ArrayLike<number>;
  requests: ArrayLike<number>;
  bytes: ArrayLike<number>;
}

/** Cell keys are trafficKey values (0..8): 4 bits in the sort code. */
const KEY_RADIX = 16;

/**
 * Writes every level of one (series, block) of a traffic cube from all of its cells, replacing
 * what was stored (the bulk path: no read-merge-write). Unlike the dense-array bulk path of the
 * playback cube (writeWholeBlock), the cost is proportional to the cells given, not to the level's
 * group count: per level the cells are sorted by (group, key, slot) and summed in one pass, so a
 * sparse stream series with a few dozen cells costs a few dozen sort entries.
 */
export function writeTrafficBlock(db: Database.Database, cube: Cube, series: number, block: number, cells: TrafficBlockCells): void {
  const spec = cube.spec;
  const slots = spec.blockSlots;
  const n = cells.count;
  if (n === 0) return;
  const dimsOf = [cells.region, cells.isp];
  const codes = new Float64Array(n);
  const order = new Uint32Array(n);
  for (const level of cube.levels) {
    for (let i = 0; i < n; i++) {
      let g = 0;
      for (const d of level.dimIndex) g = g * (spec.dims[d] as CubeDim).values.length + ((dimsOf[d] as ArrayLike<number>)[i] as number);
      const slot = cells.slot[i] as number;
      if (!(slot >= 0 && slot < slots)) throw new RangeError(`traffic cell slot ${slot} outside the block`);
      // (group, key, slot) then the cell index, in one exactly representable number (below 2^53).
      codes[i] = ((g * KEY_RADIX + (cells.key[i] as number)) * slots + slot) * 2 ** 20 + i;
    }
    if (n >= 2 ** 20) throw new RangeError('too many traffic cells in one block');
    codes.sort();
    for (let i = 0; i < n; i++) order[i] = (codes[i] as number) % 2 ** 20;
    let at = 0;
    while (at < n) {
      const code0 = Math.floor((codes[at] as number) / 2 ** 20);
      const g = Math.floor(code0 / (KEY_RADIX * slots));
      let end = at;
      while (end < n && Math.floor(Math.floor((codes[end] as number) / 2 ** 20) / (KEY_RADIX * slots)) === g) end++;
      const out: CellColumns = {
        count: 0, keys: new Int32Array(end - at), slots: new Uint16Array(end - at), values: [new Float64Array(end - at), new Float64Array(end - at)],
      };
      const req = out.values[0] as Float64Array;
      const bytes = out.values[1] as Float64Array;
      let last = -1;
      for (let j = at; j < end; j++) {
        const cell = Math.floor((codes[j] as number) / 2 ** 20) % (KEY_RADIX * slots);
        const i = order[j] as number;
        if (cell !== last) {
          out.keys[out.count] = Math.floor(cell / slots);
          out.slots[out.count] = cell % slots;
          out.count++;
          last = cell;
        }
        req[out.count - 1] = (req[out.count - 1] as number) + (cells.requests[i] as number);
        bytes[out.count - 1] = (bytes[out.count - 1] as number) + (cells.bytes[i] as number);
      }
      level.table.put(db, series, g, block, encodeBlock(slots, out));
      at = end;
    }
  }
}

/** Requests and bytes of the cells per slot of the block: [2 s] and [2 s + 1] (for the totals cube). */
export function perSlotTotals(cells: TrafficBlockCells): Float64Array {
  const out = new Float64Array(2 * TRAFFIC_BLOCK_SLOTS);
  for (let i = 0; i < cells.count; i++) {
    const s = cells.slot[i] as number;
    out[2 * s] = (out[2 * s] as number) + (cells.requests[i] as number);
    out[2 * s + 1] = (out[2 * s + 1] as number) + (cells.bytes[i] as number);
  }
  return out;
}
