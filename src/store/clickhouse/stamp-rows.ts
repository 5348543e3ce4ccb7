import { unescapeTsv } from './sql.js';
import type { StampGrid } from './stamp-grid.js';

const TWO_32 = 4_294_967_296;

/** Times [from, to) of a raw stamps read whose row of time t is cell t - from + cellBase of its (project, domain). */
export interface StampSpan {
  from: number;
  to: number;
  cellBase: number;
}

/**
 * What each TabSeparated row of a raw stamps read holds, in this order: the project's name (when the read
 * asked for several projects; else `project`, the index of the one), the domain's name (likewise), the time
 * (an hour, or a day of a day stamps table), then `rows` and `tags` as stored (UInt64 decimal). The row's
 * cell within its (project, domain) is given by the span its time falls in (`spans`, disjoint: a read of day
 * stamps and hour stamps together has the days' span and the hours'); a time in none fails the read.
 */
export interface RawStampLayout {
  /** The index of the one project read, or -1: each row names its project. */
  project: number;
  /** The index of the one domain read, or -1: each row names its domain. */
  domain: number;
  spans: readonly StampSpan[];
}

/**
 * The high halves of the rows sums of a grid while raw stamp rows are added (addRawStamps): `grid.rows` holds
 * the low halves' sums until finishRawStamps folds both into the 64-bit sum.
 */
export type RowsHigh = Float64Array;

/** Parses a UInt64 field in decimal at text[i..] up to its end (a tab, a newline or the text's end) into halves[0] (high 32 bits) and halves[1] (low). */
function u64(text: string, i: number, halves: Float64Array): number {
  let hi = 0;
  let lo = 0;
  let j = i;
  for (; j < text.length; j++) {
    const c = text.charCodeAt(j) - 48;
    if (c < 0 || c > 9) break;
    // value * 10 + c in 32-bit halves: lo * 10 + c < 2^36 and hi * 10 + carry are exact in doubles.
    lo = lo * 10 + c;
    hi *= 10;
    if (lo >= TWO_32) {
      const carry = Math.floor(lo / TWO_32);
      lo -= carry * TWO_32;
      hi += carry;
    }
    if (hi >= TWO_32) throw new Error('a stamps read field above 2^64 - 1');
  }
  if (j === i) throw new Error('unexpected character in a stamps read');
  halves[0] = hi;
  halves[1] = lo;
  return j;
}

/** The index of the name at text[i..] up to its tab in `names`; the tab's position in end[0]. A name not asked for fails the read. */
function nameAt(text: string, i: number, names: ReadonlyMap<string, number>, end: Float64Array): number {
  const t = text.indexOf('\t', i);
  const k = t < 0 ? undefined : names.get(unescapeTsv(text.slice(i, t)));
  if (k === undefined) throw new Error('unexpected name in a stamps read');
  end[0] = t;
  return k;
}

/**
 * Adds the rows of a raw stamps read (`layout`: no GROUP BY, no function computed by clickhouse-server: each stamp row
 * as stored, the stamp tables' rows of one cell not merged yet among them) into `grid`: per cell the rows' sum and the
 * tags' sum, each mod 2^64 as sum() of the UInt64 columns gives them, kept in 32-bit halves until finishRawStamps.
 * Exact: a repair's row (repairDayStamps) takes rows back as 2^64 - k, which only the sum mod 2^64 undoes. Every
 * field is checked: a name not asked for, a field that is not a UInt64 or a row of another shape fails the read (a
 * stamp left at zeros by a row not understood could make a block look current). Exported for its unit test.
 */
export function addRawStamps(text: string, grid: StampGrid, rowsHigh: RowsHigh, layout: RawStampLayout): void {
  const D = grid.domains.size;
  const halves = new Float64Array(2);
  const end = new Float64Array(1);
  for (let i = 0; i < text.length;) {
    let p = layout.project;
    if (p < 0) {
      p = nameAt(text, i, grid.projects, end);
      i = (end[0] as number) + 1;
    }
    let d = layout.domain;
    if (d < 0) {
      d = nameAt(text, i, grid.domains, end);
      i = (end[0] as number) + 1;
    }
    i = u64(text, i, halves);
    if (halves[0] !== 0 || text.charCodeAt(i) !== 9) throw new Error('unexpected row in a stamps read');
    const time = halves[1] as number;
    i = u64(text, i + 1, halves);
    if (text.charCodeAt(i) !== 9) throw new Error('unexpected row in a stamps read');
    const rowsHi = halves[0] as number;
    const rowsLo = halves[1] as number;
    i = u64(text, i + 1, halves);
    if (i < text.length && text.charCodeAt(i) !== 10) throw new Error('unexpected row in a stamps read');
    i++;
    const span = layout.spans.find((x) => time >= x.from && time < x.to);
    const u = span === undefined ? -1 : time - span.from + span.cellBase;
    if (u < 0 || u >= grid.hours) throw new Error('a stamps read row outside the asked times');
    const cell = (p * D + d) * grid.hours + u;
    // Sums of a few halves (each below 2^32): exact in doubles; the carries are taken by finishRawStamps.
    grid.rows[cell] = (grid.rows[cell] as number) + rowsLo;
    rowsHigh[cell] = (rowsHigh[cell] as number) + rowsHi;
    grid.tagsHi[cell] = (grid.tagsHi[cell] as number) + (halves[0] as number);
    grid.tagsLo[cell] = (grid.tagsLo[cell] as number) + (halves[1] as number);
  }
}

/**
 * Folds the halves addRawStamps added up into each cell's stamp: the tags' (high, low) mod 2^64, the low halves'
 * carry into the high; the rows' 64-bit sum as a number (exact below 2^53: the rows of any stamp a block keeps).
 */
export function finishRawStamps(grid: StampGrid, rowsHigh: RowsHigh): void {
  for (let c = 0; c < grid.rows.length; c++) {
    const tl = grid.tagsLo[c] as number;
    const th = grid.tagsHi[c] as number;
    if (tl >= TWO_32 || th >= TWO_32) {
      const carry = Math.floor(tl / TWO_32);
      grid.tagsLo[c] = tl - carry * TWO_32;
      grid.tagsHi[c] = (th + carry) % TWO_32;
    }
    const rl = grid.rows[c] as number;
    const rh = rowsHigh[c] as number;
    if (rl >= TWO_32 || rh !== 0) {
      const carry = Math.floor(rl / TWO_32);
      grid.rows[c] = ((rh + carry) % TWO_32) * TWO_32 + (rl - carry * TWO_32);
    }
  }
}
