import type { CubeCells } from '../blocks/cube.js';

/**
 * Cells of the store's two (region, isp) x (requests, bytes) cubes, the httpcodes cube and the
 * traffic cubes, filled up to `count` by appendCell and handed to Cube.write.
 */
export type PairCells = CubeCells & { count: number };

export function newCells(capacity: number): PairCells {
  return {
    count: 0,
    series: new Float64Array(capacity),
    slot: new Float64Array(capacity),
    dims: [new Int32Array(capacity), new Int32Array(capacity)],
    key: new Int32Array(capacity),
    measures: [new Float64Array(capacity), new Float64Array(capacity)],
  };
}

/** Appends one cell (within the capacity given to newCells: the caller sized it). */
export function appendCell(
  cells: PairCells, series: number, slot: number, region: number, isp: number, key: number, requests: number, bytes: number,
): void {
  const n = cells.count++;
  (cells.series as Float64Array)[n] = series;
  (cells.slot as Float64Array)[n] = slot;
  (cells.dims[0] as Int32Array)[n] = region;
  (cells.dims[1] as Int32Array)[n] = isp;
  (cells.key as Int32Array)[n] = key;
  (cells.measures[0] as Float64Array)[n] = requests;
  (cells.measures[1] as Float64Array)[n] = bytes;
}
