import type { ChConnection } from './client.js';
import { dayGridRange, type DayStampGrid } from './day-stamps.js';
import { quote, quoteList, unescapeTsv } from './sql.js';
import { SharedReads } from './stamp-reads.js';

const DAY_HOURS = 24;
const TWO_32 = 4_294_967_296;
/** Domains' stamps kept at most, over every (project, day) (a day's domain: 1 stamp; an hours' domain: 24); beyond, all are dropped. */
const MAX_KEPT = 400_000;

/** What a day's fine stamps are: the day stamp of each domain (a closed day, below the grid's day limit), or its 24 hour stamps. */
const enum Kind { Day = 0, Hours = 1 }

/** A stamp sum as ClickHouse's UInt64 sums wrap: rows, and the tags' high and low 32 bits (mod 2^64). */
interface Sum { rows: number; hi: number; lo: number }

/** Adds (rows, hi, lo) into `s`, carrying the low half into the high one, mod 2^64. */
function addInto(s: Sum, rows: number, hi: number, lo: number): void {
  s.rows += rows;
  let l = s.lo + lo;
  let h = s.hi + hi;
  if (l >= TWO_32) {
    l -= TWO_32;
    h += 1;
  }
  s.lo = l;
  s.hi = h % TWO_32;
}

/**
 * The fine stamps of one (project, UTC day), as a read confirmed them: `coarse` is the project's day stamp
 * (migration 018) they were confirmed against, `cells` per domain 3 numbers per stamp (rows, tags hi, tags lo;
 * a day's: one stamp, an hours': 24, hour 0 first).
 */
interface Kept {
  coarse: Sum;
  cells: Map<string, Float64Array>;
  /** Names these kept stamps (unique: a new set of kept stamps of a day gets a new one). */
  version: number;
}

/**
 * A day grid (DayStampGrid) that also tells, per project and day, which kept stamps its cells of that day
 * are (their version), or 0: read by a fine read not kept. `keptDays`: by p * days + the day's index from
 * dayFrom; `keptHours`: the days of the single hours, by p * hourDays + the day's index from hourFrom's day.
 * Two grids whose cells of a day carry the same version hold the same stamps for every domain of those
 * kept stamps (traffic-blocks.ts keeps sums over many domains by it).
 */
export interface CoarseGrid extends DayStampGrid {
  readonly keptDays: Float64Array;
  readonly hourDays: number;
  readonly keptHours: Float64Array;
}

/**
 * The day stamp grids of traffic-blocks.ts (readDayStampGrid's: day stamps of closed days, hour stamps from
 * the day limit on), read so that an answer costs ClickHouse a few rows when nothing was written: first the
 * coarse stamps of migration 018 (one row per (project, UTC day): ~8 for a 7-day window), then the fine
 * stamps only of the days whose coarse stamp moved since this node last read them (today, while ingest runs).
 *
 * Why a kept day's fine stamps are as good as ones read now. A project's coarse stamp of a day is the sum
 * over its domains of their stamps of that day (the same rows hashed by the same views: 015, 016, 018; a
 * retried write bumps all three, the coarse one first). A fine read returns, beside the asked domains'
 * stamps, the sum of every other domain's of the same days, in the same SELECT (one snapshot of the table);
 * its stamps are kept only when their sum over all domains equals the coarse stamp read for that answer:
 * then (as for the day stamps, day-stamps.ts) the rows the fine stamps hashed are the very rows the coarse
 * stamp hashed, short of a 64-bit hash-sum collision. A later answer reuses them only when the coarse stamp
 * it reads, after it arrived (SharedReads), is still that one: every insert only adds rows (each adds at
 * least one row; a bump a random tag), so no insert reached the project's day since, and each one
 * acknowledged before the answer arrived (its views all ran) is in the kept stamps. A day whose coarse stamp
 * never equals its domains' sum (an insert whose views did not all land, or one landing between 018's view
 * and its backfill) is read in full by every answer, as before 018: slower, never wrong.
 *
 * A (project, day) whose kept stamps were found stale (its coarse stamp moved) has its fine stamps read in
 * the same round trip as the coarse ones next time, without waiting for the coarse read to tell.
 */
export class CoarseDayGrids {
  /** Kept fine stamps by project, day number and kind. */
  private readonly kept = new Map<string, Kept>();
  private keptCells = 0;
  private version = 0;
  /** (project, day, kind)s whose kept stamps were stale at their last check: read at once next time. */
  private readonly moving = new Set<string>();
  /** Coarse reads, (project, day)s answered from kept stamps and fine reads (tests and the bench read them). */
  readonly stats = { coarseReads: 0, keptDays: 0, fineReads: 0, fineDays: 0, kept: 0 };

  constructor(private readonly server: ChConnection, private readonly stampsTable: string, private readonly dayTable: string,
    private readonly coarseTable: string) {}

  /** The grid readDayStampGrid would read now, of `projects` x `domains` over hours [from, to), `dayLimit` as there. */
  async read(projects: readonly string[], domains: readonly string[], from: number, to: number, dayLimit: number): Promise<CoarseGrid> {
    const [a, b] = dayGridRange(from, to, dayLimit);
    const hourFrom = Math.max(a, Math.min(b, dayLimit));
    const days = (hourFrom - a) / DAY_HOURS;
    const cells = days + b - hourFrom;
    const size = projects.length * domains.length * cells;
    const hourDays = b > hourFrom ? Math.ceil(b / DAY_HOURS) - Math.floor(hourFrom / DAY_HOURS) : 0;
    const grid: CoarseGrid = {
      projects: new Map(projects.map((p, i) => [p, i])), domains: new Map(domains.map((d, i) => [d, i])), from: 0, hours: cells,
      rows: new Float64Array(size), tagsHi: new Float64Array(size), tagsLo: new Float64Array(size), dayLimit: hourFrom, dayFrom: a, days, hourFrom,
      keptDays: new Float64Array(projects.length * days), hourDays, keptHours: new Float64Array(projects.length * hourDays),
    };
    if (cells === 0) return grid;
    // Every (project, day, kind) of the window: closed days below hourFrom, the days of the single hours from it.
    const wanted: Array<{ p: number; day: number; kind: Kind; key: string }> = [];
    for (const [p, project] of projects.entries()) {
      for (let day = a / DAY_HOURS; day < hourFrom / DAY_HOURS; day++) wanted.push({ p, day, kind: Kind.Day, key: keyOf(project, day, Kind.Day) });
      for (let day = Math.floor(hourFrom / DAY_HOURS); day * DAY_HOURS < b; day++) {
        if (b > hourFrom) wanted.push({ p, day, kind: Kind.Hours, key: keyOf(project, day, Kind.Hours) });
      }
    }
    const firstDay = Math.floor(a / DAY_HOURS);
    const endDay = Math.ceil(b / DAY_HOURS);
    this.stats.coarseReads++;
    const coarseRead = this.readCoarse(projects, firstDay, endDay);
    // Days with nothing kept (or found stale last time) are read at once, beside the coarse read.
    const early = wanted.filter((w) => !this.kept.has(w.key) || this.moving.has(w.key));
    const earlyRead = early.length > 0 ? this.readFine(projects, domains, early) : undefined;
    const coarse = await coarseRead;
    const late: typeof wanted = [];
    const earlyKeys = new Set(early.map((w) => w.key));
    for (const w of wanted) {
      if (earlyKeys.has(w.key)) continue;
      const k = this.kept.get(w.key);
      const c = coarse.get(coarseKey(projects[w.p] as string, w.day));
      if (k !== undefined && sameSum(k.coarse, c) && domains.every((d) => k.cells.has(d))) {
        this.moving.delete(w.key);
        this.stats.keptDays++;
        fill(grid, w.p, domains, w.day, w.kind, k.cells);
        markKept(grid, w.p, w.day, w.kind, k.version);
      } else {
        if (k !== undefined && !sameSum(k.coarse, c)) this.moving.add(w.key);
        late.push(w);
      }
    }
    const lateRead = late.length > 0 ? this.readFine(projects, domains, late) : undefined;
    for (const [read, ws] of [[earlyRead, early], [lateRead, late]] as const) {
      if (read === undefined) continue;
      const fine = await read;
      for (const w of ws) {
        const project = projects[w.p] as string;
        const got = fine.get(w.key) ?? { total: { rows: 0, hi: 0, lo: 0 }, cells: new Map<string, Float64Array>() };
        const width = w.kind === Kind.Day ? 3 : 3 * DAY_HOURS;
        // Every asked domain's stamps: zeros where no insert reached it.
        for (const d of domains) if (!got.cells.has(d)) got.cells.set(d, new Float64Array(width));
        fill(grid, w.p, domains, w.day, w.kind, got.cells);
        const c = coarse.get(coarseKey(project, w.day));
        if (sameSum(got.total, c)) {
          markKept(grid, w.p, w.day, w.kind, this.keep(w.key, got.total, got.cells));
          this.moving.delete(w.key);
        } else {
          this.moving.add(w.key);
        }
      }
    }
    return grid;
  }

  /** The coarse stamps of `projects` over days [firstDay, endDay), by coarseKey (absent: no insert reached the day). */
  private async readCoarse(projects: readonly string[], firstDay: number, endDay: number): Promise<Map<string, Sum>> {
    const text = await this.server.tsv(`SELECT project, day, sum(rows) AS r, intDiv(sum(tags), ${TWO_32}) AS th, sum(tags) % ${TWO_32} AS tl
      FROM ${this.coarseTable} WHERE project IN ${quoteList(projects)} AND day >= ${quote(firstDay)} AND day < ${quote(endDay)} GROUP BY project, day`);
    const out = new Map<string, Sum>();
    for (const f of tsvRows(text, 5)) {
      out.set(coarseKey(unescapeTsv(f[0] as string), Number(f[1])), { rows: Number(f[2]), hi: Number(f[3]), lo: Number(f[4]) });
    }
    return out;
  }

  /**
   * The fine stamps of the (project, day, kind)s `ws`: per key, the asked domains' stamps and the sum of every
   * domain's (asked or not) of the day, all from one SELECT per kind (one snapshot of its table).
   */
  private async readFine(projects: readonly string[], domains: readonly string[],
    ws: ReadonlyArray<{ day: number; kind: Kind }>): Promise<Map<string, { total: Sum; cells: Map<string, Float64Array> }>> {
    this.stats.fineReads++;
    this.stats.fineDays += ws.length;
    const sums = `sum(rows) AS r, intDiv(sum(tags), ${TWO_32}) AS th, sum(tags) % ${TWO_32} AS tl`;
    const asked = `domain IN ${quoteList(domains)}`;
    const closed = [...new Set(ws.filter((w) => w.kind === Kind.Day).map((w) => w.day))];
    const open = [...new Set(ws.filter((w) => w.kind === Kind.Hours).map((w) => w.day))];
    const reads: Array<Promise<[Kind, string]>> = [];
    if (closed.length > 0) {
      reads.push(this.server.tsv(`SELECT project, ${asked} AS k, if(k, domain, '') AS dn, day AS u, ${sums} FROM ${this.dayTable}
        WHERE project IN ${quoteList(projects)} AND day IN ${quoteList(closed)} GROUP BY project, k, dn, u`).then((t) => [Kind.Day, t]));
    }
    if (open.length > 0) {
      reads.push(this.server.tsv(`SELECT project, ${asked} AS k, if(k, domain, '') AS dn, hour AS u, ${sums} FROM ${this.stampsTable}
        WHERE project IN ${quoteList(projects)} AND hour >= ${quote(Math.min(...open) * DAY_HOURS)} AND hour < ${quote((Math.max(...open) + 1) * DAY_HOURS)}
          AND intDiv(hour, 24) IN ${quoteList(open)} GROUP BY project, k, dn, u`).then((t) => [Kind.Hours, t]));
    }
    const out = new Map<string, { total: Sum; cells: Map<string, Float64Array> }>();
    for (const [kind, text] of await Promise.all(reads)) {
      for (const f of tsvRows(text, 7)) {
        const project = unescapeTsv(f[0] as string);
        const u = Number(f[3]);
        const day = kind === Kind.Day ? u : Math.floor(u / DAY_HOURS);
        const key = keyOf(project, day, kind);
        let e = out.get(key);
        if (!e) out.set(key, (e = { total: { rows: 0, hi: 0, lo: 0 }, cells: new Map() }));
        const rows = Number(f[4]);
        const hi = Number(f[5]);
        const lo = Number(f[6]);
        addInto(e.total, rows, hi, lo);
        if (f[1] !== '1') continue;
        const domain = unescapeTsv(f[2] as string);
        let c = e.cells.get(domain);
        if (!c) e.cells.set(domain, (c = new Float64Array(kind === Kind.Day ? 3 : 3 * DAY_HOURS)));
        const at = kind === Kind.Day ? 0 : 3 * (u - day * DAY_HOURS);
        c[at] = rows;
        c[at + 1] = hi;
        c[at + 2] = lo;
      }
    }
    return out;
  }

  /**
   * Forgets the kept fine stamps of `days` (UTC day numbers) of `project`: their day stamps are being set back
   * to their hours' sums (repairDayStamps inserts into the day stamps alone, so the coarse stamp does not move).
   */
  forget(project: string, days: readonly number[]): void {
    for (const day of days) {
      for (const kind of [Kind.Day, Kind.Hours]) {
        const key = keyOf(project, day, kind);
        const k = this.kept.get(key);
        if (k === undefined) continue;
        this.keptCells -= k.cells.size;
        this.kept.delete(key);
      }
    }
  }

  /** Keeps `cells` confirmed against coarse stamp `total` (added to the domains kept with the same coarse stamp); returns their version. */
  private keep(key: string, total: Sum, cells: Map<string, Float64Array>): number {
    const old = this.kept.get(key);
    if (old !== undefined) this.keptCells -= old.cells.size;
    const same = old !== undefined && sameSum(old.coarse, total);
    const merged = same ? new Map([...old.cells, ...cells]) : cells;
    if (this.keptCells + merged.size > MAX_KEPT) {
      this.kept.clear();
      this.keptCells = 0;
    }
    // Under the same coarse stamp every domain kept before has the same stamps (now read again), so the version
    // stays: what was made under it (traffic-blocks.ts' group blocks, each of some of those domains) still holds.
    const version = same ? old.version : ++this.version;
    this.kept.set(key, { coarse: total, cells: merged, version });
    this.keptCells += merged.size;
    this.stats.kept++;
    return version;
  }
}

const keyOf = (project: string, day: number, kind: Kind): string => `${project}\u0000${day}\u0000${kind}`;
const coarseKey = (project: string, day: number): string => `${project}\u0000${day}`;

/** Whether a sum of fine stamps is the coarse stamp read (absent: no insert, (0, 0, 0)). */
function sameSum(s: Sum, c: Sum | undefined): boolean {
  return s.rows === (c?.rows ?? 0) && s.hi === (c?.hi ?? 0) && s.lo === (c?.lo ?? 0);
}

/** Notes that the grid's cells of (project `p`, `day`) are kept stamps `version`. */
function markKept(grid: CoarseGrid, p: number, day: number, kind: Kind, version: number): void {
  if (kind === Kind.Day) grid.keptDays[p * grid.days + day - grid.dayFrom / DAY_HOURS] = version;
  else grid.keptHours[p * grid.hourDays + day - Math.floor(grid.hourFrom / DAY_HOURS)] = version;
}

/** Puts the stamps of `cells` (one day of project `p`) into the grid's cells of that day. */
function fill(grid: DayStampGrid, p: number, domains: readonly string[], day: number, kind: Kind, cells: ReadonlyMap<string, Float64Array>): void {
  const D = domains.length;
  for (const [d, domain] of domains.entries()) {
    const c = cells.get(domain);
    if (c === undefined) continue;
    const base = (p * D + d) * grid.hours;
    if (kind === Kind.Day) {
      const cell = base + day - grid.dayFrom / DAY_HOURS;
      grid.rows[cell] = c[0] as number;
      grid.tagsHi[cell] = c[1] as number;
      grid.tagsLo[cell] = c[2] as number;
      continue;
    }
    const h0 = Math.max(grid.hourFrom, day * DAY_HOURS);
    const h1 = Math.min(grid.hourFrom + grid.hours - grid.days, (day + 1) * DAY_HOURS);
    for (let h = h0; h < h1; h++) {
      const cell = base + grid.days + h - grid.hourFrom;
      const at = 3 * (h - day * DAY_HOURS);
      grid.rows[cell] = c[at] as number;
      grid.tagsHi[cell] = c[at + 1] as number;
      grid.tagsLo[cell] = c[at + 2] as number;
    }
  }
}

/** The rows of a TabSeparated text of `n` fields each (a row of another width fails the read: a stamp not understood must not look current). */
function tsvRows(text: string, n: number): string[][] {
  const out: string[][] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const f = line.split('\t');
    if (f.length !== n || f.slice(n === 5 ? 1 : 3).some((v) => !/^\d+$/.test(v))) throw new Error('unexpected row in a stamps read');
    out.push(f);
  }
  return out;
}

/**
 * The day grids of the queries of one node (CoarseDayGrids), shared as the hour grids are (SharedReads: a
 * query joins only a read not sent yet, so every stamp it sees, coarse or fine, was read after it arrived).
 * Each query names its own day limit; the read uses the smallest of the batch (each query takes the grid's).
 */
export class CoarseDayGridStampReads extends SharedReads<CoarseGrid> {
  readonly grids: CoarseDayGrids;

  /** `stampsTable`, `dayTable`, `coarseTable`: the stamps of migrations 009, 015 and 018. `maxInFlight`: as SharedReads. */
  constructor(server: ChConnection, stampsTable: string, dayTable: string, coarseTable: string, maxInFlight = 1) {
    const grids = new CoarseDayGrids(server, stampsTable, dayTable, coarseTable);
    super((projects, domains, from, to, limits) => grids.read(projects, domains, from, to, Math.min(...limits)), maxInFlight);
    this.grids = grids;
  }
}
