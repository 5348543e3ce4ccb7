import type Database from 'better-sqlite3';
import { loadMigrations } from '../migrations.js';
import { migrateToBlocks } from './migrate-v2.js';
import { migrateBlockKeys } from './migrate-v4.js';
import { createTrafficTables } from './traffic-writes.js';
import { migrateTrafficTotals } from './traffic-totals.js';
import { migrateSeriesReuse } from './series-ids.js';
import { createOriginTables } from './origin.js';
import { createOriginSlotTables } from './origin-slots.js';
import { createOriginEndIndex } from './origin-pages.js';
import { createQualityTables } from './stream-quality.js';
import { createAudienceTables } from './audience-writes.js';
import { migrateAudienceSets } from './audience-sets.js';
import { reblockAudience } from './audience-reblock.js';
import { migrateAudienceSessions } from './audience-sessions-migration.js';
import { migrateAudienceKeyLevel } from './audience-key-migration.js';
import { migrateDomainMinutes, migrateDomainSums } from './audience-sums.js';
import { buildDayPeaks } from './audience-day-minutes.js';

interface SqliteMigration {
  version: number;
  name: string;
  up: (db: Database.Database) => void;
}

/** SQL migrations from src/store/sqlite/migrations plus the ones that need code (data conversion). */
function sqliteMigrations(): SqliteMigration[] {
  const all: SqliteMigration[] = loadMigrations('sqlite').map((m) => ({ version: m.version, name: m.name, up: (db) => db.exec(m.sql) }));
  all.push({ version: 2, name: 'blocks', up: migrateToBlocks });
  all.push({ version: 3, name: 'traffic', up: createTrafficTables });
  // Released after 3 (traffic): a file created by an earlier livestats at version 3 gets its
  // block tables, the traffic cubes' included, rekeyed here.
  all.push({ version: 4, name: 'block keys', up: migrateBlockKeys });
  all.push({ version: 5, name: 'traffic totals', up: migrateTrafficTotals });
  all.push({ version: 6, name: 'series id reuse', up: migrateSeriesReuse });
  all.push({ version: 8, name: 'origin', up: createOriginTables });
  all.push({ version: 7, name: 'audience', up: createAudienceTables });
  all.push({ version: 9, name: 'stream quality', up: createQualityTables });
  all.push({ version: 10, name: 'audience ip sets', up: (db) => { migrateAudienceSets(db); reblockAudience(db); } });
  all.push({ version: 11, name: 'origin slots', up: createOriginSlotTables });
  all.push({ version: 12, name: 'audience sessions as opens and closes', up: migrateAudienceSessions });
  all.push({ version: 13, name: 'origin sessions by end', up: createOriginEndIndex });
  all.push({ version: 14, name: 'audience stream cells keyed by province and carrier', up: migrateAudienceKeyLevel });
  all.push({ version: 16, name: 'audience domain block sums', up: migrateDomainSums });
  all.push({ version: 17, name: 'audience domain minute viewers', up: migrateDomainMinutes });
  // The per-stream key level gains delta rows (src/store/blocks/delta-write.ts). Nothing to convert:
  // a file without deltas is read the same; the version keeps an older livestats (which would not
  // read the deltas) from opening a file written since.
  all.push({ version: 18, name: 'audience stream key level deltas', up: () => undefined });
  all.push({ version: 19, name: 'audience domain 5-minute viewer peaks', up: buildDayPeaks });
  all.sort((a, b) => a.version - b.version);
  for (let i = 1; i < all.length; i++) {
    if (all[i]?.version === all[i - 1]?.version) throw new Error(`duplicate sqlite migration version ${all[i]?.version}`);
  }
  return all;
}

export const SQLITE_SCHEMA_VERSION = 19;

/** Every migration version this livestats knows, ascending (tests compare a migrated file's list with it). */
export function sqliteMigrationVersions(): number[] {
  return sqliteMigrations().map((m) => m.version);
}

export class MigrationError extends Error {}

/**
 * Applies every migration not yet recorded in schema_migrations, each in its own transaction:
 * one that fails is rolled back whole, leaving the file at the previous version, and reported.
 */
export function migrateSqlite(db: Database.Database): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const applied = new Set(
    db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[],
  );
  const newest = Math.max(0, ...applied);
  if (newest > SQLITE_SCHEMA_VERSION) {
    throw new MigrationError(`the database is at schema version ${newest}; this livestats knows up to ${SQLITE_SCHEMA_VERSION} (upgrade livestats)`);
  }
  const done: number[] = [];
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const isApplied = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').pluck();
  for (const m of sqliteMigrations()) {
    if (applied.has(m.version)) continue;
    const at = Math.max(0, ...applied, ...done);
    let ran = false;
    try {
      // IMMEDIATE: the write lock first (waiting out busy_timeout), then the check, so processes
      // starting on one new file at once apply each migration once (the others find it applied).
      db.transaction(() => {
        if (isApplied.get(m.version) !== undefined) return;
        m.up(db);
        record.run(m.version, m.name, Date.now());
        ran = true;
      }).immediate();
    } catch (err) {
      throw new MigrationError(
        `schema migration ${m.version} (${m.name}) failed and was rolled back; the database is unchanged at version ${at}: ${(err as Error).message}`,
      );
    }
    if (ran) done.push(m.version);
  }
  return done;
}
