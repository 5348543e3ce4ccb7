import type { DetailKind } from '../../contract/traffic/detail.js';
import type { TrafficFilter } from '../traffic.js';
import { BlockCache, domainKey, DomainHours, scheduleRuns, sqlRanges, type HourBlocksOptions, type StaleCell, type StampedBlock } from './block-cache.js';
import { num, str, type ChConnection } from './client.js';
import { table, type SchemaNames } from './schema.js';
import { quote, quoteList } from './sql.js';
import { repairDayStamps } from './day-stamps-backfill.js';
import { CoarseDayGridStampReads, type CoarseGrid } from './coarse-stamps.js';
import { combineDay, dayLimitAt, type DayBlock, type DayStampGrid } from './day-stamps.js';
import { gridBase, readStampGrid, sameStamp, stampAt, type NumericStamp } from './stamp-grid.js';
import { StampReads } from './stamp-reads.js';
import type { TrafficAnswerRequest, TrafficWorkerReply, TrafficWorkerRequest } from './traffic-block-worker.js';
import { BlockWorker, blockWorkerUrl, RenderedBodies, workerAnswer } from './worker-host.js';

const HOUR = 3_600_000;
const SLOT_MS = 300_000;
const SLOTS = 12;
/** Blocks kept at most (~250 bytes each: 31 d x 100 domains is 74,400). */
const MAX_BLOCKS = 200_000;
/** Hours built by one query (a run of stale hours of the same domains). */
const BUILD_HOURS = 24;

interface Block extends StampedBlock, NumericStamp {
  /**
   * Empty (NO_BYTES): the bytes per 5-minute slot of the hour (every protocol, region, isp and address
   * family together) are in the worker (traffic-block-worker.ts), as block `gen`.
   */
  bytes: Float64Array;
  gen: number;
}

/** A block's bytes on this thread: none (day blocks too are combined here for their stamps only; their bytes are in the worker). */
const NO_BYTES = new Float64Array(0);

/**
 * Where addUp puts a current block's part: slots [src, src + n) of block `b` go to slots [at, at + n) of the
 * hours added up; `d`: its domain's index, `unit`: its day's first hour (a day block) or its hour.
 */
type Take = (b: Block | DayBlock, src: number, at: number, n: number, d: number, unit: number) => void;

/** Whether the filter asks for a domain's totals (no app, stream, protocol, region, isp or ip type). */
export function totalsOnly(f: TrafficFilter): boolean {
  return f.app === undefined && f.stream === undefined && f.protocol === undefined && f.regions.length === 0 && f.isps.length === 0
    && f.ipType === undefined && f.domains.length > 0;
}

/** Group blocks kept at most (a day's: 288 doubles, ~2.4 kB): beyond, all are dropped (made again as asked). */
const MAX_GROUPS = 4096;

/** Blocks of days kept at most (a day block is 288 doubles, ~2.4 kB: ~20 MB); beyond, they are all dropped (rebuilt from the hour blocks). */
const MAX_DAY_BLOCKS = Math.ceil(MAX_BLOCKS / 24);
/** Day grid stamps reads in flight at most (see the constructor). */
const DAY_GRID_READS = 1;

/**
 * The current blocks of `domains` over hours [firstHour, firstHour + hours), each given to `take` with where
 * it is added up by hour (12 slots each, in the order to add them), which of those hours have a stale (domain, hour), the (domain index, hour) pairs to build and
 * how many of the answer's (domain, hour)s are stale. Below the grid's day limit a whole UTC day is
 * checked at once against its day stamp (day-stamps.ts): its day block, or one combined now from its 24
 * hour blocks (kept through `keep`); a stale day makes its hours in the window stale and queues its 24
 * hours. From the limit on, each hour block is checked against its hour stamp. A plain function of typed
 * arrays and two block shapes, so V8 keeps it optimized: 7 d x 100 domains is 700 days and the open day's hours.
 */
function addUp(blocks: ReadonlyArray<Map<number, Block> | undefined>, days: ReadonlyArray<Map<number, DayBlock> | undefined>,
  bases: readonly number[], grid: DayStampGrid, grouped: Grouped, firstHour: number, hours: number, builtAfter: number,
  keep: (d: number, dayStart: number, b: DayBlock) => void, diverged: (d: number, dayStart: number) => void,
  take: Take): { staleHour: Uint8Array; stale: number[]; staleCells: number; daysUsed: number } {
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
      if (grouped.days[(dayStart - grid.dayFrom) / 24] !== 0) {
        h0 = hEnd;
        continue;
      }
      const cell = base + (dayStart - grid.dayFrom) / 24;
      let b = days[d]?.get(dayStart);
      if (b === undefined || base < 0 || b.stampRows !== rows[cell] || b.stampHi !== tagsHi[cell] || b.stampLo !== tagsLo[cell] || b.builtAt < builtAfter) {
        // 0 slots: the stamps only (the hour blocks' bytes are in the worker, which combines them: traffic-block-worker.ts).
        const c = base < 0 ? undefined : combineDay(mine, dayStart, 0);
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
        take(b, (h0 - dayStart) * SLOTS, (h0 - firstHour) * SLOTS, (hEnd - h0) * SLOTS, d, dayStart);
      }
      h0 = hEnd;
    }
    // Single hours from the day limit on.
    for (let h = Math.max(firstHour, dayEnd); h < endHour; h++) {
      if (grouped.hours[h - grid.hourFrom] !== 0) continue;
      const b = mine === undefined ? undefined : mine.get(h);
      const cell = base + grid.days + h - grid.hourFrom;
      if (b === undefined || base < 0 || b.stampRows !== rows[cell] || b.stampHi !== tagsHi[cell] || b.stampLo !== tagsLo[cell] || b.builtAt < builtAfter) {
        stale.push(d, h);
        staleHour[h - firstHour] = 1;
        staleCells++;
        continue;
      }
      take(b, 0, (h - firstHour) * SLOTS, SLOTS, d, h);
    }
  }
  return { staleHour, stale, staleCells, daysUsed };
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
 * hour blocks): closed UTC days are checked a day at a time (day-stamps.ts: one day stamp per (domain,
 * day), summed by ClickHouse, against the sum of the stamps of its 24 hour blocks: 700 days and the open
 * day's hours instead of 16,800 hours); the stamps are read as TabSeparated numbers into typed arrays
 * (stamp-grid.ts: no JSON, no object or string per row), each block keeps its stamp as three numbers,
 * and the blocks are found by (project, domain) then hour or day (no string key per cell). The blocks'
 * bytes are in a worker thread (traffic-block-worker.ts): this thread keeps only which blocks exist
 * (stamps, build times, the budget, a generation each) and checks the stamps; the worker is sent the
 * built hours' bytes, which day blocks to combine, and per answer the current blocks by generation (a
 * typed array) with the SQL-read rows, and it adds them up, spreads them over the answer's slots and
 * renders the detail body (detailBody: its buffer comes back with release). A worker that fails takes
 * every block with it: answers by SQL until they are built again (in a new worker).
 */
export class TrafficBlocks {
  private readonly cache: BlockCache<Block>;
  readonly stats: BlockCache<Block>['stats'];
  /** The cache's blocks by (project, domain), then hour (kept in step with the cache: put, dropped). */
  private readonly byDomain: DomainHours<Block>;
  private readonly grids: CoarseDayGridStampReads;
  private readonly stampsTable: string;
  /** Day blocks by (project, domain), then the day's first hour (day-stamps.ts), and how many. */
  private readonly days = new Map<string, Map<number, DayBlock>>();
  private dayBlocks = 0;
  /** Day blocks combined from hour blocks, and used in answers that were taken from blocks (tests read them). */
  readonly dayStats = { combined: 0, used: 0, repaired: 0, grouped: 0 };
  private repairing = false;
  /** The worker holding the blocks' bytes, or undefined (no worker script): every answer by SQL. */
  private readonly worker: BlockWorker<TrafficWorkerRequest, TrafficWorkerReply> | undefined;
  /** Names each block (hour or day) given to the worker. */
  private gen = 0;
  /** The generations of the day blocks (combineDay makes them: they keep its shape). */
  private readonly dayGens = new WeakMap<DayBlock, number>();
  /** Blocks dropped here, dropped in the worker with the next message. */
  private drops: number[] = [];
  private readonly bodies = new RenderedBodies(4);
  /** Group blocks (GroupPlan) by project and asked domains (GroupPlan.setKey), then by day or hour (GroupPlan.unitKey), and how many. */
  private readonly groups = new Map<string, Map<number, Group>>();
  private groupCount = 0;
  /** Answers the worker gave (tests read them). */
  workerAnswers = 0;

  constructor(private readonly server: ChConnection, private readonly names: SchemaNames, options: HourBlocksOptions = {}) {
    this.stampsTable = table(names, 'traffic_stamps');
    // The cache's string stamp reads are not used here (the grid reads are); it keeps the budget, the build queue and the counters.
    this.cache = new BlockCache<Block>(new StampReads(server, this.stampsTable), options, MAX_BLOCKS);
    this.byDomain = new DomainHours(this.cache);
    this.stats = this.cache.stats;
    // Closed days read from the day stamps of migration 015 (one row per (domain, day)); up to DAY_GRID_READS
    // reads in flight (still exact at any number: SharedReads). One: the answers that arrive while a read is
    // in flight share the next one. Two overlapped reads and answers, but each read served fewer answers and
    // clickhouse-server's CPU per answer rose (same run, 100 domains, two rounds each: bandwidth 7 d 442-510
    // req/s with two, 510-568 with one; traffic 31 d 465 and 530-565; clickhouse-server 0.68-0.76 cores with
    // two, 0.53-0.57 with one; p99 36-56 ms with two, 32-37 with one).
    this.grids = new CoarseDayGridStampReads(server, this.stampsTable, table(names, 'traffic_day_stamps'), table(names, 'traffic_project_day_stamps'),
      DAY_GRID_READS);
    // options.workerUrl names the hour-block worker's script: this one is beside it.
    const url = options.workerUrl ? new URL('./traffic-block-worker.js', options.workerUrl) : blockWorkerUrl('traffic-block-worker.js');
    this.worker = url && new BlockWorker(url, () => this.forget(), options.threadNice);
  }

  /** Stamps reads shared by queries (tests read them). */
  get stampStats(): CoarseDayGridStampReads['stats'] {
    return this.grids.stats;
  }

  /** The coarse and fine stamps reads of those (coarse-stamps.ts; tests and the bench read them). */
  get coarseStats(): CoarseDayGridStampReads['grids']['stats'] {
    return this.grids.grids.stats;
  }

  /** The worker failed: its blocks are gone, so every block known here is forgotten (built again as asked). */
  private forget(): void {
    this.cache.clear();
    this.byDomain.clear();
    this.days.clear();
    this.dayBlocks = 0;
    this.groups.clear();
    this.groupCount = 0;
    this.drops = [];
  }

  /** Tests: ends the worker as a crash would. */
  async stopWorker(): Promise<void> {
    await this.worker?.stop();
  }

  /** Whether the worker runs (tests read it). */
  get workerRunning(): boolean {
    return this.worker?.running ?? false;
  }

  /** Posts `m` to the worker, after the drops noted since the last message. */
  private post(m: TrafficWorkerRequest, transfer: ArrayBuffer[] = []): void {
    this.flushDrops();
    this.worker?.post(m, transfer);
  }

  private flushDrops(): void {
    if (this.drops.length === 0) return;
    const gens = this.drops;
    this.drops = [];
    this.worker?.post({ type: 'drop', gens });
  }

  /**
   * trafficSeries of a totals-only filter from blocks plus SQL (5-minute rows of the hours without
   * a current block and of the edges), or undefined: the whole query by SQL.
   */
  async series(f: TrafficFilter, signal?: AbortSignal, now = Date.now()): Promise<Float64Array | undefined> {
    const r = await this.answer(f, null, signal, now);
    return r && 'series' in r ? r.series : undefined;
  }

  /** The detail body of `kind` (renderDetail over series(f)) rendered by the worker, or undefined: by SQL. Give it back with release once sent. */
  async detailBody(f: TrafficFilter, kind: DetailKind, signal?: AbortSignal, now = Date.now()): Promise<Uint8Array | undefined> {
    const r = await this.answer(f, kind, signal, now);
    if (!r || !('body' in r)) return undefined;
    this.bodies.add(r.body);
    return r.body;
  }

  /** A body from detailBody has been sent whole: its buffer goes back to the worker (worker-host.ts RenderedBodies). */
  release(bytes: Uint8Array): void {
    if (!this.cache.closed) this.bodies.release(bytes);
  }

  /** Buffers given back and not yet sent to the worker (tests read it). */
  get spareCount(): number {
    return this.bodies.count;
  }

  private async answer(f: TrafficFilter, render: DetailKind | null, signal: AbortSignal | undefined, now: number): Promise<TrafficWorkerReply | undefined> {
    if (!this.worker || this.cache.closed || !totalsOnly(f) || f.from % SLOT_MS !== 0) return undefined;
    const count = Math.max(0, (f.to - f.from) / f.slotMs);
    const firstHour = Math.ceil(f.from / HOUR);
    const endHour = this.cache.endHour(f.to, now);
    if (!Number.isInteger(count) || endHour <= firstHour) return undefined;
    const domains = [...new Set(f.domains)];
    const grid = await this.grids.read(f.project, domains, firstHour, endHour, dayLimitAt(now, this.cache.closedAfterMs));
    if (signal?.aborted) return undefined;
    // Every current block picked (its generation and where it is added up by hour); the stale (domain, hour)s and their hours noted.
    const hours = endHour - firstHour;
    const keys = domains.map((d) => domainKey(f.project, d));
    const diverged: number[] = [];
    const picks = new Picks(domains.length * (Math.ceil(hours / 24) + 1 + Math.min(hours, 24)));
    const builtAfter = now - this.cache.maxAgeMs;
    const groups = new GroupPlan(f.project, domains, grid, firstHour, endHour);
    const grouped = this.groupsFor(groups, builtAfter, picks);
    const added = addUp(keys.map((k) => this.byDomain.get(k)), keys.map((k) => this.days.get(k)),
      domains.map((d) => gridBase(grid, f.project, d, grid.from)), grid, grouped, firstHour, hours, builtAfter,
      (d, dayStart, b) => this.keepDay(keys[d] as string, dayStart, b), (d, dayStart) => diverged.push(d, dayStart),
      (b, src, at, n, d, unit) => {
        const gen = 'gen' in b ? b.gen : this.dayGens.get(b) as number;
        picks.push(gen, src, at, n);
        groups.note(d, unit, gen, b.builtAt, 'gen' in b);
      });
    if (diverged.length > 0) this.repair(f.project, domains, diverged);
    this.makeGroups(groups);
    added.daysUsed += groups.daysUsed;
    const { staleHour } = added;
    const stale: StaleCell[] = [];
    for (let i = 0; i < added.stale.length; i += 2) stale.push({ domain: domains[added.stale[i] as number] as string, hour: added.stale[i + 1] as number });
    const runs = sqlRanges(f.from, f.to, firstHour, endHour, staleHour).filter(([a, b]) => b > a);
    if (stale.length > 0) this.schedule(f.project, stale);
    if (this.cache.bySql(runs.length, added.staleCells, domains.length * hours)) return undefined;
    const rows = (await Promise.all(runs.map(([a, b]) => this.server.rows(`SELECT slot, sum(bytes) AS b FROM ${table(this.names, 'traffic_domains')}
      WHERE project = ${quote(f.project)} AND domain IN ${quoteList(domains)} AND slot >= ${quote(a / SLOT_MS)} AND slot < ${quote(Math.ceil(b / SLOT_MS))}
        AND batch = '' GROUP BY slot`, signal)))).flat();
    const extra = { at: new Int32Array(rows.length), bytes: new Float64Array(rows.length) };
    let n = 0;
    for (const r of rows) {
      const i = Math.floor((num(r.slot) * SLOT_MS - f.from) / f.slotMs);
      if (i < 0 || i >= count) continue;
      extra.at[n] = i;
      extra.bytes[n++] = num(r.b);
    }
    const { gens, parts } = picks.done();
    const m: TrafficAnswerRequest = {
      type: 'answer', gens, parts, firstHour, hours, staleHour, from: f.from, to: f.to, slotMs: f.slotMs, count,
      extra: { at: extra.at.subarray(0, n), bytes: extra.bytes.subarray(0, n) }, render,
    };
    const transfer = [gens.buffer as ArrayBuffer, parts.buffer as ArrayBuffer, staleHour.buffer as ArrayBuffer, extra.at.buffer, extra.bytes.buffer];
    // A rendered answer takes a sent one's buffer along.
    const spare = render === null ? undefined : this.bodies.take();
    if (spare) {
      m.spare = spare;
      transfer.push(spare);
    }
    this.flushDrops();
    const worker = this.worker;
    const reply = await workerAnswer(this.stats, () => worker.call(m, transfer));
    if (!reply) {
      // A block it names was not in the worker (one dropped meanwhile, or of a group that could not be made): no group is trusted to be there.
      this.dropGroups();
      return undefined;
    }
    this.workerAnswers++;
    this.cache.answered(added.staleCells);
    this.dayStats.used += added.daysUsed;
    return reply;
  }

  /**
   * The group blocks this answer can take (GroupPlan): a day (or hour) whose cells are kept stamps with the
   * version its group was made under, every one of its blocks younger than the maximum age. Each is picked
   * once for the whole day (hour) and addUp skips that day (hour) for every domain.
   */
  private groupsFor(plan: GroupPlan, builtAfter: number, picks: Picks): Grouped {
    const grouped: Grouped = { days: new Float64Array(plan.grid.days), hours: new Float64Array(Math.max(0, plan.grid.hours - plan.grid.days)) };
    const mine = this.groups.get(plan.setKey);
    for (const u of mine === undefined ? [] : plan.units()) {
      const g = mine?.get(GroupPlan.unitKey(u.unit, u.day));
      if (g === undefined || g.version !== u.version || g.builtAt < builtAfter) continue;
      if (u.day) {
        grouped.days[u.index] = g.gen;
        plan.daysUsed += plan.domains.length;
      } else {
        grouped.hours[u.index] = g.gen;
      }
      picks.push(g.gen, u.src, u.at, u.n);
    }
    this.dayStats.grouped += grouped.days.reduce((n, g) => n + (g === 0 ? 0 : 1), 0);
    return grouped;
  }

  /** Makes the group blocks of the days (hours) whose every domain's block this answer took, under kept stamps (GroupPlan). */
  private makeGroups(plan: GroupPlan): void {
    for (const c of plan.complete()) {
      const key = GroupPlan.unitKey(c.unit, c.day);
      const old = this.groups.get(plan.setKey)?.get(key);
      if (old !== undefined && old.version === c.version && old.builtAt >= c.builtAt) continue;
      if (old !== undefined) this.drops.push(old.gen);
      if (old === undefined && this.groupCount >= MAX_GROUPS) this.dropGroups();
      let mine = this.groups.get(plan.setKey);
      if (mine === undefined) this.groups.set(plan.setKey, (mine = new Map()));
      const gen = ++this.gen;
      this.post({ type: 'group', gen, parts: c.gens });
      mine.set(key, { gen, version: c.version, builtAt: c.builtAt });
      if (old === undefined) this.groupCount++;
    }
  }

  /** Drops every group block (here, and in the worker with the next message). */
  private dropGroups(): void {
    for (const m of this.groups.values()) for (const g of m.values()) this.drops.push(g.gen);
    this.groups.clear();
    this.groupCount = 0;
  }

  /** Keeps a day block combined from its hour blocks (all day blocks dropped beyond MAX_DAY_BLOCKS: they are combined again as asked). */
  private keepDay(key: string, dayStart: number, b: DayBlock): void {
    let m = this.days.get(key);
    if (!m) this.days.set(key, (m = new Map()));
    const old = m.get(dayStart);
    if (old === undefined) {
      if (this.dayBlocks >= MAX_DAY_BLOCKS) {
        for (const dm of this.days.values()) for (const d of dm.values()) this.drops.push(this.dayGens.get(d) as number);
        this.days.clear();
        this.dayBlocks = 0;
        this.days.set(key, (m = new Map()));
      }
      this.dayBlocks++;
    } else {
      this.drops.push(this.dayGens.get(old) as number);
    }
    // The worker combines the same 24 hour blocks (combineDay found every one of them in this map).
    const hourBlocks = this.byDomain.get(key);
    const hours: number[] = [];
    for (let h = dayStart; h < dayStart + 24; h++) hours.push((hourBlocks?.get(h) as Block).gen);
    const gen = ++this.gen;
    this.dayGens.set(b, gen);
    // Combined for its stamps only (no bytes here): the one shared empty array, the same field (so the same shape).
    b.bytes = NO_BYTES;
    this.post({ type: 'day', gen, hours });
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
    // The day stamps change without their coarse stamp: the kept ones of those days are read again, once repaired.
    const dayList = [...days];
    this.grids.grids.forget(project, dayList);
    repairDayStamps(this.server, this.names, project, [...ds], dayList).catch(() => undefined).finally(() => {
      this.grids.grids.forget(project, dayList);
      this.repairing = false;
    });
  }

  private schedule(project: string, stale: Array<{ domain: string; hour: number }>): void {
    scheduleRuns(this.cache, project, stale, BUILD_HOURS, (domains, from, to) => this.build(project, domains, from, to));
  }

  /** Builds the blocks of `domains` x hours [from, to): kept for each (domain, hour) whose stamp did not change meanwhile. */
  private async build(project: string, domains: string[], from: number, to: number): Promise<void> {
    if (this.cache.closed || !this.worker) return;
    const before = await readStampGrid(this.server, this.stampsTable, [project], domains, from, to);
    const rows = await this.server.rows(`SELECT domain, slot, sum(bytes) AS b FROM ${table(this.names, 'traffic_domains')}
      WHERE project = ${quote(project)} AND domain IN ${quoteList(domains)} AND slot >= ${quote(from * SLOTS)} AND slot < ${quote(to * SLOTS)}
        AND batch = '' GROUP BY domain, slot`);
    const after = await readStampGrid(this.server, this.stampsTable, [project], domains, from, to);
    if (this.cache.closed) return;
    // The bytes of every (domain, hour), 12 slots each, domain by domain.
    const hours = to - from;
    const bytes = new Float64Array(domains.length * hours * SLOTS);
    const index = new Map(domains.map((d, i) => [d, i]));
    for (const r of rows) {
      const slot = num(r.slot);
      const d = index.get(str(r.domain));
      if (d !== undefined) bytes[(d * hours + Math.floor(slot / SLOTS) - from) * SLOTS + (slot % SLOTS)] = num(r.b);
    }
    // The blocks kept: posted to the worker before they are known here, so every answer that names one finds it there.
    const kept: Array<[string, number, NumericStamp]> = [];
    for (const d of domains) {
      const base = gridBase(before, project, d, from);
      for (let h = from; h < to; h++) {
        const cell = base + h - from;
        const stamp = stampAt(before, cell);
        if (!sameStamp(stamp, after, cell)) {
          this.stats.discarded++;
          continue;
        }
        kept.push([d, h, stamp]);
      }
    }
    const firstGen = this.gen + 1;
    this.gen += kept.length;
    const gens = new Float64Array(kept.length);
    const keptBytes = new Float64Array(kept.length * SLOTS);
    kept.forEach(([d, h], k) => {
      gens[k] = firstGen + k;
      const at = ((index.get(d) as number) * hours + h - from) * SLOTS;
      keptBytes.set(bytes.subarray(at, at + SLOTS), k * SLOTS);
    });
    this.post({ type: 'keep', gens, bytes: keptBytes }, [gens.buffer, keptBytes.buffer]);
    const now = Date.now();
    kept.forEach(([d, h, stamp], k) => {
      // Every block is made by this one literal (no spread: a spread copy gets a hidden class of its
      // own, which made addUp's property reads several times slower, measured).
      this.byDomain.put(project, d, h, {
        stampRows: stamp.stampRows, stampHi: stamp.stampHi, stampLo: stamp.stampLo, stamp: `${stamp.stampRows}:${stamp.stampHi}:${stamp.stampLo}`,
        builtAt: now, bytes: NO_BYTES, gen: firstGen + k,
      }, (old) => this.drops.push(old.gen));
    });
    this.stats.built++;
  }

  async close(): Promise<void> {
    this.cache.closed = true;
    this.bodies.clear();
    await this.worker?.close();
  }
}

/** An answer's parts of blocks: the generation of each, and (first slot in the block, first slot of the hours, slots), in growing typed arrays. */
class Picks {
  private gens: Float64Array;
  private parts: Int32Array;
  private n = 0;

  constructor(capacity: number) {
    this.gens = new Float64Array(Math.max(16, capacity));
    this.parts = new Int32Array(this.gens.length * 3);
  }

  push(gen: number, src: number, at: number, len: number): void {
    if (this.n === this.gens.length) {
      const gens = new Float64Array(this.n * 2);
      const parts = new Int32Array(this.n * 6);
      gens.set(this.gens);
      parts.set(this.parts);
      this.gens = gens;
      this.parts = parts;
    }
    const p = this.parts;
    this.gens[this.n] = gen;
    p[this.n * 3] = src;
    p[this.n * 3 + 1] = at;
    p[this.n * 3 + 2] = len;
    this.n++;
  }

  /** The parts (views of the arrays: their buffers may be transferred). */
  done(): { gens: Float64Array; parts: Int32Array } {
    return { gens: this.gens.subarray(0, this.n), parts: this.parts.subarray(0, this.n * 3) };
  }
}

/** The group blocks addUp skips: by day index from the grid's dayFrom, and by hour from its hourFrom, the group's generation (0: none). */
interface Grouped {
  days: Float64Array;
  hours: Float64Array;
}

/** A group block: its generation in the worker, the kept stamps' version it was made under, its oldest block's build time. */
interface Group {
  gen: number;
  version: number;
  builtAt: number;
}

/**
 * Group blocks of one answer. A group block is the sum of the blocks of every asked domain of one closed
 * day (their day blocks) or one hour (their hour blocks), made in the worker. It stands for those blocks
 * while the answer's grid cells of that day are the very kept stamps (coarse-stamps.ts: the same version)
 * its blocks were all found current against: the kept stamps of a version never change, so each of its
 * blocks is still current and the group is their sum (the integers per slot add up exactly in any order).
 * So a 7-day answer of 100 domains with nothing written adds up 8 groups and today's hour groups, instead
 * of checking and adding 700 day blocks and every domain's hours of today.
 */
class GroupPlan {
  private readonly p: number;
  /** The project and the asked domains, as the group blocks are found by. */
  readonly setKey: string;
  /** The blocks this answer took per unit with kept stamps (by unit: generation per domain, how many, oldest build). */
  private readonly taken = new Map<number, { gens: number[]; n: number; builtAt: number; version: number; day: boolean }>();
  daysUsed = 0;

  constructor(private readonly project: string, readonly domains: readonly string[], readonly grid: CoarseGrid,
    private readonly firstHour: number, private readonly endHour: number) {
    this.p = grid.projects.get(project) ?? -1;
    this.setKey = `${project}\u0000${domains.join('\u0000')}`;
  }

  /** A day (by its first hour) or an hour, as a number: the key of its group block among those of one setKey. */
  static unitKey(unit: number, day: boolean): number {
    return unit * 2 + (day ? 1 : 0);
  }

  /** The kept stamps' version of a day's cells (`day`: a closed day, by its first hour; else an hour), or 0. */
  private version(unit: number, day: boolean): number {
    const g = this.grid;
    if (this.p < 0) return 0;
    if (day) return g.keptDays[this.p * g.days + (unit - g.dayFrom) / 24] ?? 0;
    return g.keptHours[this.p * g.hourDays + Math.floor(unit / 24) - Math.floor(g.hourFrom / 24)] ?? 0;
  }

  /** The answer's days and hours with kept stamps, with where each is added up (as addUp would add its blocks). */
  *units(): Generator<{ unit: number; day: boolean; index: number; version: number; src: number; at: number; n: number }> {
    const g = this.grid;
    const dayEnd = Math.min(this.endHour, g.dayLimit);
    for (let h0 = this.firstHour; h0 < dayEnd;) {
      const dayStart = h0 - (h0 % 24);
      const hEnd = Math.min(dayStart + 24, dayEnd);
      const version = this.version(dayStart, true);
      if (version !== 0) {
        yield { unit: dayStart, day: true, index: (dayStart - g.dayFrom) / 24, version, src: (h0 - dayStart) * SLOTS, at: (h0 - this.firstHour) * SLOTS, n: (hEnd - h0) * SLOTS };
      }
      h0 = hEnd;
    }
    for (let h = Math.max(this.firstHour, dayEnd); h < this.endHour; h++) {
      const version = this.version(h, false);
      if (version !== 0) yield { unit: h, day: false, index: h - g.hourFrom, version, src: 0, at: (h - this.firstHour) * SLOTS, n: SLOTS };
    }
  }

  /** addUp took domain `d`'s block `gen` of `unit` (a day block when not `hour`). */
  note(d: number, unit: number, gen: number, builtAt: number, hour: boolean): void {
    const day = !hour;
    let t = this.taken.get(unit);
    if (t === undefined) {
      const version = this.version(unit, day);
      if (version === 0) return;
      this.taken.set(unit, (t = { gens: new Array<number>(this.domains.length).fill(0), n: 0, builtAt, version, day }));
    }
    if (t.gens[d] === 0) t.n++;
    t.gens[d] = gen;
    if (builtAt < t.builtAt) t.builtAt = builtAt;
  }

  /** The units whose every domain's block was taken: a group can be made of them. */
  *complete(): Generator<{ unit: number; day: boolean; version: number; builtAt: number; gens: number[] }> {
    for (const [unit, t] of this.taken) if (t.n === this.domains.length) yield { unit, day: t.day, version: t.version, builtAt: t.builtAt, gens: t.gens };
  }
}
