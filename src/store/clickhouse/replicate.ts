import { loadMigrations } from '../migrations.js';
import type { ChEndpoint } from './client.js';
import { renderMigration, type SchemaNames } from './schema.js';
import { ident, quote } from './sql.js';

/** Suffix of an older table whose rows are being copied into the replicated one. */
export const UNREPLICATED = '_unreplicated';
/** Suffix of an older table whose rows were copied: kept as a backup for the operator to drop. */
export const COPIED = '_unreplicated_copied';

const PLAIN_ENGINE = /^(Summing|Replacing)?MergeTree$/;

/** The base names of livestats' tables and materialized views, from every migration. */
function schemaObjects(database: string): { tables: string[]; views: string[] } {
  const tables = new Set<string>();
  const views = new Set<string>();
  for (const m of loadMigrations('clickhouse')) {
    for (const stmt of renderMigration(m.sql, { database })) {
      const t = /^CREATE TABLE IF NOT EXISTS `\w+`\.`(\w+)`/.exec(stmt);
      if (t?.[1]) tables.add(t[1]);
      const v = /^CREATE MATERIALIZED VIEW IF NOT EXISTS `\w+`\.`(\w+)`/.exec(stmt);
      if (v?.[1]) views.add(v[1]);
    }
  }
  return { tables: [...tables], views: [...views] };
}

/**
 * Upgrade to the replicated layout (issue 24), on one server, in place: the tables an earlier
 * livestats made without replication (one server: NAME; cluster mode: NAME_local) become the
 * Replicated*MergeTree NAME_local tables of the replicated layout, every stored row kept exactly:
 *
 * 1. the old materialized views are dropped (they feed the rollups from the old tables by name);
 * 2. each old table is renamed NAME_unreplicated;
 * 3. every migration's statements are applied for the replicated layout (IF NOT EXISTS: the
 *    replicated tables, views and Distributed tables are made);
 * 4. each NAME_unreplicated's parts are put into NAME_local, one `REPLACE PARTITION ... FROM` per
 *    partition (hard links, no insert: the views do not run, so the rollups are copied as they
 *    are, never summed again; replication copies the parts to the other replicas), then it is
 *    renamed NAME_unreplicated_copied (a backup; drop it once satisfied).
 *
 * Every step can run again after a crash: a REPLACE of a partition gives the same result twice, and
 * a table is renamed to _copied only after all its partitions are in. Run it with the writers
 * stopped (see docs/clickhouse.md): rows written between steps 2 and 4 would be replaced.
 * Returns the tables converted on this server.
 */
export async function replicateExisting(server: ChEndpoint, names: SchemaNames): Promise<string[]> {
  if (!names.cluster || !names.replicated) return [];
  const db = names.database;
  const { tables, views } = schemaObjects(db);
  const present = new Map((await server.rows(`SELECT name, engine FROM system.tables WHERE database = ${quote(db)}`))
    .map((r) => [String(r.name), String(r.engine)]));
  const old = tables.flatMap((t) => [t, `${t}_local`].filter((n) => PLAIN_ENGINE.test(present.get(n) ?? '')).map((n) => ({ base: t, name: n })));
  const resumed = tables.filter((t) => present.has(`${t}${UNREPLICATED}`));
  if (old.length === 0 && resumed.length === 0) return [];
  const q = (name: string): string => `${ident(db)}.${ident(name)}`;
  for (const v of views) {
    for (const name of [v, `${v}_local`]) {
      if (present.get(name) === 'MaterializedView') await server.exec(`DROP TABLE IF EXISTS ${q(name)}`);
    }
  }
  for (const { base, name } of old) await server.exec(`RENAME TABLE ${q(name)} TO ${q(`${base}${UNREPLICATED}`)}`);
  for (const m of loadMigrations('clickhouse')) {
    for (const stmt of renderMigration(m.sql, names)) await server.exec(stmt);
  }
  const converted: string[] = [];
  for (const base of new Set([...old.map((o) => o.base), ...resumed])) {
    const from = `${base}${UNREPLICATED}`;
    const parts = await server.rows(`SELECT DISTINCT partition_id FROM system.parts
      WHERE database = ${quote(db)} AND table = ${quote(from)} AND active`);
    for (const p of parts) {
      await server.exec(`ALTER TABLE ${q(`${base}_local`)} REPLACE PARTITION ID ${quote(String(p.partition_id))} FROM ${q(from)}`);
    }
    await server.exec(`RENAME TABLE ${q(from)} TO ${q(`${base}${COPIED}`)}`);
    converted.push(base);
  }
  return converted;
}
