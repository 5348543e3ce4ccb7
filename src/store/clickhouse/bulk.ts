import { ISPS, REGIONS } from '../../contract/values.js';
import { quote } from './sql.js';

/**
 * The bulk path of the ClickHouse store (benchmark datasets, tools), the counterpart of
 * SqliteStore.bulkHour / bulkSamples: column arrays become the VALUES text of one large INSERT.
 * Every literal comes from quote(); the strings that repeat (project, domain, region, isp, task)
 * are quoted once per call. No write markers: a bulk load is not retry-safe (load into a fresh
 * database, and load again from scratch if it fails). The rollup levels are filled by the detail
 * table's views as for any insert.
 */

export interface BulkCounts {
  count: number;
  /** Epoch minutes. */
  slot: ArrayLike<number>;
  /** Region and isp indexes into REGIONS and ISPS. */
  dims: readonly [ArrayLike<number>, ArrayLike<number>];
  /** Status code. */
  key: ArrayLike<number>;
  /** Requests and bytes sent. */
  measures: readonly [ArrayLike<number>, ArrayLike<number>];
}

export const BULK_COUNTS_COLUMNS = '(project, domain, minute, region, isp, code, batch, count, markers, bytes)';
export const BULK_SAMPLES_COLUMNS = '(project, task_id, second, version, video_fps, video_kbps, audio_fps, audio_kbps)';

const REGION_LIT = REGIONS.map((r) => quote(r));
const ISP_LIT = ISPS.map((i) => quote(i));

const lit = (n: number): string => quote(Math.max(0, Math.round(n)));

/** VALUES rows (comma-joined, no leading comma) of one (project, domain)'s cells, for BULK_COUNTS_COLUMNS. */
export function bulkCountsValues(project: string, domain: string, cells: BulkCounts): string {
  const head = `(${quote(project)}, ${quote(domain)}, `;
  const [region, isp] = cells.dims;
  const [requests, bytes] = cells.measures;
  const out: string[] = new Array<string>(cells.count);
  for (let i = 0; i < cells.count; i++) {
    const r = REGION_LIT[region[i] as number];
    const p = ISP_LIT[isp[i] as number];
    if (r === undefined || p === undefined) throw new RangeError(`bulk cell ${i}: region/isp index out of range`);
    out[i] = `${head}${lit(cells.slot[i] as number)}, ${r}, ${p}, ${lit(cells.key[i] as number)}, '', ${lit(requests[i] as number)}, 0, ${lit(bytes[i] as number)})`;
  }
  return out.join(', ');
}

/** VALUES rows of one task's samples from `firstSecond` (epoch s): `values[4 i + m]` where present[i]. */
export function bulkSamplesValues(project: string, taskId: string, firstSecond: number, present: Uint8Array, values: Float64Array, version: number): string {
  const head = `(${quote(project)}, ${quote(taskId)}, `;
  const v = quote(version);
  const out: string[] = [];
  for (let i = 0; i < present.length; i++) {
    if (present[i] === 0) continue;
    out.push(`${head}${quote(firstSecond + i)}, ${v}, ${lit(values[i * 4] as number)}, ${lit(values[i * 4 + 1] as number)}, ` +
      `${lit(values[i * 4 + 2] as number)}, ${lit(values[i * 4 + 3] as number)})`);
  }
  return out.join(', ');
}
