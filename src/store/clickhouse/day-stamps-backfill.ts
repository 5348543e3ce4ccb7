import type { ChConnection, ChEndpoint } from './client.js';
import { localTable, table, type SchemaNames } from './schema.js';
import { quote, quoteList } from './sql.js';

/** A stamps table of hours and its day stamps (migrations 009/015: the traffic totals'; 014/017: the audience's). */
export interface DayStampTables {
  hours: string;
  days: string;
  /**
   * A day stamps table (`hour` the day) whose sums the day stamps keep too, in (user_rows, user_tags): the audience's
   * users stamps of 014 (migration 017: the same hash, so each day's pair is its users stamp); none for the traffic.
   */
  users?: string;
}

const TRAFFIC: DayStampTables = { hours: 'traffic_stamps', days: 'traffic_day_stamps' };
export const AUDIENCE_DAY_STAMPS: DayStampTables = { hours: 'audience_stamps', days: 'audience_day_stamps', users: 'audience_users_stamps' };

const ONE_BLOCK = { min_insert_block_size_rows: '1000000000000', min_insert_block_size_bytes: '1000000000000', max_insert_block_size: '1000000000000' };

/**
 * The INSERT of the day stamps' differences from their hours' sums (see backfillDayStamps), of the days WHERE
 * `dayWhere` (hours: `hourWhere`; `hour` there is the hour, intDiv(hour, 24) its day), and with `users` (the
 * users stamps, `hour` the day, WHERE users.where) the differences of (user_rows, user_tags) from those stamps too.
 */
function differences(hours: string, days: string, hourWhere: string, dayWhere: string, users?: { table: string; where: string }): string {
  const neg = (c: string): string => `bitNot(${c}) + 1`;
  if (users === undefined) {
    return `INSERT INTO ${days} (project, domain, day, rows, tags)
    SELECT project, domain, day, sum(r) AS rows, sum(t) AS tags FROM (
      SELECT project, domain, intDiv(hour, 24) AS day, rows AS r, tags AS t FROM ${hours} WHERE ${hourWhere}
      UNION ALL
      SELECT project, domain, day, ${neg('rows')} AS r, ${neg('tags')} AS t FROM ${days} WHERE ${dayWhere}
    ) GROUP BY project, domain, day HAVING rows != 0 OR tags != 0
    ORDER BY project, domain, day`;
  }
  const zero = 'toUInt64(0)';
  return `INSERT INTO ${days} (project, domain, day, rows, tags, user_rows, user_tags)
    SELECT project, domain, day, sum(r) AS rows, sum(t) AS tags, sum(ur) AS user_rows, sum(ut) AS user_tags FROM (
      SELECT project, domain, intDiv(hour, 24) AS day, rows AS r, tags AS t, ${zero} AS ur, ${zero} AS ut FROM ${hours} WHERE ${hourWhere}
      UNION ALL
      SELECT project, domain, hour AS day, ${zero} AS r, ${zero} AS t, rows AS ur, tags AS ut FROM ${users.table} WHERE ${users.where}
      UNION ALL
      SELECT project, domain, day, ${neg('rows')} AS r, ${neg('tags')} AS t, ${neg('user_rows')} AS ur, ${neg('user_tags')} AS ut FROM ${days} WHERE ${dayWhere}
    ) GROUP BY project, domain, day HAVING rows != 0 OR tags != 0 OR user_rows != 0 OR user_tags != 0
    ORDER BY project, domain, day`;
}

/**
 * The backfill step of migration 015 (017: `tables` the audience's), on one server's local tables: each (project, domain, day) whose
 * day stamp differs from the sum of its hour stamps (a database written before 015: the hour stamps
 * only; 017: also (user_rows, user_tags) from its users stamp) gets the difference added, rows and tags each mod 2^64 (bitNot(x) + 1 is -x in UInt64), so
 * afterwards the day stamp is the sum of its hour stamps again; days already equal get nothing. It
 * runs after the view of 015 exists, so hour stamps inserted meanwhile reach the day table either by
 * the view (already in both sums, difference 0) or were there before (in the difference).
 *
 * Run again (a crash before the migration was recorded, another node starting at once), it adds only
 * what still differs; on replicas of a replicated table the same difference is the same block, which
 * ClickHouse's insert deduplication keeps once. What it cannot see: an insert whose hour stamp is read
 * by this SELECT while its day row is not yet (the view runs after the hour stamps' own write). Such a
 * day keeps a day stamp that differs from its hours' sum: its answers come by SQL (slower), never a
 * wrong day block, because a day block is used only when the two are equal (traffic-blocks.ts).
 * Returns the (project, domain, day)s corrected.
 */
export async function backfillDayStamps(server: ChEndpoint, names: SchemaNames, tables: DayStampTables = TRAFFIC): Promise<number> {
  const hours = localTable(names, tables.hours);
  const days = localTable(names, tables.days);
  const before = await server.rows(`SELECT count() AS n FROM ${days}`);
  await server.exec(differences(hours, days, '1', '1', tables.users === undefined ? undefined : { table: localTable(names, tables.users), where: '1' }),
    { settings: ONE_BLOCK });
  const after = await server.rows(`SELECT count() AS n FROM ${days}`);
  return Number(after[0]?.n ?? 0) - Number(before[0]?.n ?? 0);
}

/**
 * Sets the day stamps of `domains` x `days` (UTC day numbers) of one project back to the sums of their
 * hour stamps, as the backfill does (through the Distributed tables in cluster mode). A node calls it
 * for a day whose 24 hour blocks are all current by their hour stamps while the day stamp differs: an
 * insert whose hour and day stamps did not both land (a stamp view or a bump that failed). It never
 * makes a day block usable that the hour stamps would not: afterwards the day stamp is what summing
 * the hour stamps at read time gives (the check before migration 015); an insert landing meanwhile
 * leaves the two different again (that day read by SQL until the next repair).
 */
export async function repairDayStamps(server: ChConnection, names: SchemaNames, project: string, domains: readonly string[], days: readonly number[],
  tables: DayStampTables = TRAFFIC): Promise<void> {
  if (domains.length === 0 || days.length === 0) return;
  const dayTable = table(names, tables.days);
  const owners = `project = ${quote(project)} AND domain IN ${quoteList(domains)}`;
  await server.exec(differences(table(names, tables.hours), dayTable, `${owners} AND intDiv(hour, 24) IN ${quoteList(days)}`,
    `${owners} AND day IN ${quoteList(days)}`,
    tables.users === undefined ? undefined : { table: table(names, tables.users), where: `${owners} AND hour IN ${quoteList(days)}` }));
}

/**
 * The backfill step of migration 018, on one server's local tables: each (project, day) whose coarse stamp
 * (traffic_project_day_stamps) differs from the sum of the project's hour stamps of that day (a database
 * written before 018: the hour stamps only) gets the difference added, rows and tags each mod 2^64, as
 * backfillDayStamps does for the day stamps, and for the same reasons: it runs after 018's view exists, a
 * run again adds only what still differs, and an insert whose hour stamp this SELECT reads while its
 * coarse row is not there yet leaves that day's coarse stamp different from its domains' stamps: the node
 * then never reuses that day's fine stamps (coarse-stamps.ts: it reads them in every answer, as before 018),
 * never wrongly. Returns the (project, day)s corrected.
 */
export async function backfillProjectDayStamps(server: ChEndpoint, names: SchemaNames): Promise<number> {
  const hours = localTable(names, 'traffic_stamps');
  const coarse = localTable(names, 'traffic_project_day_stamps');
  const before = await server.rows(`SELECT count() AS n FROM ${coarse}`);
  await server.exec(`INSERT INTO ${coarse} (project, day, rows, tags)
    SELECT project, day, sum(r) AS rows, sum(t) AS tags FROM (
      SELECT project, intDiv(hour, 24) AS day, rows AS r, tags AS t FROM ${hours}
      UNION ALL
      SELECT project, day, bitNot(rows) + 1 AS r, bitNot(tags) + 1 AS t FROM ${coarse}
    ) GROUP BY project, day HAVING rows != 0 OR tags != 0
    ORDER BY project, day`, { settings: ONE_BLOCK });
  const after = await server.rows(`SELECT count() AS n FROM ${coarse}`);
  return Number(after[0]?.n ?? 0) - Number(before[0]?.n ?? 0);
}
