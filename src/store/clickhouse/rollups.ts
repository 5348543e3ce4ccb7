import type { HttpCodesFilter } from '../types.js';
import type { ChEndpoint } from './client.js';
import type { CountChunk, CountGroup } from './batch.js';
import { localTable, type SchemaNames } from './schema.js';
import { cellValue } from '../cell-values.js';
import { quote } from './sql.js';

/**
 * The rollup levels of the request counts (migrations/004_counts_rollups.sql): tables without
 * region and/or isp, filled by materialized views on the detail tables. Each filter reads one
 * level: region and isp -> detail, region only -> `http_counts_region`, isp only ->
 * `http_counts_isp`, neither -> `http_counts_all` (what the SQLite store's levels do too).
 */

export type Dim = 'region' | 'isp';

export interface Level {
  table: 'http_counts_all' | 'http_counts_region' | 'http_counts_isp';
  dims: readonly Dim[];
}

export const LEVELS: readonly Level[] = [
  { table: 'http_counts_all', dims: [] },
  { table: 'http_counts_region', dims: ['region'] },
  { table: 'http_counts_isp', dims: ['isp'] },
];

/** The rollup level a filter reads, or undefined for the detail tables (both region and isp filtered). */
export function levelFor(f: Pick<HttpCodesFilter, 'regions' | 'isps'>): Level | undefined {
  const region = f.regions.length > 0;
  const isp = f.isps.length > 0;
  if (region && isp) return undefined;
  return LEVELS.find((l) => l.dims.length === (region || isp ? 1 : 0) && (!region || l.dims.includes('region')) && (!isp || l.dims.includes('isp')));
}

const MIN = 60_000;

const u64 = cellValue;

/**
 * INSERT into one rollup of the given groups of a chunk: their rows summed as the level's view
 * sums them, plus one marker row each. Used when the detail rows of a group landed but the view
 * into this level did not (see ClickHouseStore.writeCounts).
 */
export function levelInsert(table: string, level: Level, chunk: CountChunk, groups: readonly CountGroup[]): string {
  const values: string[] = [];
  const dimCols = level.dims.join(', ');
  for (const g of groups) {
    const sums = new Map<string, { dims: string[]; minute: number; code: number; count: number; bytes: number }>();
    for (const r of g.rows) {
      const dims = level.dims.map((d) => r[d] as string);
      const minute = Math.floor(r.minute / MIN);
      const k = `${dims.join('\u0000')}\u0000${minute}\u0000${r.code}`;
      const e = sums.get(k);
      if (e) {
        e.count += r.count;
        e.bytes += u64(r.bytes ?? 0);
      } else {
        sums.set(k, { dims, minute, code: r.code, count: r.count, bytes: u64(r.bytes ?? 0) });
      }
    }
    for (const s of sums.values()) {
      values.push('(' + [g.project, g.domain, ...s.dims, s.minute, s.code, '', u64(s.count), 0, u64(s.bytes)].map(quote).join(', ') + ')');
    }
    values.push('(' + [g.project, g.domain, ...level.dims.map(() => ''), g.markerMinute, 0, chunk.tag, 0, 1, 0].map(quote).join(', ') + ')');
  }
  const cols = ['project', 'domain', ...(dimCols ? [dimCols] : []), 'minute', 'code', 'batch', 'count', 'markers', 'bytes'].join(', ');
  return `INSERT INTO ${table} (${cols}) VALUES ${values.join(', ')}`;
}

/** The batch tag of the marker row a backfilled day carries in each rollup (project and domain ''). */
export const BACKFILL_TAG = 'backfill:004';

const DAY_MINUTES = 1440;

/**
 * SETTINGS that make one INSERT ... SELECT a single block, hence one part per partition: a
 * backfilled day and its marker row are committed together or not at all.
 */
const ONE_BLOCK = { min_insert_block_size_rows: '1000000000000', min_insert_block_size_bytes: '1000000000000', max_insert_block_size: '1000000000000' };

/**
 * The backfill step of migration 004, on one server's local tables: every UTC day of the detail
 * tables whose marker is not yet in a rollup is summed into it, in one part with its marker. So a
 * backfill cut short (a crash, a timeout) is finished by the next start, and a day is never copied
 * twice by the same server. It copies what the detail tables hold when it runs: counts another
 * node writes into a day while that day is copied can be counted twice in the rollups (the views
 * add them too), so upgrade with the other writers stopped (docs/storage.md).
 */
export async function backfillRollups(server: ChEndpoint, names: SchemaNames): Promise<number> {
  const detail = ['http_counts', 'http_counts_bytes'].map((n) => localTable(names, n));
  const local = names.cluster ? (n: string): string => `${n}_local` : (n: string): string => n;
  const days = new Set<number>();
  for (const n of ['http_counts', 'http_counts_bytes']) {
    const rows = await server.rows(`SELECT DISTINCT partition FROM system.parts
      WHERE database = ${quote(names.database)} AND table = ${quote(local(n))} AND active`);
    for (const r of rows) if (/^\d{1,10}$/.test(String(r.partition))) days.add(Number(r.partition));
  }
  let copied = 0;
  for (const level of LEVELS) {
    const target = localTable(names, level.table);
    const done = new Set((await server.rows(`SELECT DISTINCT intDiv(minute, ${DAY_MINUTES}) AS d FROM ${target}
      WHERE project = '' AND domain = '' AND batch = ${quote(BACKFILL_TAG)} AND markers > 0`)).map((r) => Number(r.d)));
    const keys = ['project', 'domain', ...level.dims, 'minute', 'code'].join(', ');
    for (const day of [...days].sort((a, b) => a - b)) {
      if (done.has(day)) continue;
      const inDay = `intDiv(minute, ${DAY_MINUTES}) = ${quote(day)} AND code > 0`;
      const marker = ['\'\' AS project', '\'\' AS domain', ...level.dims.map((d) => `'' AS ${d}`),
        `toUInt32(${quote(day * DAY_MINUTES)}) AS minute`, 'toUInt16(0) AS code', `${quote(BACKFILL_TAG)} AS batch`,
        'toUInt64(0) AS count', 'toUInt64(1) AS markers', 'toUInt64(0) AS bytes'].join(', ');
      await server.exec(`INSERT INTO ${target} (${keys}, batch, count, markers, bytes)
        SELECT ${keys}, '' AS batch, sum(count) AS count, toUInt64(0) AS markers, sum(bytes) AS bytes FROM (
          SELECT ${keys}, count, toUInt64(0) AS bytes FROM ${detail[0]} WHERE ${inDay}
          UNION ALL
          SELECT ${keys}, count, bytes FROM ${detail[1]} WHERE ${inDay}
        ) GROUP BY ${keys}
        UNION ALL SELECT ${marker}`, { settings: ONE_BLOCK });
      copied++;
    }
  }
  return copied;
}
