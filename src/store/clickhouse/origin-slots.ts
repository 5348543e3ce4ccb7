import { ORIGIN_SLOT_MS, type UpBytesRow } from '../origin.js';
import type { ChConnection } from './client.js';
import { localTable, type SchemaNames } from './schema.js';
import { quote } from './sql.js';

/**
 * The publish side's pre-aggregate and retention on ClickHouse (migration 011_origin_slots.sql):
 * input bytes per (domain, type, slot, region, isp) written beside origin_up_bytes, its backfill, and
 * the drops of old partitions of the four origin tables.
 */

const DAY_SLOTS = 288;
const DAY_MS = 86_400_000;
/** origin_sessions and origin_plays are partitioned by 30-day blocks of start_ms (006_origin.sql). */
const BLOCK_MS = 2_592_000_000;

/**
 * The per-domain rows of an intake flush's input bytes: [project, domain, type, slot, region, isp, bytes],
 * summed; a sum that would pass 2^53 - 1 (not sent exactly as a number) goes on in a second row of the
 * same key, which the table adds up.
 */
export function upDomainRows(rows: readonly UpBytesRow[]): Array<[string, string, number, number, string, string, number]> {
  const out: Array<[string, string, number, number, string, string, number]> = [];
  const sums = new Map<string, [string, string, number, number, string, string, number]>();
  for (const b of rows) {
    if (b.bytes <= 0) continue;
    const slot = Math.floor(b.slot / ORIGIN_SLOT_MS);
    const bytes = Math.max(0, Math.round(b.bytes));
    const k = JSON.stringify([b.project, b.domain, b.type, slot, b.region, b.isp]);
    const row = sums.get(k);
    if (row && row[6] <= Number.MAX_SAFE_INTEGER - bytes) {
      row[6] += bytes;
    } else {
      const next: [string, string, number, number, string, string, number] = [b.project, b.domain, b.type, slot, b.region, b.isp, bytes];
      sums.set(k, next);
      out.push(next);
    }
  }
  return out;
}

const partitionsOf = async (server: ChConnection, names: SchemaNames, name: string): Promise<number[]> => {
  const rows = await server.rows(`SELECT DISTINCT partition FROM system.parts
    WHERE database = ${quote(names.database)} AND table = ${quote(names.cluster ? `${name}_local` : name)} AND active`);
  return rows.map((r) => String(r.partition)).filter((p) => /^\d{1,10}$/.test(p)).map(Number).sort((a, b) => a - b);
};

/**
 * Migration 011's step: fills origin_up_domain from the input bytes already stored, one UTC day at a
 * time on this server's local tables (not the retry markers, type 2: origin-batch.ts). Each day's partition is dropped first, so a step cut short and
 * run again on the next start does not add a day twice.
 */
export async function backfillUpDomain(server: ChConnection, names: SchemaNames): Promise<number> {
  const target = localTable(names, 'origin_up_domain');
  const source = localTable(names, 'origin_up_bytes');
  let days = 0;
  for (const day of await partitionsOf(server, names, 'origin_up_bytes')) {
    await server.exec(`ALTER TABLE ${target} DROP PARTITION ${quote(day)}`);
    await server.exec(`INSERT INTO ${target} (project, domain, type, slot, region, isp, bytes)
      SELECT project, domain, type, slot, region, isp, sum(bytes) FROM ${source}
      WHERE intDiv(slot, ${DAY_SLOTS}) = ${quote(day)} AND type < 2 GROUP BY project, domain, type, slot, region, isp`);
    days++;
  }
  return days;
}

/**
 * Retention of the publish side without TTL (not in 18.16), as retention.ts does for the other cubes:
 * the ALTER ... DROP PARTITION statements for this server. Input-byte days (origin_up_bytes,
 * origin_up_domain) before the cutoff's UTC day go; a 30-day block of sessions or plays goes when it
 * ends at or before the cutoff and holds no session still open or ending at or after the cutoff (so a
 * long session is kept whole, as SQLite keeps a session until it ended before the cutoff).
 */
export async function originRetentionDrops(server: ChConnection, names: SchemaNames, cutoff: number): Promise<string[]> {
  const out: string[] = [];
  const cutoffDay = Math.floor(cutoff / DAY_MS);
  for (const name of ['origin_up_bytes', 'origin_up_domain']) {
    for (const p of await partitionsOf(server, names, name)) {
      if (p < cutoffDay) out.push(`ALTER TABLE ${localTable(names, name)} DROP PARTITION ${quote(p)}`);
    }
  }
  for (const name of ['origin_sessions', 'origin_plays']) {
    for (const p of await partitionsOf(server, names, name)) {
      if ((p + 1) * BLOCK_MS > cutoff) continue;
      const live = await server.rows(`SELECT count() AS n FROM (SELECT end_ms FROM ${localTable(names, name)} FINAL
        WHERE intDiv(start_ms, ${BLOCK_MS}) = ${quote(p)}) WHERE end_ms = 0 OR end_ms >= ${quote(cutoff)}`);
      if (Number(live[0]?.n ?? 0) > 0) continue;
      out.push(`ALTER TABLE ${localTable(names, name)} DROP PARTITION ${quote(p)}`);
    }
  }
  return out;
}
