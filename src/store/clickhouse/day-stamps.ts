import type { ChConnection } from './client.js';
import { quote, quoteList } from './sql.js';
import { parseStampGrid, type NumericStamp, type StampGrid } from './stamp-grid.js';
import { SharedReads } from './stamp-reads.js';

const HOUR = 3_600_000;
const DAY_HOURS = 24;
const TWO_32 = 4_294_967_296;

const array = (values: readonly string[]): string => `[${values.map((v) => quote(v)).join(', ')}]`;

/**
 * A stamp grid (stamp-grid.ts) whose hours below `dayLimit` are read by UTC day: per (project, domain)
 * first `days` cells, one per day from `dayFrom`, holding the day's stamp (the sum of its 24 hour stamps:
 * rows added, tags added mod 2^64), then one cell per hour from `hourFrom` (its hour stamp). The grid's
 * own `from` is 0 and its `hours` the cells per (project, domain): `days` + the single hours, so a 31-day
 * window of 100 domains is 3,100 day cells, not 74,400 hour cells. `dayLimit` is a day boundary (in hours
 * since the epoch) at or before the first hour not closed yet.
 *
 * Why a day stamp tells as much as its 24 hour stamps for a block built from them: every insert into an
 * hour adds at least one row to its stamp and a retried write's bump adds a random non-zero tag (migration
 * 009), so an hour's stamp only grows; when the day stamp read now equals the sum of the 24 stamps its
 * hour blocks were built with, no hour of the day had a row inserted since (the rows would differ) and no
 * bump (its tag would have to cancel out mod 2^64 with the other bumps': as unlikely as a hash collision
 * of the hour stamps themselves), so each hour still has the stamp its block was built with.
 */
export interface DayStampGrid extends StampGrid {
  readonly dayLimit: number;
  /** First day's first hour, and how many day cells. */
  readonly dayFrom: number;
  readonly days: number;
  /** First single hour (its cell is `days`). */
  readonly hourFrom: number;
}

/** The day boundary (hours since the epoch) at or before the first hour not closed at `now`. */
export function dayLimitAt(now: number, closedAfterMs: number): number {
  return Math.floor(Math.floor((now - closedAfterMs) / HOUR) / DAY_HOURS) * DAY_HOURS;
}

/**
 * The hours a day grid of hours [from, to) reads: whole days below `dayLimit` (the day of `from` from its
 * start; the day of `to`, when below the limit, to its end), single hours from it.
 */
export function dayGridRange(from: number, to: number, dayLimit: number): [number, number] {
  const a = from < dayLimit ? Math.floor(from / DAY_HOURS) * DAY_HOURS : from;
  const b = to <= dayLimit ? Math.ceil(to / DAY_HOURS) * DAY_HOURS : to;
  return [a, Math.max(a, b)];
}

/**
 * Reads the day stamps below `dayLimit` and the hour stamps from it of `projects` x `domains` over hours
 * [from, to). With `dayTable` (migration 015: one row per (project, domain, day), the sum of the day's hour
 * stamps kept by ClickHouse) the days are read from it, ~700 rows for 7 d x 100 domains; without, they are
 * summed from the hour stamps at read time (24 rows a day).
 */
export async function readDayStampGrid(server: ChConnection, stampsTable: string, projects: readonly string[], domains: readonly string[],
  from: number, to: number, dayLimit: number, signal?: AbortSignal, dayTable?: string): Promise<DayStampGrid> {
  const [a, b] = dayGridRange(from, to, dayLimit);
  const hourFrom = Math.max(a, Math.min(b, dayLimit));
  const days = (hourFrom - a) / DAY_HOURS;
  // The cell index comes from ClickHouse (a day: its index from dayFrom; an hour: days + its index from
  // hourFrom). sum(tags) wraps mod 2^64 (UInt64), as the sum of the 24 hour sums does: the same 64 bits, in halves.
  const keys = `indexOf(${array(projects)}, project) AS p, indexOf(${array(domains)}, domain) AS d`;
  const sums = `sum(rows) AS r, intDiv(sum(tags), ${TWO_32}) AS th, sum(tags) % ${TWO_32} AS tl`;
  const owners = `project IN ${quoteList(projects)} AND domain IN ${quoteList(domains)}`;
  let text: string;
  if (dayTable === undefined) {
    text = await server.tsv(`SELECT ${keys},
      if(hour < ${quote(hourFrom)}, intDiv(hour - ${quote(a)}, ${DAY_HOURS}), ${quote(days)} + hour - ${quote(hourFrom)}) AS u,
      ${sums} FROM ${stampsTable}
    WHERE ${owners} AND hour >= ${quote(a)} AND hour < ${quote(b)}
    GROUP BY project, domain, u`, signal);
  } else {
    const parts: string[] = [];
    if (days > 0) {
      parts.push(`SELECT ${keys}, day - ${quote(a / DAY_HOURS)} AS u, ${sums} FROM ${dayTable}
    WHERE ${owners} AND day >= ${quote(a / DAY_HOURS)} AND day < ${quote(hourFrom / DAY_HOURS)} GROUP BY project, domain, u`);
    }
    if (b > hourFrom) {
      parts.push(`SELECT ${keys}, ${quote(days)} + hour - ${quote(hourFrom)} AS u, ${sums} FROM ${stampsTable}
    WHERE ${owners} AND hour >= ${quote(hourFrom)} AND hour < ${quote(b)} GROUP BY project, domain, u`);
    }
    text = parts.length === 0 ? '' : await server.tsv(parts.join('\n    UNION ALL\n    '), signal);
  }
  return { ...parseStampGrid(text, projects, domains, 0, days + b - hourFrom), dayLimit: hourFrom, dayFrom: a, days, hourFrom };
}

/**
 * The day grids of the queries of one node, shared as GridStampReads shares the hour grids (SharedReads:
 * a query joins only a read not sent yet, so every stamp it sees was read after it arrived). Each query
 * names its own day limit; the read uses the smallest of the batch (each query takes the grid's).
 */
export class DayGridStampReads extends SharedReads<DayStampGrid> {
  /** `maxInFlight`: as SharedReads. `dayTable`: the day stamps of migration 015 (readDayStampGrid). */
  constructor(server: ChConnection, table: string, maxInFlight = 1, dayTable?: string) {
    super((projects, domains, from, to, limits) => readDayStampGrid(server, table, projects, domains, from, to, Math.min(...limits), undefined, dayTable), maxInFlight);
  }
}

/** What a block keeps to be combined into its day's. */
export interface HourPart extends NumericStamp {
  builtAt: number;
  /** Bytes per 5-minute slot of the hour (12). */
  bytes: Float64Array;
}

/** A day of one (project, domain): its 24 hour blocks added up, with the sum of their stamps. */
export interface DayBlock extends NumericStamp {
  /** The oldest of its hour blocks' build times. */
  builtAt: number;
  /** Bytes per 5-minute slot of the day (288). */
  bytes: Float64Array;
}

/** The day block of the 24 hours from `dayStart` (hours since the epoch), or undefined when a block of one is missing. */
export function combineDay(hours: ReadonlyMap<number, HourPart> | undefined, dayStart: number, slots: number): DayBlock | undefined {
  if (hours === undefined) return undefined;
  const bytes = new Float64Array(DAY_HOURS * slots);
  let rows = 0;
  let hi = 0;
  let lo = 0;
  let builtAt = Infinity;
  for (let i = 0; i < DAY_HOURS; i++) {
    const b = hours.get(dayStart + i);
    if (b === undefined) return undefined;
    rows += b.stampRows;
    hi += b.stampHi;
    lo += b.stampLo;
    if (b.builtAt < builtAt) builtAt = b.builtAt;
    bytes.set(b.bytes, i * slots);
  }
  // 24 halves below 2^32 each: exact in doubles; the carry of the low halves into the high, mod 2^64.
  const carry = Math.floor(lo / TWO_32);
  return { stampRows: rows, stampHi: (hi + carry) % TWO_32, stampLo: lo % TWO_32, builtAt, bytes };
}
