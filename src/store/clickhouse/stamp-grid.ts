import type { ChConnection } from './client.js';
import { quote, quoteList } from './sql.js';
import { SharedReads } from './stamp-reads.js';

const array = (values: readonly string[]): string => `[${values.map((v) => quote(v)).join(', ')}]`;

/**
 * Hour stamps (rows, tags) of a stamps table (migrations 008, 009) as numbers in typed arrays, for
 * the blocks that check thousands of (domain, hour)s per answer (traffic-blocks.ts: 7 d x 100 domains
 * is 16,800): read as TabSeparated numbers (no JSON, no object or string per row), the project and
 * domain sent as their index in the asked lists. The 64-bit sum of tags is split into two 32-bit
 * halves, so every stamp is kept exactly in doubles. A (project, domain, hour) no insert reached
 * reads (0, 0, 0), as the string stamps' EMPTY_STAMP.
 */
export interface StampGrid {
  /** Index of each project / domain of the read. */
  readonly projects: ReadonlyMap<string, number>;
  readonly domains: ReadonlyMap<string, number>;
  /** First hour and number of hours of the read. */
  readonly from: number;
  readonly hours: number;
  /** By cell (gridCell): sum(rows), sum(tags) div 2^32, sum(tags) mod 2^32. */
  readonly rows: Float64Array;
  readonly tagsHi: Float64Array;
  readonly tagsLo: Float64Array;
}

/** The cell of (project, domain) at `from` in a grid (add hour - grid.from), or -1 when the grid does not cover them. */
export function gridBase(g: StampGrid, project: string, domain: string, from: number): number {
  const p = g.projects.get(project);
  const d = g.domains.get(domain);
  if (p === undefined || d === undefined || from < g.from) return -1;
  return (p * g.domains.size + d) * g.hours + (from - g.from);
}

/** The three numbers of an hour stamp, as kept beside a block. */
export interface NumericStamp {
  stampRows: number;
  stampHi: number;
  stampLo: number;
}

/** Whether a block's stamp is the grid's at `cell` (a cell outside the grid never is). */
export function sameStamp(b: NumericStamp, g: StampGrid, cell: number): boolean {
  return cell >= 0 && b.stampRows === g.rows[cell] && b.stampHi === g.tagsHi[cell] && b.stampLo === g.tagsLo[cell];
}

/** The stamp of `cell` (zeros outside the grid). */
export function stampAt(g: StampGrid, cell: number): NumericStamp {
  return cell < 0 ? { stampRows: 0, stampHi: 0, stampLo: 0 }
    : { stampRows: g.rows[cell] as number, stampHi: g.tagsHi[cell] as number, stampLo: g.tagsLo[cell] as number };
}

/** Reads the stamps of `projects` x `domains` x hours [from, to) now (a build's own read; queries share theirs through GridStampReads). */
export async function readStampGrid(server: ChConnection, stampsTable: string, projects: readonly string[], domains: readonly string[],
  from: number, to: number, signal?: AbortSignal): Promise<StampGrid> {
  const text = await server.tsv(`SELECT indexOf(${array(projects)}, project) AS p, indexOf(${array(domains)}, domain) AS d, hour,
      sum(rows) AS r, intDiv(sum(tags), 4294967296) AS th, sum(tags) % 4294967296 AS tl FROM ${stampsTable}
    WHERE project IN ${quoteList(projects)} AND domain IN ${quoteList(domains)} AND hour >= ${quote(from)} AND hour < ${quote(to)}
    GROUP BY project, domain, hour`, signal);
  return parseStampGrid(text, projects, domains, from, to);
}

/** Parses the TabSeparated rows of readStampGrid (p, d 1-based; hour; rows; tags hi; tags lo). Exported for its unit test. */
export function parseStampGrid(text: string, projects: readonly string[], domains: readonly string[], from: number, to: number): StampGrid {
  const hours = Math.max(0, to - from);
  const size = projects.length * domains.length * hours;
  const g: StampGrid = {
    projects: new Map(projects.map((p, i) => [p, i])), domains: new Map(domains.map((d, i) => [d, i])), from, hours,
    rows: new Float64Array(size), tagsHi: new Float64Array(size), tagsLo: new Float64Array(size),
  };
  const v = [0, 0, 0, 0, 0, 0];
  let col = 0;
  let n = 0;
  const D = domains.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      n = n * 10 + (c - 48);
    } else if (c === 9) {
      v[col++] = n;
      n = 0;
    } else if (c === 10) {
      v[col] = n;
      n = 0;
      col = 0;
      const p = (v[0] as number) - 1;
      const d = (v[1] as number) - 1;
      const h = (v[2] as number) - from;
      if (p < 0 || d < 0 || h < 0 || h >= hours) continue;
      const cell = (p * D + d) * hours + h;
      g.rows[cell] = v[3] as number;
      g.tagsHi[cell] = v[4] as number;
      g.tagsLo[cell] = v[5] as number;
    } else {
      throw new Error('unexpected character in a stamps read');
    }
  }
  return g;
}

/**
 * The stamps reads of the queries of one node, shared as StampReads shares them (SharedReads,
 * stamp-reads.ts: exact while other nodes write), as a StampGrid.
 */
export class GridStampReads extends SharedReads<StampGrid> {
  constructor(server: ChConnection, table: string) {
    super((projects, domains, from, to) => readStampGrid(server, table, projects, domains, from, to));
  }
}
