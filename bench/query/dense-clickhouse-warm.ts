// Warm-up of one ClickHouse dense row (`npm run bench -- dense --store clickhouse`): the ClickHouse
// store answers closed hours from the node's hour blocks (docs/clickhouse.md), built in the
// background after a query finds them missing; until then it answers by SQL. A row is measured only
// once the blocks answer it, and that is read from clickhouse-server itself, not guessed from timings:
// after each warm-up request the queries it caused are taken from system.query_log (every query
// started since the last look, running ones included), and a row with blocks is warm once two
// requests in a row read nothing of its family's tables (http_counts*, traffic_*, carousel_*) but
// the family's stamps table (`*_stamps`: the one small query every block answer makes): no build
// and no SQL read ran beside them. Queries on other tables (the server's own periodic ones, e.g.
// the live sessions gauge on origin_sessions) are not the row's and are left out.

export interface WarmRow {
  name: string;
  url: string;
  headers: Record<string, string>;
  /**
   * The table family whose hour blocks answer the row once built (`http_counts`, `traffic_`, `carousel_`: a prefix of
   * the table names), or undefined: always SQL, nothing to wait for.
   */
  blocks?: string;
}

export interface WarmResult {
  /** The last request was answered from blocks (or the row has none). */
  warm: boolean;
  ms: number;
  requests: number;
  firstMs: number;
  lastMs: number;
  /** The last warm-up answer (checked against SQLite's by the caller: the block path's bytes). */
  body: Buffer;
  /** The ClickHouse tables the last request's queries read, e.g. `http_counts_stamps`. */
  lastTables: string[];
}

export interface QueryLog {
  /** Rows of a SELECT on the bench's clickhouse-server. */
  rows(sql: string): Promise<Array<Record<string, unknown>>>;
  exec(sql: string): Promise<void>;
  database: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Queries started since `fromSec` not in `seen` (added to it), other than the bench's own ones on system tables. */
async function newQueries(log: QueryLog, fromSec: number, seen: Set<string>): Promise<string[]> {
  await log.exec('SYSTEM FLUSH LOGS');
  const rows = await log.rows(`SELECT query_id, query FROM system.query_log WHERE type = 1 AND event_time >= toDateTime(${fromSec})
    AND query NOT LIKE '%system.%'`);
  const out: string[] = [];
  for (const r of rows) {
    const id = String(r.query_id);
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(String(r.query));
  }
  return out;
}

/** The tables of the bench's database that a query names. */
export function tablesOf(query: string, database: string): string[] {
  const re = new RegExp(`\\b${database}\`?\\.\`?(\\w+)`, 'g');
  return [...new Set([...query.matchAll(re)].map((m) => m[1] as string))];
}

/**
 * Asks the row one request at a time (a pause of `gapMs` after each, so the background builds get
 * the cores) until two answers in a row were made from blocks alone, or `deadlineMs` passed.
 */
export async function warmRow(row: WarmRow, log: QueryLog, say: (s: string) => void, o: { deadlineMs?: number; gapMs?: number } = {}): Promise<WarmResult> {
  const deadline = o.deadlineMs ?? 900_000;
  const gap = o.gapMs ?? 1000;
  const started = Date.now();
  const fromSec = Math.floor(started / 1000) - 2;
  const seen = new Set<string>();
  await newQueries(log, fromSec, seen);
  let firstMs = 0;
  let lastMs = 0;
  let requests = 0;
  let inARow = 0;
  let body = Buffer.alloc(0);
  let lastTables: string[] = [];
  let lastLog = started;
  for (;;) {
    const t0 = performance.now();
    const res = await fetch(row.url, { headers: row.headers });
    body = Buffer.from(await res.arrayBuffer());
    lastMs = performance.now() - t0;
    if (res.status !== 200) throw new Error(`${row.name}: HTTP ${res.status} during warm-up: ${body.toString().slice(0, 200)}`);
    if (requests++ === 0) firstMs = lastMs;
    await sleep(gap);
    const family = row.blocks;
    const tables = (await newQueries(log, fromSec, seen)).map((q) => tablesOf(q, log.database))
      .filter((ts) => family === undefined || ts.some((t) => t.startsWith(family)));
    const queries = tables.length;
    lastTables = [...new Set(tables.flat())].sort();
    const fromBlocks = queries > 0 && tables.every((ts) => ts.every((t) => t.endsWith('_stamps')));
    inARow = family === undefined || fromBlocks ? inARow + 1 : 0;
    if (inARow >= 2) break;
    if (Date.now() - started > deadline) {
      say(`dense clickhouse: ${row.name}: NOT WARM after ${(deadline / 1000).toFixed(0)} s: the last answer read ${lastTables.join(', ') || 'nothing'} (${queries} queries)`);
      return { warm: false, ms: Date.now() - started, requests, firstMs, lastMs, body, lastTables };
    }
    if (Date.now() - lastLog > 30_000) {
      lastLog = Date.now();
      say(`dense clickhouse: ${row.name}: warming up, ${requests} answers in ${((Date.now() - started) / 1000).toFixed(0)} s, the last read ${lastTables.join(', ')} (${queries} queries, ${lastMs.toFixed(0)} ms)`);
    }
  }
  const ms = Date.now() - started;
  say(`dense clickhouse: ${row.name}: ${row.blocks ? 'answered from blocks' : 'no blocks (SQL), two answers'} after ${(ms / 1000).toFixed(1)} s, ` +
    `${requests} answers (first ${firstMs.toFixed(0)} ms, last ${lastMs.toFixed(0)} ms; the last read ${lastTables.join(', ')})`);
  return { warm: true, ms, requests, firstMs, lastMs, body, lastTables };
}
