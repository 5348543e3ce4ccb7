import { ISPS, REGIONS } from '../../contract/values.js';

/**
 * The cells of one (project, domain, hour) of the request counts at every rollup level, as a node
 * keeps them in memory (hour-blocks.ts). Built from the detail rows in a worker thread
 * (hour-block-worker.ts); pure, so the build is tested without one.
 *
 * A level's cells are sorted by group and each group's cells are `offsets[g] .. offsets[g + 1]`:
 * one group at the `all` level; at `region` the region's 1-based index in REGIONS (0: a value not
 * listed there); at `isp` likewise in ISPS; at `detail` region index x (ISPS.length + 1) + isp index.
 */
export interface LevelCells {
  offsets: Int32Array;
  /** Minute within the hour (0-59). */
  minute: Uint8Array;
  code: Uint16Array;
  count: Float64Array;
}

export type LevelName = 'all' | 'region' | 'isp' | 'detail';

export type HourCells = Record<LevelName, LevelCells>;

export const ISP_GROUPS = ISPS.length + 1;
const GROUPS: Record<LevelName, number> = { all: 1, region: REGIONS.length + 1, isp: ISP_GROUPS, detail: (REGIONS.length + 1) * ISP_GROUPS };

/** Detail rows of one hour: parallel arrays (region/isp as 1-based indexes, 0 = not listed). */
export interface DetailRows {
  n: number;
  minute: Uint8Array;
  region: Uint8Array;
  isp: Uint8Array;
  code: Uint16Array;
  count: Float64Array;
}

const groupOf = (level: LevelName, region: number, isp: number): number =>
  level === 'all' ? 0 : level === 'region' ? region : level === 'isp' ? isp : region * ISP_GROUPS + isp;

/** Sums the rows into one level: one cell per (group, minute, code), groups in order, cells by minute then code. */
function level(rows: DetailRows, name: LevelName): LevelCells {
  const sums = new Map<number, number>();
  for (let i = 0; i < rows.n; i++) {
    const g = groupOf(name, rows.region[i] as number, rows.isp[i] as number);
    const key = (g * 60 + (rows.minute[i] as number)) * 65_536 + (rows.code[i] as number);
    sums.set(key, (sums.get(key) ?? 0) + (rows.count[i] as number));
  }
  const keys = [...sums.keys()].sort((a, b) => a - b);
  const out: LevelCells = {
    offsets: new Int32Array(GROUPS[name] + 1), minute: new Uint8Array(keys.length), code: new Uint16Array(keys.length), count: new Float64Array(keys.length),
  };
  keys.forEach((k, i) => {
    const code = k % 65_536;
    const gm = (k - code) / 65_536;
    const m = gm % 60;
    const g = (gm - m) / 60;
    out.minute[i] = m;
    out.code[i] = code;
    out.count[i] = sums.get(k) as number;
    (out.offsets as Int32Array)[g + 1] = ((out.offsets[g + 1] as number) + 1);
  });
  for (let g = 1; g < out.offsets.length; g++) out.offsets[g] = (out.offsets[g] as number) + (out.offsets[g - 1] as number);
  return out;
}

export function buildHourCells(rows: DetailRows): HourCells {
  return { all: level(rows, 'all'), region: level(rows, 'region'), isp: level(rows, 'isp'), detail: level(rows, 'detail') };
}

export function hourCellsBytes(c: HourCells): number {
  let n = 0;
  for (const l of Object.values(c)) n += l.offsets.byteLength + l.minute.byteLength + l.code.byteLength + l.count.byteLength;
  return n;
}

/**
 * Parses the build query's TabSeparated rows `domain-index TAB hour TAB minute TAB region-index TAB
 * isp-index TAB code TAB count` (numbers only) into the rows of each (domain index, hour).
 */
export function parseBuildRows(text: string): Map<string, DetailRows> {
  const cols: number[][] = [[], [], [], [], [], [], []];
  let at = 0;
  while (at < text.length) {
    let nl = text.indexOf('\n', at);
    if (nl < 0) nl = text.length;
    let c = 0;
    let start = at;
    for (let i = at; i <= nl; i++) {
      if (i === nl || text.charCodeAt(i) === 9) {
        const v = Number(text.slice(start, i));
        if (c > 6 || !Number.isFinite(v)) throw new Error('ClickHouse returned a malformed hour-block row');
        (cols[c] as number[]).push(v);
        c++;
        start = i + 1;
      }
    }
    if (c !== 7) throw new Error('ClickHouse returned a malformed hour-block row');
    at = nl + 1;
  }
  const [di, h, m, ri, ii, code, count] = cols as [number[], number[], number[], number[], number[], number[], number[]];
  const index = new Map<string, number[]>();
  for (let i = 0; i < di.length; i++) {
    const k = `${di[i]}:${h[i]}`;
    let list = index.get(k);
    if (!list) index.set(k, (list = []));
    list.push(i);
  }
  const out = new Map<string, DetailRows>();
  for (const [k, list] of index) {
    const r: DetailRows = {
      n: list.length, minute: new Uint8Array(list.length), region: new Uint8Array(list.length), isp: new Uint8Array(list.length),
      code: new Uint16Array(list.length), count: new Float64Array(list.length),
    };
    list.forEach((i, j) => {
      r.minute[j] = m[i] as number;
      r.region[j] = ri[i] as number;
      r.isp[j] = ii[i] as number;
      r.code[j] = code[i] as number;
      r.count[j] = count[i] as number;
    });
    out.set(k, r);
  }
  return out;
}
