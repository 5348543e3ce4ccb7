import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ISPS, REGIONS } from '../../src/contract/values.js';
import { readHttpCodes } from '../../src/store/sqlite/reads.js';

export interface StoredCount {
  /** Requests summed from the level without region/isp. */
  total: number;
  /** The same from the per-(region, isp) level: equal to total when the levels agree. */
  byGeo: number;
}

/**
 * Requests stored per domain in a data dir's SQLite file over the last `windowMs`, read by
 * another (read-only) connection with the store's own read functions, from two levels.
 */
export function storedPerDomain(dataDir: string, project: string, domains: string[], windowMs = 3 * 3_600_000): Map<string, StoredCount> {
  const out = new Map<string, StoredCount>();
  const file = join(dataDir, 'livestats.db');
  if (!existsSync(file)) return out;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const toMinute = Math.ceil((Date.now() + 600_000) / 60_000) * 60_000;
    const fromMinute = toMinute - Math.ceil(windowMs / 60_000) * 60_000;
    const sum = (r: { counts: Float64Array }): number => r.counts.reduce((a, b) => a + b, 0);
    for (const domain of domains) {
      const base = { project, domains: [domain], fromMinute, toMinute };
      const total = sum(readHttpCodes(db, { ...base, regions: [], isps: [] }));
      const byGeo = sum(readHttpCodes(db, { ...base, regions: [...REGIONS], isps: [...ISPS] }));
      out.set(domain, { total, byGeo });
    }
  } catch (err) {
    if (!/no such table/.test((err as Error).message)) throw err;
  } finally {
    db.close();
  }
  return out;
}
