import type Database from 'better-sqlite3';
import type { HistoryFilter, LiveStreamsFilter } from '../origin.js';

/**
 * SQLite migration 13 (issue 23): closed publish sessions by end time, so ListHistoryStreams reads the
 * sessions that end after the window's start (plus the open ones, in origin_sessions_open) instead of
 * every session of the domains since the first. WITHOUT ROWID: the index also holds the key (project, id).
 */
export function createOriginEndIndex(db: Database.Database): void {
  db.exec(`CREATE INDEX IF NOT EXISTS origin_sessions_by_end ON origin_sessions (project, domain, end_ms, start_ms)
    WHERE end_ms IS NOT NULL`);
}

/** One statement and its arguments. */
export interface Sql {
  sql: string;
  args: Array<string | number>;
}

/** The two statements of a page of sessions: the total, and the page's rows in (start_ms DESC, id) order. */
export interface PageQueries {
  count: Sql;
  rows: Sql;
}

const marks = (n: number): string => new Array(n).fill('?').join(', ');

function narrow(f: { app?: string | undefined; stream?: string | undefined }): Sql {
  const c: string[] = [];
  const args: Array<string | number> = [];
  if (f.app !== undefined) { c.push(' AND app = ?'); args.push(f.app); }
  if (f.stream !== undefined) { c.push(' AND stream = ?'); args.push(f.stream); }
  return { sql: c.join(''), args };
}

/**
 * ListLiveStreamsOnline: the domain's open sessions, named in the partial index (without ANALYZE
 * statistics SQLite counts them through the primary key, every session the project ever had).
 */
export function livePageQueries(f: LiveStreamsFilter, columns: string): PageQueries {
  const n = narrow(f);
  const where = `FROM origin_sessions INDEXED BY origin_sessions_open WHERE project = ? AND domain = ? AND end_ms IS NULL${n.sql}`;
  const args = [f.project, f.domain, ...n.args];
  return {
    count: { sql: `SELECT count(*) ${where}`, args },
    rows: { sql: `SELECT ${columns} ${where} ORDER BY start_ms DESC, id LIMIT ? OFFSET ?`, args: [...args, f.limit, f.offset * f.limit] },
  };
}

/**
 * ListHistoryStreams: the sessions overlapping [from, to) (start_ms < to AND (end_ms IS NULL OR
 * end_ms > from)), as two index ranges: the open ones (origin_sessions_open, start_ms < to) and the
 * closed ones ending after `from` (origin_sessions_by_end). The page is chosen on (start_ms, id) from
 * the indexes alone; only its rows are read from the table.
 */
export function historyPageQueries(f: HistoryFilter, columns: string): PageQueries {
  const n = narrow(f);
  const d = marks(f.domains.length);
  const open = `FROM origin_sessions INDEXED BY origin_sessions_open
    WHERE project = ? AND domain IN (${d}) AND end_ms IS NULL AND start_ms < ?${n.sql}`;
  const closed = `FROM origin_sessions INDEXED BY origin_sessions_by_end
    WHERE project = ? AND domain IN (${d}) AND end_ms > ? AND start_ms < ?${n.sql}`;
  const openArgs = [f.project, ...f.domains, f.to, ...n.args];
  const closedArgs = [f.project, ...f.domains, f.from, f.to, ...n.args];
  return {
    count: { sql: `SELECT (SELECT count(*) ${open}) + (SELECT count(*) ${closed})`, args: [...openArgs, ...closedArgs] },
    rows: {
      sql: `SELECT ${columns} FROM origin_sessions WHERE project = ? AND id IN (
          SELECT id FROM (SELECT start_ms, id ${open} UNION ALL SELECT start_ms, id ${closed}) ORDER BY start_ms DESC, id LIMIT ? OFFSET ?
        ) ORDER BY start_ms DESC, id`,
      args: [f.project, ...openArgs, ...closedArgs, f.limit, f.offset * f.limit],
    },
  };
}
