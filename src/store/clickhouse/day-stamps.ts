import type { ChConnection } from './client.js';
import { quote } from './sql.js';
import type { NumericStamp, StampGrid } from './stamp-grid.js';
import { oneOrIn, SharedReads } from './stamp-reads.js';
import { addRawStamps, finishRawStamps, type StampSpan } from './stamp-rows.js';

const HOUR = 3_600_000;
const DAY_HOURS = 24;
const TWO_32 = 4_294_967_296;
/**
 * Each SELECT of a day grid read on one thread, as StampReads' (stamp-reads.ts): a read of a few dozen rows. The day stamps
 * of 31 days of a head domain (the dense dataset, 800 reads one after another, twice): clickhouse-server 1,425 and 1,325 us of
 * CPU per read with its default threads, 1,025 and 988 us on one.
 */
const ONE_THREAD = 'SETTINGS max_threads = 1';

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
 * Reads the day stamps below `dayLimit` (from `dayTable`, migration 015: one row per (project, domain,
 * day), the sum of the day's hour stamps kept by ClickHouse) and the hour stamps from it (`stampsTable`)
 * of `projects` x `domains` over hours [from, to): ~8 day rows and the open day's hours for 7 d of a
 * domain. One request: both SELECTs joined by UNION ALL (each node request costs this process ~0.3 ms of CPU, most of it the
 * socket write; clickhouse-server ~13 % less than the two sent apart, measured on the dense dataset; with GROUP BY a UNION ALL
 * had cost it twice the two), each as cheap for clickhouse-server as a read of these rows gets: the stored columns only (the
 * time, rows, tags: no GROUP BY, no function of a column, the rows of a day or hour not merged yet each as
 * it is), the project and the domain by `=` when one is asked (oneOrIn), and a row's project and domain
 * by name only when several are (their index looked up here: an indexOf() over the asked names cost more
 * than the rest of the read, measured). A row's time tells a day (below hourFrom / 24) from an hour (from hourFrom on).
 * addRawStamps adds up each cell's rows here, rows and tags mod 2^64
 * as sum() of the UInt64 columns does (and as the sum of the 24 hour sums does: the same 64 bits, in halves).
 */
export async function readDayStampGrid(server: ChConnection, stampsTable: string, dayTable: string, projects: readonly string[],
  domains: readonly string[], from: number, to: number, dayLimit: number, signal?: AbortSignal): Promise<DayStampGrid> {
  const [a, b] = dayGridRange(from, to, dayLimit);
  const hourFrom = Math.max(a, Math.min(b, dayLimit));
  const days = (hourFrom - a) / DAY_HOURS;
  const owners = `${oneOrIn('project', projects)} AND ${oneOrIn('domain', domains)}`;
  const names = `${projects.length > 1 ? 'project, ' : ''}${domains.length > 1 ? 'domain, ' : ''}`;
  const layout = { project: projects.length > 1 ? -1 : 0, domain: domains.length > 1 ? -1 : 0 };
  const selects: string[] = [];
  const spans: StampSpan[] = [];
  if (days > 0) {
    selects.push(`SELECT ${names}day, rows, tags FROM ${dayTable}
    WHERE ${owners} AND day >= ${quote(a / DAY_HOURS)} AND day < ${quote(hourFrom / DAY_HOURS)} ${ONE_THREAD}`);
    spans.push({ from: a / DAY_HOURS, to: hourFrom / DAY_HOURS, cellBase: 0 });
  }
  if (b > hourFrom) {
    selects.push(`SELECT ${names}hour, rows, tags FROM ${stampsTable}
    WHERE ${owners} AND hour >= ${quote(hourFrom)} AND hour < ${quote(b)} ${ONE_THREAD}`);
    spans.push({ from: hourFrom, to: b, cellBase: days });
  }
  const cells = days + b - hourFrom;
  const size = projects.length * domains.length * cells;
  const grid: DayStampGrid = {
    projects: new Map(projects.map((p, i) => [p, i])), domains: new Map(domains.map((d, i) => [d, i])), from: 0, hours: cells,
    rows: new Float64Array(size), tagsHi: new Float64Array(size), tagsLo: new Float64Array(size), dayLimit: hourFrom, dayFrom: a, days, hourFrom,
  };
  if (selects.length === 0) return grid;
  // Day numbers below hourFrom / 24 and hours from hourFrom on: the two spans never overlap, so one time column tells them apart.
  const text = await server.tsv(selects.join('\n    UNION ALL\n    '), signal);
  const rowsHigh = new Float64Array(size);
  addRawStamps(text, grid, rowsHigh, { ...layout, spans });
  finishRawStamps(grid, rowsHigh);
  return grid;
}

/**
 * The day grids of the queries of one node, shared as GridStampReads shares the hour grids (SharedReads:
 * a query joins only a read not sent yet, so every stamp it sees was read after it arrived). Each query
 * names its own day limit; the read uses the smallest of the batch (each query takes the grid's). The
 * audience blocks read so; the traffic blocks check a coarse stamp per (project, day) first
 * (CoarseDayGridStampReads, coarse-stamps.ts).
 */
export class DayGridStampReads extends SharedReads<DayStampGrid> {
  /** `dayTable`: the day stamps (migration 015, 017: readDayStampGrid). `maxInFlight`, `holdMs`: as SharedReads. */
  constructor(server: ChConnection, table: string, dayTable: string, maxInFlight = 1, holdMs = 0) {
    super((projects, domains, from, to, limits) => readDayStampGrid(server, table, dayTable, projects, domains, from, to, Math.min(...limits)), maxInFlight,
      holdMs);
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
