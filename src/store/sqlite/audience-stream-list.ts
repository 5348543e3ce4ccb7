import type Database from 'better-sqlite3';
import { cachedStatement } from '../blocks/table.js';
import { AUDIENCE_STREAMS } from './audience-layout.js';

/** A stream series of a domain: (series id, app, stream). */
export type DomainStream = [number, string, string];

/**
 * Every stream series of a domain as (id, app, stream), read by one range on the series key's
 * index: SQLite cuts the known (project, domain) off each key (a byte offset: the prefix's UTF-8
 * length), so the one JSON text parsed holds `[id,app,stream]` per stream instead of the whole tuple.
 */
function readDomainStreams(db: Database.Database, project: string, domain: string): DomainStream[] {
  const prefix = JSON.stringify([project, domain]).slice(0, -1) + ',';
  const text = cachedStatement(db, `SELECT '[' || group_concat('[' || id || ',' || substr(CAST(key AS BLOB), ?)) || ']' FROM ${AUDIENCE_STREAMS.seriesTable} WHERE key >= ? AND key < ?`)
    .pluck().get(Buffer.byteLength(prefix) + 1, `${prefix}"`, `${prefix}#`) as string | null;
  if (text === null) return [];
  return (JSON.parse(text) as unknown[][]).filter((t): t is DomainStream => t.length === 3);
}

/** Domains whose stream lists a connection keeps at most (a list is ~100 streams; more domains: the lists are dropped and read again). */
const MAX_DOMAINS = 1_000;

interface Kept {
  /** The highest stream series id when the lists were read. */
  highest: number;
  lists: Map<string, readonly DomainStream[]>;
}

const kept = new WeakMap<Database.Database, Kept>();

/**
 * The stream lists of domains (readDomainStreams), each kept per connection and used again while the
 * per-stream cube's highest series id is unchanged. Exact: the cube's series rows are only ever added,
 * never deleted, renamed or given another id (ids are the highest + 1, series-ids.ts; retention deletes
 * blocks, not series of the audience cubes), so an unchanged highest id means no series was added since
 * the lists were read, and every list read is still the whole of its domain. The highest id is read before
 * the lists: a series committed between the two reads makes the next call read them again.
 * One point lookup per call (the highest id of an INTEGER PRIMARY KEY) instead of a range read, a
 * string of every key and a JSON parse per domain.
 */
export function domainStreamLists(db: Database.Database, project: string, domains: readonly string[]): Array<readonly DomainStream[]> {
  const highest = (cachedStatement(db, `SELECT max(id) FROM ${AUDIENCE_STREAMS.seriesTable}`).pluck().get() as number | null) ?? 0;
  let k = kept.get(db);
  if (k === undefined || k.highest !== highest || k.lists.size > MAX_DOMAINS) kept.set(db, (k = { highest, lists: new Map() }));
  const lists = k.lists;
  return domains.map((domain) => {
    // NUL cannot occur in a project id or a domain: the join is unique.
    const key = `${project}\u0000${domain}`;
    let list = lists.get(key);
    if (list === undefined) lists.set(key, (list = readDomainStreams(db, project, domain)));
    return list;
  });
}
