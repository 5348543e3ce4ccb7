import type { ChConnection } from './client.js';
import { quote, quoteList, unescapeTsv, type SqlValue } from './sql.js';

interface Waiting<T> {
  project: string;
  domains: readonly string[];
  from: number;
  to: number;
  /** What the query adds to the read (DayGridStampReads: its day limit); the load gets every query's. */
  extra: number;
  resolve: (stamps: T) => void;
  reject: (err: Error) => void;
}

/** The key of a stamp in the maps StampReads returns. */
export const stampKey = (project: string, domain: string, hour: number): string => `${project}\u0000${domain}\u0000${hour}`;

/**
 * Stamps reads shared by the queries of one node that arrive together, so 10 concurrent answers cost
 * one round trip to ClickHouse, not 10; `load` reads the stamps of projects x domains x hours [from, to)
 * in the form its users want (StampReads: a map; GridStampReads, stamp-grid.ts: typed arrays).
 *
 * Still exact while other nodes write: a query joins only a stamps read that has not been sent yet,
 * so every stamp it sees was read after it arrived, and every write acknowledged before it arrived
 * (its stamp rows committed) is in them. At most maxInFlight reads are in flight; queries arriving
 * meanwhile wait for the next, sent as soon as one returns (on a quiet node: at once, in the next turn
 * of the event loop). The read covers every asked (project, domain) over the union of the asked hours;
 * the extra rows are ignored.
 */
export class SharedReads<T> {
  private waiting: Array<Waiting<T>> = [];
  private inFlight = 0;
  private scheduled = false;
  /** After a read returned (holdMs > 0): the next waits until this many queries wait, or until holdUntil. */
  private holdFor = 0;
  private holdUntil = 0;
  private holdTimer: NodeJS.Timeout | undefined;
  /** Stamps reads sent / queries answered by them (tests and the bench read them). */
  readonly stats = { reads: 0, queries: 0 };

  /**
   * `maxInFlight`: reads sent at once at most (default 1; the traffic cells: more, so a query waits
   * for one round trip, not for the read in flight and then its own). Exact either way: a query still
   * joins only a read not sent yet.
   * `holdMs` (default 0: none): after a read returns, the next is held until as many queries wait as the read
   * answered plus those already waiting (the clients just answered have asked again), at most `holdMs`: on a busy
   * node the queries then alternate less between two half-full reads (each answered client's next query
   * waits for the read after the one already waiting), so fewer reads per answer. A query arriving on an idle
   * node (no read returned within holdMs) is not held. Exact all the same: a query joins only a read not sent yet.
   */
  constructor(private readonly load: (projects: string[], domains: string[], from: number, to: number, extras: number[]) => Promise<T>,
    private readonly maxInFlight = 1, readonly holdMs = 0) {}

  /** The stamps of `domains` x hours [from, to) of `project` (and maybe more); `extra`: see Waiting. */
  read(project: string, domains: readonly string[], from: number, to: number, extra = 0): Promise<T> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ project, domains, from, to, extra, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.inFlight >= this.maxInFlight || this.scheduled || this.waiting.length === 0) return;
    if (this.waiting.length < this.holdFor) {
      const left = this.holdUntil - performance.now();
      if (left > 0) {
        this.holdTimer ??= setTimeout(() => {
          this.holdTimer = undefined;
          this.holdFor = 0;
          this.kick();
        }, Math.ceil(left));
        return;
      }
    }
    this.holdFor = 0;
    if (this.holdTimer) {
      clearTimeout(this.holdTimer);
      this.holdTimer = undefined;
    }
    this.scheduled = true;
    // The next turn of the event loop: queries that arrive together share the read.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.inFlight >= this.maxInFlight || this.waiting.length === 0) return;
    const batch = this.waiting;
    this.waiting = [];
    this.inFlight++;
    this.stats.reads++;
    this.stats.queries += batch.length;
    try {
      const projects = [...new Set(batch.map((w) => w.project))];
      const domains = [...new Set(batch.flatMap((w) => w.domains))];
      const from = Math.min(...batch.map((w) => w.from));
      const to = Math.max(...batch.map((w) => w.to));
      const out = await this.load(projects, domains, from, to, batch.map((w) => w.extra));
      for (const w of batch) w.resolve(out);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      for (const w of batch) w.reject(e);
    } finally {
      this.inFlight--;
      if (this.holdMs > 0 && this.inFlight === 0) {
        this.holdFor = batch.length + this.waiting.length;
        this.holdUntil = performance.now() + this.holdMs;
      }
      this.kick();
    }
  }
}

/** What a stamps read reads: the column of the time unit (hour; a day stamps table: day) and the columns summed into a stamp. */
export interface StampColumns {
  time: 'hour' | 'day';
  sums: readonly string[];
}

/** The hour stamps of migration 008 and after: (rows, tags) by hour. */
export const HOUR_STAMPS: StampColumns = { time: 'hour', sums: ['rows', 'tags'] };

/**
 * `column = v` for one value, else `column IN (...)`: clickhouse-server 18.16 builds a set for an IN list and
 * checks the primary key against it; an equality cost 4-15 % less of its CPU per stamps read of one key (measured
 * one read at a time on the dense dataset, several runs on a busy machine: audience day stamps 1.19 -> 1.02 and
 * 1.06 -> 1.02 ms, http_counts stamps 1.01 -> 0.95 and 0.98 -> 0.94 ms; the same rows read).
 */
export function oneOrIn(column: string, values: readonly SqlValue[]): string {
  return values.length === 1 ? `${column} = ${quote(values[0] as SqlValue)}` : `${column} IN ${quoteList(values)}`;
}

/** The SELECT of readStampRows (exported for its unit test). */
export function stampsSql(table: string, column: 'domain' | 'task_id', columns: StampColumns, projects: readonly string[], keys: readonly string[],
  from: number, to: number): string {
  const time = columns.time;
  const sums = columns.sums.map((c, i) => `sum(${c}) AS s${i}`).join(', ');
  return `SELECT project, ${column} AS k, ${time}, ${sums}
        FROM ${table} WHERE ${oneOrIn('project', projects)} AND ${oneOrIn(column, keys)} AND ${time} >= ${quote(from)} AND ${time} < ${quote(to)}
        GROUP BY project, ${column}, ${time} SETTINGS max_threads = 1`;
}

/**
 * Reads the stamps of `projects` x keys x [from, to) of `columns.time` now, keyed by stampKey, each the
 * sums of `columns.sums` in the digits ClickHouse sent, joined by ':' (`rows:tags` for HOUR_STAMPS).
 * One thread (a read of a few dozen rows in one or two parts: a second thread cost clickhouse-server ~30 %
 * more CPU per read on the http_counts stamps, measured), and TabSeparated (parsed here at about half the
 * node CPU of the same rows as JSON objects, measured). One project or one key is compared with `=` (oneOrIn).
 */
export async function readStampRows(server: ChConnection, table: string, column: 'domain' | 'task_id', columns: StampColumns,
  projects: readonly string[], keys: readonly string[], from: number, to: number): Promise<Map<string, string>> {
  return parseStamps(await server.tsv(stampsSql(table, column, columns, projects, keys, from, to)), columns.sums.length);
}

/**
 * The stamps of a stamps table (request counts, migration 008; traffic, audience, carousel: by hour; the
 * audience day stamps of 017: by day) as shared reads (SharedReads), keyed by stampKey, as readStampRows
 * gives them (absent: no insert reached the hour).
 */
export class StampReads extends SharedReads<Map<string, string>> {
  /**
   * `column`: what the stamps are kept by beside project and hour (domain; carousel: task_id). `maxInFlight`, `holdMs`: as SharedReads.
   * `columns`: what is read (default HOUR_STAMPS).
   */
  constructor(server: ChConnection, table: string, column: 'domain' | 'task_id' = 'domain', maxInFlight = 1, columns: StampColumns = HOUR_STAMPS,
    holdMs = 0) {
    super((projects, domains, from, to) => readStampRows(server, table, column, columns, projects, domains, from, to), maxInFlight, holdMs);
  }
}

const DIGITS = /^\d+$/;

/**
 * The stamps of StampReads' TabSeparated rows (project, key, hour, then `sums` sums: rows, tags by default),
 * keyed by stampKey, as the sums in the digits ClickHouse sent (the 64-bit sums exact) joined by ':'
 * (`rows:tags`). A line not understood fails the read: a stamp misread could make a block look current.
 * Exported for its unit test.
 */
export function parseStamps(text: string, sums = 2): Map<string, string> {
  const out = new Map<string, string>();
  for (let at = 0; at < text.length;) {
    let nl = text.indexOf('\n', at);
    if (nl < 0) nl = text.length;
    const line = text.slice(at, nl);
    at = nl + 1;
    const f = line.split('\t');
    const [project, key, hour] = f;
    const values = f.slice(3);
    if (f.length !== 3 + sums || project === undefined || key === undefined || !DIGITS.test(hour ?? '') || !values.every((v) => DIGITS.test(v))) {
      throw new Error(`ClickHouse returned a stamps row not understood: ${JSON.stringify(line.slice(0, 200))}`);
    }
    out.set(stampKey(unescapeTsv(project), unescapeTsv(key), Number(hour)), values.join(':'));
  }
  return out;
}
