import type { ChEndpoint } from './client.js';
import { localTable, type SchemaNames } from './schema.js';
import { quote } from './sql.js';

const DAY_MS = 86_400_000;

/** Tables partitioned by UTC day number (see the migrations). */
export const DAY_PARTITIONED = [
  'http_counts', 'http_counts_bytes', 'http_counts_all', 'http_counts_region', 'http_counts_isp', 'carousel_samples',
  'stream_quality', 'http_counts_stamps', 'carousel_stamps',
] as const;
/** The traffic cube's tables, also by UTC day number, with their own (longer) retention. */
export const TRAFFIC_DAY_PARTITIONED = ['traffic_streams', 'traffic_domains', 'traffic_stamps', 'traffic_stream_stamps', 'traffic_day_stamps',
  'traffic_project_day_stamps'] as const;

/**
 * Retention without TTL (not in 18.16): the ALTER ... DROP PARTITION statements that remove
 * every day partition on this server that ends at or before the cutoff's UTC day.
 */
export async function retentionDrops(
  server: ChEndpoint, names: SchemaNames, cutoff: number, tables: readonly string[] = DAY_PARTITIONED,
): Promise<string[]> {
  const cutoffDay = Math.floor(cutoff / DAY_MS);
  const out: string[] = [];
  for (const name of tables) {
    const local = names.cluster ? `${name}_local` : name;
    const rows = await server.rows(`SELECT DISTINCT partition FROM system.parts
      WHERE database = ${quote(names.database)} AND table = ${quote(local)} AND active`);
    for (const r of rows) {
      const p = String(r.partition);
      if (!/^\d{1,10}$/.test(p) || Number(p) >= cutoffDay) continue;
      out.push(`ALTER TABLE ${localTable(names, name)} DROP PARTITION ${quote(Number(p))}`);
    }
  }
  return out;
}
