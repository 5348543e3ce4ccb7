import { REGIONS } from '../../contract/values.js';
import type { CubeCells } from '../blocks/cube.js';
import { PACKED_CODES, PACKED_GEOS, type ProjectCells } from '../packed.js';
import { MINUTE_MS } from './layout.js';

/** Geo codes are region index x 4 + isp index, the same indexes the cube's dims store. */
const GEO_LIMIT = REGIONS.length * 4;

/**
 * Appends a project's packed playback cells to cube cells (from cells.count on): one series id
 * per (domain, minute) slot, dims straight from the geo code, nothing allocated per cell.
 */
export function addPackedCounts(cells: CubeCells & { count: number }, p: ProjectCells, seriesOf: (domain: string) => number): void {
  const c = p.cells;
  const slotSeries = new Float64Array(c.slotDomains.length);
  const slotMinute = new Float64Array(c.slotDomains.length);
  const byDomain = new Map<string, number>();
  c.slotDomains.forEach((domain, i) => {
    let id = byDomain.get(domain);
    if (id === undefined) byDomain.set(domain, (id = seriesOf(domain)));
    slotSeries[i] = id;
    slotMinute[i] = Math.floor((c.slotMinutes[i] as number) / MINUTE_MS);
  });
  const series = cells.series as Float64Array;
  const slot = cells.slot as Float64Array;
  const region = cells.dims[0] as Int32Array;
  const isp = cells.dims[1] as Int32Array;
  const key = cells.key as Int32Array;
  const requests = cells.measures[0] as Float64Array;
  const bytes = cells.measures[1] as Float64Array;
  for (let i = 0; i < c.keys.length; i++) {
    const k = c.keys[i] as number;
    const code = k % PACKED_CODES;
    const geo = ((k - code) / PACKED_CODES) % PACKED_GEOS;
    const s = (k - code - geo * PACKED_CODES) / (PACKED_CODES * PACKED_GEOS);
    if (geo >= GEO_LIMIT || s >= slotSeries.length) throw new Error(`packed cell ${k} outside its batch (geo ${geo}, slot ${s})`);
    const n = cells.count++;
    series[n] = slotSeries[s] as number;
    slot[n] = slotMinute[s] as number;
    region[n] = geo >> 2;
    isp[n] = geo & 3;
    key[n] = code;
    requests[n] = c.counts[i] as number;
    bytes[n] = c.bytes[i] as number;
  }
}

