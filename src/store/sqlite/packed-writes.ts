import { GEO_CODE_LIMIT, PACKED_CODES, PACKED_GEOS, type ProjectCells } from '../packed.js';
import { appendCell, type PairCells } from './cube-cells.js';
import { MINUTE_MS } from './layout.js';

/**
 * Appends a project's packed playback cells to cube cells (from cells.count on): one series id
 * per (domain, minute) slot, dims straight from the geo code, nothing allocated per cell. A domain
 * whose series id is -1 (no id left) is skipped; returns the requests skipped so.
 */
export function addPackedCounts(cells: PairCells, p: ProjectCells, seriesOf: (domain: string) => number): number {
  let skipped = 0;
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
  for (let i = 0; i < c.keys.length; i++) {
    const k = c.keys[i] as number;
    const code = k % PACKED_CODES;
    const geo = ((k - code) / PACKED_CODES) % PACKED_GEOS;
    const s = (k - code - geo * PACKED_CODES) / (PACKED_CODES * PACKED_GEOS);
    if (geo >= GEO_CODE_LIMIT || s >= slotSeries.length) throw new Error(`packed cell ${k} outside its batch (geo ${geo}, slot ${s})`);
    if ((slotSeries[s] as number) < 0) {
      skipped += c.counts[i] as number;
      continue;
    }
    appendCell(cells, slotSeries[s] as number, slotMinute[s] as number, geo >> 2, geo & 3, code, c.counts[i] as number, c.bytes[i] as number);
  }
  return skipped;
}

