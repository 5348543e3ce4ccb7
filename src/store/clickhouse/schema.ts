import { loadMigrations } from '../migrations.js';
import type { ChEndpoint } from './client.js';
import { backfillRollups } from './rollups.js';
import { backfillUpDomain } from './origin-slots.js';
import { AUDIENCE_DAY_STAMPS, backfillDayStamps, backfillProjectDayStamps } from './day-stamps-backfill.js';
import { ident, quote } from './sql.js';

export interface SchemaNames {
  database: string;
  /** Cluster name from remote_servers, or undefined for one server. */
  cluster?: string;
  /**
   * Replicated layout (cluster mode only): every table is a Replicated*MergeTree kept in ZooKeeper
   * under /clickhouse/tables/{shard}/DB/TABLE, replica {replica} (the servers' macros).
   */
  replicated?: boolean;
}

/** The ZooKeeper path of a replicated table (ClickHouse substitutes the {shard} macro). */
export const zooKeeperPath = (database: string, localName: string): string => `/clickhouse/tables/{shard}/${database}/${localName}`;

const ENGINE = /ENGINE = (Summing|Replacing)?MergeTree\(/g;

/**
 * `ENGINE = XMergeTree(args)` of a CREATE TABLE as `ReplicatedXMergeTree('path', '{replica}', args)`.
 * The path names the database and the table (both ident()-checked names, quoted by quote()).
 */
export function replicatedEngine(stmt: string, database: string): string {
  const created = /^CREATE TABLE IF NOT EXISTS `?\w+`?\.`?(\w+)`?/.exec(stmt);
  if (!created) return stmt;
  const localName = created[1] ?? '';
  // A bare `ENGINE = ReplacingMergeTree` (no parameters, as 005_audience.sql writes it) is the same engine with ().
  return stmt.replace(/ENGINE = (Summing|Replacing)?MergeTree(?!\()/g, (_m, kind: string | undefined) => `ENGINE = ${kind ?? ''}MergeTree()`)
    .replace(ENGINE, (_m, kind: string | undefined) =>
    `ENGINE = Replicated${kind ?? ''}MergeTree(${quote(zooKeeperPath(ident(database).slice(1, -1), ident(localName).slice(1, -1)))}, '{replica}', `)
    .replace(/'\{replica\}', \)/g, "'{replica}')");
}

/** The table holding NAME's rows on one server: NAME, or NAME_local in cluster mode. */
export const localTable = (names: SchemaNames, name: string): string =>
  `${ident(names.database)}.${ident(names.cluster ? `${name}_local` : name)}`;

/** The table to read and write NAME through: NAME (the Distributed one in cluster mode). */
export const table = (names: SchemaNames, name: string): string => `${ident(names.database)}.${ident(name)}`;

const DISTRIBUTE = /^\{distribute:(\w+) BY ([\w(), ]+)\}$/;

/**
 * Turns one migration file into the statements for this server. Statements are separated
 * by lines holding only ";". Only {db}, {t:NAME} and {distribute:NAME BY expr} are
 * substituted, all through ident().
 */
export function renderMigration(sql: string, names: SchemaNames): string[] {
  const text = sql.split('\n').filter((l) => !l.trim().startsWith('--')).join('\n');
  const out: string[] = [];
  for (const raw of text.split(/^\s*;\s*$/m)) {
    const stmt = raw.trim();
    if (stmt === '') continue;
    const d = DISTRIBUTE.exec(stmt);
    if (d) {
      const [, name = '', key = ''] = d;
      if (!names.cluster) continue;
      out.push(
        `CREATE TABLE IF NOT EXISTS ${table(names, name)} AS ${localTable(names, name)} ` +
          `ENGINE = Distributed(${ident(names.cluster)}, ${ident(names.database)}, ${ident(`${name}_local`)}, ${key})`,
      );
      continue;
    }
    out.push(
      stmt
        .replace(/\{db\}/g, () => ident(names.database))
        .replace(/\{t:(\w+)\}/g, (_m, name: string) => ident(names.cluster ? `${name}_local` : name)),
    );
  }
  if (out.some((s) => /\{[a-z]+[:}]/.test(s))) throw new Error('unknown placeholder in ClickHouse migration');
  return names.cluster && names.replicated ? out.map((s) => replicatedEngine(s, names.database)) : out;
}

/** Steps a migration runs after its statements, before it is recorded (so a cut-short step runs again). */
const AFTER: Record<string, (server: ChEndpoint, names: SchemaNames) => Promise<unknown>> = {
  counts_rollups: backfillRollups,
  // A function, not the binding: origin-slots.ts imports this module too.
  origin_slots: (server, names) => backfillUpDomain(server, names),
  traffic_day_stamps: (server, names) => backfillDayStamps(server, names),
  audience_day_stamps: (server, names) => backfillDayStamps(server, names, AUDIENCE_DAY_STAMPS),
  traffic_project_day_stamps: (server, names) => backfillProjectDayStamps(server, names),
};

/**
 * Creates the database and applies every migration this server has not recorded.
 * Safe on every start and from several nodes at once: each statement is IF NOT EXISTS,
 * and the record is only a short cut.
 */
export async function migrateClickHouse(server: ChEndpoint, names: SchemaNames): Promise<number[]> {
  const db = ident(names.database);
  await server.exec(`CREATE DATABASE IF NOT EXISTS ${db}`);
  await server.exec(
    `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations (version UInt32, name String, applied_at UInt64) ` +
      'ENGINE = ReplacingMergeTree ORDER BY version',
  );
  // A migration counts as applied by its version AND name: two branches once both numbered a
  // migration 2 (traffic, counts_bytes), so a database made by either has a version 2 that may
  // be the other one. Its statements are all IF NOT EXISTS, so running it again is harmless.
  const applied = new Set(
    (await server.rows(`SELECT DISTINCT version, name FROM ${db}.schema_migrations`)).map((r) => `${Number(r.version)} ${String(r.name)}`),
  );
  const done: number[] = [];
  for (const m of loadMigrations('clickhouse')) {
    if (applied.has(`${m.version} ${m.name}`)) continue;
    for (const stmt of renderMigration(m.sql, names)) await server.exec(stmt);
    await AFTER[m.name]?.(server, names);
    await server.exec(
      `INSERT INTO ${db}.schema_migrations (version, name, applied_at) VALUES (${quote(m.version)}, ${quote(m.name)}, ${quote(Date.now())})`,
    );
    done.push(m.version);
  }
  return done;
}
