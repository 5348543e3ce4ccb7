import type { TrafficFilter } from '../traffic.js';
import { BlockCache, scheduleRuns, sqlRanges, type HourBlocksOptions, type StaleCell, type StampedBlock } from './block-cache.js';
import { num, str, type ChConnection } from './client.js';
import { table, type SchemaNames } from './schema.js';
import { quote, quoteList } from './sql.js';
import { repairDayStamps } from './day-stamps-backfill.js';
import { combineDay, dayLimitAt, DayGridStampReads, type DayBlock, type DayStampGrid } from './day-stamps.js';
import { gridBase, readStampGrid, sameStamp, stampAt, type NumericStamp } from './stamp-grid.js';
import { stampKey, StampReads } from './stamp-reads.js';

const HOUR = 3_600_000;
const SLOT_MS = 300_000;
const SLOTS = 12;
/** Blocks kept at most (~250 bytes each: 31 d x 100 domains is 74,400). */
const MAX_BLOCKS = 200_000;
/** Hours built by one query (a run of stale hours of the same domains). */
const BUILD_HOURS = 24;

interface Block extends StampedBlock, NumericStamp {
  /** Bytes per 5-minute slot of the hour, every protocol, region, isp and address family together. */
  bytes: Float64Array;
}

const domainKey = (project: string, domain: string): string => `${project}\u0000${domain}`;

/** Whether the filter asks for a domain's totals (no app, stream, protocol, region, isp or ip type). */
export function totalsOnly(f: TrafficFilter): boolean {
  return f.app === undefined && f.stream === undefined && f.protocol === undefined && f.regions.length === 0 && f.isps.length === 0
    && f.ipType === undefined && f.domains.length > 0;
}

/** Blocks of days kept at most (a day block is 288 doubles, ~2.4 kB: ~20 MB); beyond, they are all dropped (rebuilt from the hour blocks). */
const MAX_DAY_BLOCKS = Math.ceil(MAX_BLOCKS / 24);
/** Day grid stamps reads in flight at most (see the constructor). */
const DAY_GRID_READS = 2;

/**
 * The current blocks of `domains` over hours [firstHour, firstHour + hours) added up by hour (12 slots
 * each), which of those hours have a stale (domain, hour), the (domain index, hour) pairs to build and
 * how many of the answer's (domain, hour)s are stale. Below the grid's day limit a whole UTC day is
 * checked at once against its day stamp (day-stamps.ts): its day block, or one combined now from its 24
 * hour blocks (kept through `keep`); a stale day makes its hours in the window stale and queues its 24
 * hours. From the limit on, each hour block is checked against its hour stamp. A plain function of typed
 * arrays and two block shapes, so V8 keeps it optimized: 7 d x 100 domains is 700 days and the open day's hours.
 */
function addUp(blocks: ReadonlyArray<Map<number, Block> | undefined>, days: ReadonlyArray<Map<number, DayBlock> | undefined>,
  bases: readonly number[], grid: DayStampGrid, firstHour: number, hours: number, builtAfter: number,
  keep: (d: number, dayStart: number, b: DayBlock) => void, diverged: (d: number, dayStart: number) => void): { byHour: Float64Array; staleHour: Uint8Array; stale: number[]; staleCells: number; daysUsed: number } {
  const byHour = new Float64Array(hours * SLOTS);
  const staleHour = new Uint8Array(hours);
  const stale: number[] = [];
  let staleCells = 0;
  let daysUsed = 0;
  const { rows, tagsHi, tagsLo } = grid;
  const endHour = firstHour + hours;
  const dayEnd = Math.min(endHour, grid.dayLimit);
  for (let d = 0; d < blocks.length; d++) {
    const mine = blocks[d];
    const base = bases[d] as number;
    // Whole days (the window's part of them) below the day limit.
    for (let h0 = firstHour; h0 < dayEnd;) {
      const dayStart = h0 - (h0 % 24);
      const hEnd = Math.min(dayStart + 24, dayEnd);
      const cell = base + (dayStart - grid.dayFrom) / 24;
      let b = days[d]?.get(dayStart);
      if (b === undefined || base < 0 || b.stampRows !== rows[cell] || b.stampHi !== tagsHi[cell] || b.stampLo !== tagsLo[cell] || b.builtAt < builtAfter) {
        const c = base < 0 ? undefined : combineDay(mine, dayStart, SLOTS);
        if (c !== undefined && c.stampRows === rows[cell] && c.stampHi === tagsHi[cell] && c.stampLo === tagsLo[cell] && c.builtAt >= builtAfter) {
          keep(d, dayStart, c);
          b = c;
        } else {
          // Every hour block current by its hour stamp yet the day stamp differs: stamps that did not both land (day-stamps-backfill.ts).
          if (c !== undefined && c.builtAt >= builtAfter) diverged(d, dayStart);
          b = undefined;
        }
      }
      if (b === undefined) {
        for (let h = h0; h < hEnd; h++) staleHour[h - firstHour] = 1;
        for (let h = dayStart; h < dayStart + 24; h++) stale.push(d, h);
        staleCells += hEnd - h0;
      } else {
        daysUsed++;
        const bytes = b.bytes;
        const at = (h0 - firstHour) * SLOTS;
        const src = (h0 - dayStart) * SLOTS;
        for (let s = 0, n = (hEnd - h0) * SLOTS; s < n; s++) byHour[at + s] = (byHour[at + s] as number) + (bytes[src + s] as number);
      }
      h0 = hEnd;
    }
    // Single hours from the day limit on.
    for (let h = Math.max(firstHour, dayEnd); h < endHour; h++) {
      const b = mine === undefined ? undefined : mine.get(h);
      const cell = base + grid.days + h - grid.hourFrom;
      if (b === undefined || base < 0 || b.stampRows !== rows[cell] || b.stampHi !== tagsHi[cell] || b.stampLo !== tagsLo[cell] || b.builtAt < builtAfter) {
        stale.push(d, h);
        staleHour[h - firstHour] = 1;
        staleCells++;
        continue;
      }
      const bytes = b.bytes;
      const at = (h - firstHour) * SLOTS;
      for (let s = 0; s < SLOTS; s++) byHour[at + s] = (byHour[at + s] as number) + (bytes[s] as number);
    }
  }
  return { byHour, staleHour, stale, staleCells, daysUsed };
}

/**
 * Closed hours of the traffic cube's per-domain totals kept in this node's memory, per (project,
 * domain, hour): 12 five-minute byte totals each, so trafficSeries over days of many domains (the
 * bandwidth and traffic detail answers without filters) adds up blocks instead of having
 * ClickHouse aggregate every (domain, slot, protocol, region, isp, address family) row. Exact while
 * several nodes write, by the same rule as the request counts' hour blocks (hour-blocks.ts): stamps
 * of migration 009 (every insert into traffic_domains changes its hours' stamps, a retried write
 * bumps them), a block kept only when the stamps before and after its rows agree, and every query
 * using a block only when it has the current stamp (one shared stamps read, stamp-reads.ts). Hours
 * without a current block, the edges and the hour being written are read by SQL.
 *
 * The cost per answer is kept to a few milliseconds of the main thread (7 d x 100 domains: 16,800
 * hour blocks): closed UTC days are checked and added a day at a time (day-stamps.ts: one day stamp
 * per (domain, day), summed by ClickHouse, against a day block combined from the 24 hour blocks: 700
 * days and the open day's hours instead of 16,800 hours); the stamps are read as TabSeparated numbers
 * into typed arrays (stamp-grid.ts: no JSON, no object or string per row), each block keeps its stamp
 * as three numbers, the blocks are found by (project, domain) then hour or day (no string key per
 * cell), and they are added up by hour in one flat array before being spread over the answer's slots.
 */
export class TrafficBlocks {
  private readonly cache: BlockCache<Block>;
  readonly stats: BlockCache<Block>['stats'];
  /** The cache's blocks by (project, domain), then hour (kept in step with the cache: put, dropped). */
  private readonly byDomain = new Map<string, Map<number, Block>>();
  private readonly grids: DayGridStampReads;
  private readonly stampsTable: string;
  /** Day blocks by (project, domain), then the day's first hour (day-stamps.ts), and how many. */
  private readonly days = new Map<string, Map<number, DayBlock>>();
  private dayBlocks = 0;
  /** Day blocks combined from hour blocks, and used in answers that were taken from blocks (tests read them). */
  readonly dayStats = { combined: 0, used: 0, repaired: 0 };
  private repairing = false;

  constructor(private readonly server: ChConnection, private readonly names: SchemaNames, options: HourBlocksOptions = {}) {
    this.stampsTable = table(names, 'traffic_stamps');
    // The cache's string stamp reads are not used here (the grid reads are); it keeps the budget, the build queue and the counters.
    this.cache = new BlockCache<Block>(new StampReads(server, this.stampsTable), options, MAX_BLOCKS);
    this.stats = this.cache.stats;
    // Closed days read from the day stamps of migration 015 (one row per (domain, day)); up to DAY_GRID_READS
    // reads in flight, so the next batch's read overlaps the answers of the last (still exact: SharedReads).
    this.grids = new DayGridStampReads(server, this.stampsTable, table(names, 'traffic_day_stamps'), DAY_GRID_READS);
  }

  /** Stamps reads shared by queries (tests read them). */
  get stampStats(): DayGridStampReads['stats'] {
    return this.grids.stats;
  }

  private put(project: string, domain: string, hour: number, b: Block): void {
    for (const [k, old] of this.cache.put(stampKey(project, domain, hour), b)) {
      const [p, d, h] = k.split('\u0000') as [string, string, string];
      const m = this.byDomain.get(domainKey(p, d));
      if (m?.get(Number(h)) !== old) continue;
      m.delete(Number(h));
      if (m.size === 0) this.byDomain.delete(domainKey(p, d));
    }
    let m = this.byDomain.get(domainKey(project, domain));
    if (!m) this.byDomain.set(domainKey(project, domain), (m = new Map()));
    m.set(hour, b);
  }

  /**
   * trafficSeries of a totals-only filter from blocks plus SQL (5-minute rows of the hours without
   * a current block and of the edges), or undefined: the whole query by SQL.
   */
  async series(f: TrafficFilter, signal?: AbortSignal, now = Date.now()): Promise<Float64Array | undefined> {
    if (this.cache.closed || !totalsOnly(f) || f.from % SLOT_MS !== 0) return undefined;
    const count = Math.max(0, (f.to - f.from) / f.slotMs);
    const firstHour = Math.ceil(f.from / HOUR);
    const endHour = this.cache.endHour(f.to, now);
    if (!Number.isInteger(count) || endHour <= firstHour) return undefined;
    const domains = [...new Set(f.domains)];
    const grid = await this.grids.read(f.project, domains, firstHour, endHour, dayLimitAt(now, this.cache.closedAfterMs));
    if (signal?.aborted) return undefined;
    // Every current block added up by hour (12 slots each); the stale (domain, hour)s and their hours noted.
    const hours = endHour - firstHour;
    const keys = domains.map((d) => domainKey(f.project, d));
    const diverged: number[] = [];
    const added = addUp(keys.map((k) => this.byDomain.get(k)), keys.map((k) => this.days.get(k)),
      domains.map((d) => gridBase(grid, f.project, d, grid.from)), grid, firstHour, hours, now - this.cache.maxAgeMs,
      (d, dayStart, b) => this.keepDay(keys[d] as string, dayStart, b), (d, dayStart) => diverged.push(d, dayStart));
    if (diverged.length > 0) this.repair(f.project, domains, diverged);
    const { byHour, staleHour } = added;
    const stale: StaleCell[] = [];
    for (let i = 0; i < added.stale.length; i += 2) stale.push({ domain: domains[added.stale[i] as number] as string, hour: added.stale[i + 1] as number });
    const runs = sqlRanges(f.from, f.to, firstHour, endHour, staleHour).filter(([a, b]) => b > a);
    if (stale.length > 0) this.schedule(f.project, stale);
    if (this.cache.bySql(runs.length, added.staleCells, domains.length * hours)) return undefined;
    const out = new Float64Array(count);
    const rows = await Promise.all(runs.map(([a, b]) => this.server.rows(`SELECT slot, sum(bytes) AS b FROM ${table(this.names, 'traffic_domains')}
      WHERE project = ${quote(f.project)} AND domain IN ${quoteList(domains)} AND slot >= ${quote(a / SLOT_MS)} AND slot < ${quote(Math.ceil(b / SLOT_MS))}
        AND batch = '' GROUP BY slot`, signal)));
    for (const r of rows.flat()) {
      const i = Math.floor((num(r.slot) * SLOT_MS - f.from) / f.slotMs);
      if (i >= 0 && i < count) out[i] = (out[i] as number) + num(r.b);
    }
    for (let h = 0; h < hours; h++) {
      if (staleHour[h]) continue;
      const start = (firstHour + h) * HOUR - f.from;
      for (let s = 0; s < SLOTS; s++) {
        const v = byHour[h * SLOTS + s] as number;
        if (v === 0) continue;
        const i = Math.floor((start + s * SLOT_MS) / f.slotMs);
        if (i >= 0 && i < count) out[i] = (out[i] as number) + v;
      }
    }
    this.cache.answered(added.staleCells);
    this.dayStats.used += added.daysUsed;
    return out;
  }

  /** Keeps a day block combined from its hour blocks (all day blocks dropped beyond MAX_DAY_BLOCKS: they are combined again as asked). */
  private keepDay(key: string, dayStart: number, b: DayBlock): void {
    let m = this.days.get(key);
    if (!m) this.days.set(key, (m = new Map()));
    if (!m.has(dayStart)) {
      if (this.dayBlocks >= MAX_DAY_BLOCKS) {
        this.days.clear();
        this.dayBlocks = 0;
        this.days.set(key, (m = new Map()));
      }
      this.dayBlocks++;
    }
    m.set(dayStart, b);
    this.dayStats.combined++;
  }

  /**
   * Sets day stamps that differ from their hours' sums back to it (repairDayStamps), one repair at a time
   * (days asked for meanwhile wait for a later answer); `pairs`: (domain index, day's first hour) pairs.
   */
  private repair(project: string, domains: readonly string[], pairs: readonly number[]): void {
    if (this.repairing || this.cache.closed) return;
    const ds = new Set<string>();
    const days = new Set<number>();
    for (let i = 0; i < pairs.length; i += 2) {
      ds.add(domains[pairs[i] as number] as string);
      days.add((pairs[i + 1] as number) / 24);
    }
    this.repairing = true;
    this.dayStats.repaired++;
    repairDayStamps(this.server, this.names, project, [...ds], [...days]).catch(() => undefined).finally(() => {
      this.repairing = false;
    });
  }

  private schedule(project: string, stale: Array<{ domain: string; hour: number }>): void {
    scheduleRuns(this.cache, project, stale, BUILD_HOURS, (domains, from, to) => this.build(project, domains, from, to));
  }

  /** Builds the blocks of `domains` x hours [from, to): kept for each (domain, hour) whose stamp did not change meanwhile. */
  private async build(project: string, domains: string[], from: number, to: number): Promise<void> {
    if (this.cache.closed) return;
    const before = await readStampGrid(this.server, this.stampsTable, [project], domains, from, to);
    const rows = await this.server.rows(`SELECT domain, slot, sum(bytes) AS b FROM ${table(this.names, 'traffic_domains')}
      WHERE project = ${quote(project)} AND domain IN ${quoteList(domains)} AND slot >= ${quote(from * SLOTS)} AND slot < ${quote(to * SLOTS)}
        AND batch = '' GROUP BY domain, slot`);
    const after = await readStampGrid(this.server, this.stampsTable, [project], domains, from, to);
    const built = new Map<string, Float64Array>();
    for (const r of rows) {
      const slot = num(r.slot);
      const hour = Math.floor(slot / SLOTS);
      const k = stampKey(project, str(r.domain), hour);
      let bytes = built.get(k);
      if (!bytes) built.set(k, (bytes = new Float64Array(SLOTS)));
      bytes[slot - hour * SLOTS] = num(r.b);
    }
    const now = Date.now();
    for (const d of domains) {
      const base = gridBase(before, project, d, from);
      for (let h = from; h < to; h++) {
        const cell = base + h - from;
        const stamp = stampAt(before, cell);
        if (!sameStamp(stamp, after, cell)) {
          this.stats.discarded++;
          continue;
        }
        // Every block is made by this one literal (no spread: a spread copy gets a hidden class of its
        // own, which made addUp's property reads several times slower, measured).
        this.put(project, d, h, {
          stampRows: stamp.stampRows, stampHi: stamp.stampHi, stampLo: stamp.stampLo, stamp: `${stamp.stampRows}:${stamp.stampHi}:${stamp.stampLo}`,
          builtAt: now, bytes: built.get(stampKey(project, d, h)) ?? new Float64Array(SLOTS),
        });
      }
    }
    this.stats.built++;
  }

  close(): void {
    this.cache.closed = true;
  }
}
