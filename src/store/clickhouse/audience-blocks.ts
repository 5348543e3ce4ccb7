import type { UsersFilter } from '../audience.js';
import { addSessionViewers, blockStart } from '../audience-flv.js';
import { BlockCache, domainKey, DomainHours, EMPTY_STAMP, readStamps, scheduleRuns, sqlRanges, staleCells, type HourBlocksOptions, type StaleCell, type StampedBlock } from './block-cache.js';
import { num, str, type ChConnection } from './client.js';
import { table, type SchemaNames } from './schema.js';
import { quote, quoteList } from './sql.js';
import { AUDIENCE_DAY_STAMPS, repairDayStamps } from './day-stamps-backfill.js';
import { dayLimitAt, DayGridStampReads, type DayStampGrid } from './day-stamps.js';
import { gridBase, readStampGrid, type NumericStamp, type StampGrid } from './stamp-grid.js';
import { stampKey, StampReads } from './stamp-reads.js';
import { usersEntries, type UsersPart } from './users-parts.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const MINUTES = 60;
/** Blocks kept at most (~1 KB each: 31 d x 10 domains is 7,440). */
const MAX_BLOCKS = 50_000;
/**
 * Bytes of closed days' rendered users entries kept at most (DayRecord.entries: a day at 300 s is ~13 KB, at 60 s ~65 KB;
 * 31 d x 10 domains at both ~24 MB); beyond it a day's entries are rendered for the answer and not kept.
 */
const MAX_ENTRY_BYTES = 64 * 2 ** 20;
/**
 * Bytes one slot's users entry takes at most: `{"value":<a count below 2^53>,"time":"<20 characters>"}` and its comma is
 * 57; what keeping a day's entries would take is known before they are made.
 */
const ENTRY_BYTES_BOUND = 64;
/**
 * Slots of days' entries one answer renders at most on the main thread (~25 ns each: ~75 µs; two days at 60 s, ten at 300 s):
 * the first answers after the blocks of 31 d at 60 s are built make their 30 days' entries a few at a time (~1.4 ms all at
 * once, more on a busy machine); until a day has them, its slots are rendered with the answer's (by a worker when many).
 */
const ENTRY_SLOTS_PER_ANSWER = 3000;
/** Hours built by one query (a run of stale hours of the same domains). */
const BUILD_HOURS = 24;
/**
 * How long at most the users series' stamps read after one returned waits for the clients it answered to ask again
 * (SharedReads' holdMs, as the portraits' day stamps read: portrait-days.ts): on a busy node one read then serves every
 * client instead of two half-full reads alternating (each read costs clickhouse-server ~2 ms of CPU: users 31 d of a
 * head domain on the dense dataset, 0.26 reads per answer without it).
 */
const GRID_HOLD_MS = 2;

/**
 * A domain's audience over a run of minutes, every app, stream, protocol, province and carrier: what
 * the users series without filters and the whole domain's portrait are made of. Index i: minute `first + i`.
 */
export interface DomainMinutes {
  /** Online viewers: the cells' viewers + FLV/RTMP sessions open (opens - closes from the quarter-hour) + distinct HLS (app, stream, IP). */
  viewers: Float64Array;
  bytes: Float64Array;
  /** Lines logged. */
  requests: Float64Array;
  /** Play milliseconds: the cells' + one minute per HLS viewer-minute. */
  playMs: Float64Array;
}

interface Block extends StampedBlock, NumericStamp {
  /** Minutes 0..59 of the hour. */
  viewers: Float64Array;
  bytes: Float64Array;
  /** The hour's totals. */
  requests: number;
  playMs: number;
  /**
   * The largest viewers of each run of `per` minutes of the hour (60 / per of them; made at the first answer with such slots), or undefined;
   * `plain`: none below 0 nor -0 (each is then its slot's value as it is: usersSlots copies them).
   */
  slotMax?: { per: number; values: Float64Array; plain: boolean };
  /** The day record made of this block and the other 23 of its UTC day (dropped when any of them leaves). */
  day?: DayRecord;
}

/**
 * A closed UTC day's 24 hour blocks of one (project, domain) taken together, so a users answer checks the day by
 * one comparison with its day stamp and copies its slot maxima at once, not 24 blocks one by one: the sum of the
 * blocks' stamps (rows, tags mod 2^64 in 32-bit halves, as the day stamps hold them), their oldest build time, and
 * the largest viewers of each slot of the day for the last slot size asked. Made from the 24 blocks present, kept
 * until one of them leaves the node's blocks (replaced by a new build or dropped to make room: `valid` turns false and
 * the record is forgotten), so it always says what its 24 blocks say.
 */
interface DayRecord extends NumericStamp {
  valid: boolean;
  /** The (project, domain) key and the day's first hour (where it is kept). */
  key: string;
  dayStart: number;
  blocks: Block[];
  builtAt: number;
  /**
   * The largest viewers of each slot of the day by slot size (users 7 d and 31 d ask two), each made at the first answer with
   * it, at least 0 (a slot's value in the series: copied as they are).
   */
  slotMax: Array<{ per: number; values: Float64Array }>;
  /**
   * The users answers' entries of the day's slots (users-parts.ts usersEntries over `slotMax`'s values of that size and the
   * day's slot times) by slot size, each made at the first answer that copies them (at most DAY_SLOT_SIZES, the oldest goes):
   * an answer copies a current day's bytes instead of rendering its slots again.
   */
  entries: Array<{ per: number; bytes: Uint8Array }>;
}

const TWO_32 = 4_294_967_296;

/**
 * Which hours of [firstHour, endHour) of one (project, domain) have no current block (`hours`: its blocks by
 * hour; `base`: its first cell in the day grid, -1 when the grid lacks it): below the grid's day limit a UTC
 * day at a time, its day stamp (migration 017: the sum of its 24 hour stamps) against the sum of the stamps
 * its 24 hour blocks were built with (`dayOf`: the day's record of its 24 blocks, or undefined when one is missing): equal, and every
 * block built after `builtAfter`, makes the day's hours current (day-stamps.ts tells why that is exact; `days[i]`: the
 * record of the window's i-th day from the day of firstHour, when current); else
 * the window's hours of that day are stale and all 24 are to build (a present block may be outdated). A day whose 24 blocks are all there and
 * fresh yet whose day stamp differs is `diverged` (an insert whose hour and day stamps did not both land:
 * the caller repairs the day stamp). From the day limit on, each hour against its own stamp.
 */
function checkHours(domain: string, hours: ReadonlyMap<number, Block> | undefined, dayOf: (dayStart: number) => DayRecord | undefined, grid: DayStampGrid,
  base: number, firstHour: number, endHour: number, builtAfter: number): { staleHour: Uint8Array; stale: StaleCell[]; diverged: number[]; daysUsed: number; days: Array<DayRecord | undefined> } {
  const staleHour = new Uint8Array(endHour - firstHour);
  const stale: StaleCell[] = [];
  const diverged: number[] = [];
  const days: Array<DayRecord | undefined> = [];
  let daysUsed = 0;
  const dayEnd = Math.min(endHour, grid.dayLimit);
  for (let h0 = firstHour; h0 < dayEnd;) {
    const dayStart = h0 - (h0 % 24);
    const hEnd = Math.min(dayStart + 24, dayEnd);
    const rec = hours === undefined ? undefined : dayOf(dayStart);
    const cell = base < 0 ? -1 : base + (dayStart - grid.dayFrom) / 24;
    let current = false;
    if (rec !== undefined && rec.builtAt >= builtAfter && cell >= 0) {
      current = rec.stampRows === grid.rows[cell] && rec.stampHi === grid.tagsHi[cell] && rec.stampLo === grid.tagsLo[cell];
      if (!current) diverged.push(dayStart / 24);
    }
    if (current) {
      daysUsed++;
      days.push(rec);
    } else {
      days.push(undefined);
      for (let h = h0; h < hEnd; h++) staleHour[h - firstHour] = 1;
      // All 24 (built again with their hour stamps): a block of the day may be outdated though present.
      for (let h = dayStart; h < dayStart + 24; h++) stale.push({ domain, hour: h });
    }
    h0 = hEnd;
  }
  for (let h = Math.max(firstHour, dayEnd); h < endHour; h++) {
    const b = hours?.get(h);
    const cell = base < 0 ? -1 : base + grid.days + h - grid.hourFrom;
    if (b !== undefined && b.builtAt >= builtAfter && cell >= 0 && b.stampRows === grid.rows[cell] && b.stampHi === grid.tagsHi[cell] && b.stampLo === grid.tagsLo[cell]) continue;
    staleHour[h - firstHour] = 1;
    stale.push({ domain, hour: h });
  }
  return { staleHour, stale, diverged, daysUsed, days };
}

/**
 * The record of the 24 blocks of the day from hour `dayStart` (`hours`: the domain's blocks by hour), made now when
 * `kept` has none or it is no longer valid; undefined when a block of the day is missing.
 */
function dayRecordOf(kept: Map<number, DayRecord>, key: string, hours: ReadonlyMap<number, Block>, dayStart: number): DayRecord | undefined {
  const had = kept.get(dayStart);
  if (had?.valid) return had;
  const blocks: Block[] = [];
  let rows = 0;
  let hi = 0;
  let lo = 0;
  let builtAt = Infinity;
  for (let h = dayStart; h < dayStart + 24; h++) {
    const b = hours.get(h);
    if (b === undefined) return undefined;
    blocks.push(b);
    rows += b.stampRows;
    hi += b.stampHi;
    lo += b.stampLo;
    if (b.builtAt < builtAt) builtAt = b.builtAt;
  }
  // 24 halves below 2^32 each: exact in doubles; the carry of the low halves into the high, mod 2^64.
  const rec: DayRecord = { valid: true, key, dayStart, blocks, builtAt, slotMax: [], entries: [], stampRows: rows, stampHi: (hi + Math.floor(lo / TWO_32)) % TWO_32, stampLo: lo % TWO_32 };
  // A block of an earlier record no longer valid still points to it: each of the 24 now points here.
  for (const b of blocks) b.day = rec;
  kept.set(dayStart, rec);
  return rec;
}

/** Slot sizes whose day maxima a day record keeps at most (the oldest made is dropped). */
const DAY_SLOT_SIZES = 4;

/**
 * The largest viewers of each slot of the day of `rec` (per divides 60), made once per record and slot size from its blocks' minutes:
 * what the series' slots get from them (0 where the largest is below 0 or -0, as a slot left at 0 keeps), so copied as they are.
 */
function daySlotMaxOf(rec: DayRecord, per: number): Float64Array {
  for (const s of rec.slotMax) if (s.per === per) return s.values;
  const values = new Float64Array((24 * MINUTES) / per).fill(-Infinity);
  for (let h = 0; h < 24; h++) {
    const viewers = (rec.blocks[h] as Block).viewers;
    for (let i = 0, at = h * MINUTES; i < MINUTES; i++, at++) {
      const j = Math.floor(at / per);
      const v = viewers[i] as number;
      if (v > (values[j] as number)) values[j] = v;
    }
  }
  for (let j = 0; j < values.length; j++) if (!((values[j] as number) > 0)) values[j] = 0;
  if (rec.slotMax.length >= DAY_SLOT_SIZES) rec.slotMax.shift();
  rec.slotMax.push({ per, values });
  return values;
}

/** The largest viewers of each run of `per` minutes of block `b` (per divides 60), made once per block and slot size. */
function slotMaxOf(b: Block, per: number): NonNullable<Block['slotMax']> {
  if (b.slotMax?.per === per) return b.slotMax;
  const values = new Float64Array(MINUTES / per).fill(-Infinity);
  for (let i = 0; i < MINUTES; i++) {
    const j = Math.floor(i / per);
    const v = b.viewers[i] as number;
    if (v > (values[j] as number)) values[j] = v;
  }
  b.slotMax = { per, values, plain: values.every((v) => v > 0 || Object.is(v, 0)) };
  return b.slotMax;
}

/** Whether the users filter asks for a whole domain (no app, stream, protocol, province or carrier). */
export function domainWide(f: Pick<UsersFilter, 'app' | 'stream' | 'protocol' | 'regions' | 'isps'>): boolean {
  return f.app === undefined && f.stream === undefined && f.protocol === undefined && f.regions.length === 0 && f.isps.length === 0;
}

/** The stamp string of StampReads (`rows:tags`, tags the 64-bit sum in decimal) of a grid's cell. */
const stampText = (g: StampGrid, cell: number): string =>
  `${String(g.rows[cell] ?? 0)}:${String(BigInt(g.tagsHi[cell] ?? 0) * 4294967296n + BigInt(g.tagsLo[cell] ?? 0))}`;

const minutesOf = (n: number): DomainMinutes => ({ viewers: new Float64Array(n), bytes: new Float64Array(n), requests: new Float64Array(n), playMs: new Float64Array(n) });

/**
 * Closed hours of each domain's audience kept in this node's memory, per (project, domain, hour): the
 * hour's 60 viewer and byte figures and its lines and play time, so the viewers of a domain over days
 * (ListUsersOfStream without filters: 7 d at 60 s, 31 d at 300 s) and a domain's portrait add up
 * blocks instead of having ClickHouse group every (stream, protocol, province, carrier, minute) row.
 * Exact while several nodes write, by the rule of the request counts' and traffic blocks
 * (hour-blocks.ts, traffic-blocks.ts): stamps of migration 014 (every insert into audience_cells,
 * audience_sessions or audience_hls changes its hours' stamps, a retried audience write bumps them), a
 * block kept only when the stamps before and after its rows agree, and every query using a block
 * only when it has the current stamp (one shared stamps read, stamp-reads.ts). Hours without a current
 * block, the edges and the hours being written are read by SQL (the same reads a build makes).
 *
 * The users series (usersSlots: 7 d is 168 hours, 31 d 744) checks its hours against a shared read of the
 * stamps as numbers in typed arrays (stamp-grid.ts: no JSON, no string per row) and finds the blocks by
 * (project, domain) then hour, each keeping its stamp as three numbers beside the string the portrait's
 * check (minutes) uses, so an answer makes no string key per hour; it takes the largest minute of each
 * slot straight from the blocks, without a minutes array.
 */
export class AudienceBlocks {
  private readonly cache: BlockCache<Block>;
  readonly stats: BlockCache<Block>['stats'];
  /** The cache's blocks by (project, domain), then hour (kept in step with the cache: put, dropped). */
  private readonly byDomain: DomainHours<Block>;
  /** The users series' stamps reads (numbers; closed days by their day stamps), shared by the answers that arrive together. */
  private readonly grids: DayGridStampReads;
  /**
   * Closed days checked by their day stamp, day stamps repaired, and days whose slots were taken at once from their day
   * record (DayRecord: not 24 blocks one by one), with the records made (tests read them).
   */
  readonly dayStats = { used: 0, repaired: 0, whole: 0, records: 0 };
  /** Days' users entries rendered (kept or, beyond MAX_ENTRY_BYTES, not), and copied into answers (tests read them). */
  readonly entryStats = { made: 0, copied: 0 };
  /** Bytes of the day records' entries kept (MAX_ENTRY_BYTES). */
  private entryBytes = 0;
  private repairing = false;
  /** The day records of closed days (DayRecord), by (project, domain) then the day's first hour. */
  private readonly dayRecords = new Map<string, Map<number, DayRecord>>();

  /**
   * `gridHoldMs`: the users series' stamps reads' holdMs (GRID_HOLD_MS; tests: longer, so a hold does not depend on timing);
   * `entrySlots`: ENTRY_SLOTS_PER_ANSWER (tests: fewer); `maxEntryBytes`: MAX_ENTRY_BYTES (tests: less).
   */
  constructor(private readonly server: ChConnection, private readonly names: SchemaNames, options: HourBlocksOptions = {}, gridHoldMs = GRID_HOLD_MS,
    private readonly entrySlots = ENTRY_SLOTS_PER_ANSWER, private readonly maxEntryBytes = MAX_ENTRY_BYTES) {
    this.cache = new BlockCache<Block>(new StampReads(server, table(names, 'audience_stamps')), options, MAX_BLOCKS);
    this.byDomain = new DomainHours(this.cache);
    this.stats = this.cache.stats;
    this.grids = new DayGridStampReads(server, table(names, 'audience_stamps'), table(names, 'audience_day_stamps'), 1, gridHoldMs);
  }

  /** Stamps reads of the users series shared by queries (tests and the bench read them). */
  get gridStats(): DayGridStampReads['stats'] {
    return this.grids.stats;
  }

  /**
   * The users series of a whole domain (slot i: the largest viewers of its minutes, at least 0; the
   * ClickHouseAudience.usersSeries of a filter without app, stream, protocol, province or carrier) over
   * [from, to) (whole minutes, a whole number of `slotMs`, itself whole minutes) from blocks plus SQL
   * (the hours without a current block and the edges), or undefined: the caller answers by its own SQL.
   * `parts`, when given: gets the runs of slots of the current closed days wholly in the window with their answer's entries
   * (DayRecord.entries, in slot order), so the body copies them (users-parts.ts); nothing when the answer is undefined.
   */
  async usersSlots(project: string, domain: string, from: number, to: number, slotMs: number, signal?: AbortSignal, now = Date.now(),
    alloc: (n: number) => Float64Array = (n) => new Float64Array(n), parts?: UsersPart[]): Promise<Float64Array | undefined> {
    const count = (to - from) / slotMs;
    if (this.cache.closed || from % MIN !== 0 || to % MIN !== 0 || slotMs % MIN !== 0 || !Number.isInteger(count) || count <= 0) return undefined;
    const firstHour = Math.ceil(from / HOUR);
    const endHour = this.cache.endHour(to, now);
    if (endHour <= firstHour) return undefined;
    const grid = await this.grids.read(project, [domain], firstHour, endHour, dayLimitAt(now, this.cache.closedAfterMs));
    if (signal?.aborted) return undefined;
    const key = domainKey(project, domain);
    const hours = this.byDomain.get(key);
    const kept = this.dayRecords.get(key) ?? new Map<number, DayRecord>();
    const dayOf = (dayStart: number): DayRecord | undefined => {
      if (hours === undefined) return undefined;
      const had = kept.get(dayStart);
      const rec = dayRecordOf(kept, key, hours, dayStart);
      if (rec === undefined || rec === had) return rec;
      this.dayStats.records++;
      // A (project, domain) is kept only with a record (no empty map for every domain asked).
      if (kept.size === 1) this.dayRecords.set(key, kept);
      return rec;
    };
    const { staleHour, stale, diverged, daysUsed, days } = checkHours(domain, hours, dayOf, grid, gridBase(grid, project, domain, 0), firstHour, endHour,
      now - this.cache.maxAgeMs);
    if (diverged.length > 0) this.repair(project, domain, diverged);
    const runs = sqlRanges(from, to, firstHour, endHour, staleHour).filter(([a, b]) => b > a);
    if (stale.length > 0) this.schedule(project, stale);
    // The window's hours without a current block (`stale` may hold more: a stale day's 24 hours).
    let staleCount = 0;
    for (let i = 0; i < staleHour.length; i++) staleCount += staleHour[i] as number;
    if (this.cache.bySql(runs.length, staleCount, endHour - firstHour)) return undefined;
    const per = slotMs / MIN;
    const first = from / MIN;
    // Every slot 0 (alloc: usersSeries').
    const out = alloc(count);
    // Minute values from minute `at` (since `from`) on: each slot keeps its largest (and at least 0).
    const add = (values: Float64Array, at: number): void => {
      let j = Math.floor(at / per);
      let k = at - j * per;
      for (let i = 0; i < values.length && j < count; i++) {
        const v = values[i] as number;
        if (v > (out[j] as number)) out[j] = v;
        if (++k === per) {
          k = 0;
          j++;
        }
      }
    };
    // Slots that divide an hour and start on the hour's minute 0: each block's maxima by slot (12 at 300 s), not its 60 minutes.
    const bySlot = MINUTES % per === 0 && (firstHour * MINUTES - first) % per === 0;
    // The day of firstHour's first hour: days[i] is the record of the day from firstDay + 24 i, when current.
    const firstDay = firstHour - (firstHour % 24);
    // Slots of days' entries this answer may still render (ENTRY_SLOTS_PER_ANSWER).
    const budget = { slots: this.entrySlots };
    for (let h = firstHour; h < endHour; h++) {
      if (staleHour[h - firstHour]) continue;
      const at = h * MINUTES - first;
      if (!bySlot) {
        add((hours?.get(h) as Block).viewers, at);
        continue;
      }
      const j0 = at / per;
      // A current day wholly in the window: its slots' values at once (its slots are its own, as a block's below; a whole
      // day before endHour ends before `to`, so they fit).
      const day = h % 24 === 0 && h + 24 <= endHour ? days[(h - firstDay) / 24] : undefined;
      if (day !== undefined) {
        const values = daySlotMaxOf(day, per);
        out.set(values, j0);
        // Its entries taken now, while the record is current (a build ending while this answer waits for SQL may forget it).
        const bytes = parts ? this.dayEntries(day, per, values, budget) : undefined;
        if (bytes) {
          parts?.push({ at: j0, count: values.length, bytes });
          this.entryStats.copied++;
        }
        h += 23;
        this.dayStats.whole++;
        continue;
      }
      const { values: m, plain } = slotMaxOf(hours?.get(h) as Block, per);
      // The block's slots are its own (no SQL run nor other block writes them): still 0, so the slot maxima, none below 0,
      // are the slots' values as they are.
      if (plain && j0 + m.length <= count) {
        out.set(m, j0);
        continue;
      }
      for (let i = 0, j = j0; i < m.length && j < count; i++, j++) {
        if ((m[i] as number) > (out[j] as number)) out[j] = m[i] as number;
      }
    }
    // The SQL runs last: the blocks above are those the stamps read confirmed, taken before this answer waits (a build
    // that ends meanwhile may replace or drop some of them); their hours and the runs' never share a slot.
    const read = await Promise.all(runs.map(([a, b]) => this.read(project, [domain], a / MIN, b / MIN, signal)));
    runs.forEach(([a], i) => {
      const part = read[i]?.get(domain);
      if (part) add(part.viewers, a / MIN - first);
    });
    this.cache.answered(staleCount);
    this.dayStats.used += daysUsed;
    return out;
  }

  /**
   * The users entries of the slots of `per` minutes of the day of `rec` (`values`: its slot maxima, daySlotMaxOf), kept with
   * the record; made only within the answer's `budget` of slots and only when they can be kept (maxEntryBytes), else
   * undefined: past the limit an entry nobody keeps would be rendered on the main thread for one answer, again at every
   * answer, while the answer's other slots still send it to a worker; the day's slots are rendered with the answer's.
   */
  private dayEntries(rec: DayRecord, per: number, values: Float64Array, budget: { slots: number }): Uint8Array | undefined {
    for (const e of rec.entries) if (e.per === per) return e.bytes;
    if (budget.slots < values.length) return undefined;
    // The record's oldest entry makes room when it holds every slot size already (DAY_SLOT_SIZES).
    const oldest = rec.entries.length >= DAY_SLOT_SIZES ? rec.entries[0] : undefined;
    if (this.entryBytes - (oldest?.bytes.length ?? 0) + values.length * ENTRY_BYTES_BOUND > this.maxEntryBytes) return undefined;
    budget.slots -= values.length;
    const bytes = usersEntries(rec.dayStart * HOUR, per * MIN, values);
    this.entryStats.made++;
    if (oldest) this.entryBytes -= (rec.entries.shift() as DayRecord['entries'][number]).bytes.length;
    rec.entries.push({ per, bytes });
    this.entryBytes += bytes.length;
    return bytes;
  }

  /**
   * Sets the day stamps of `days` (UTC day numbers) of the domain back to the sums of their hour stamps
   * (repairDayStamps), one repair at a time (days found meanwhile wait for a later answer).
   */
  private repair(project: string, domain: string, days: readonly number[]): void {
    if (this.repairing || this.cache.closed) return;
    this.repairing = true;
    this.dayStats.repaired++;
    repairDayStamps(this.server, this.names, project, [domain], days, AUDIENCE_DAY_STAMPS).catch(() => undefined).finally(() => {
      this.repairing = false;
    });
  }

  /** Forgets the day record of a block that left the blocks (replaced or dropped): its day is made again from the blocks then present. */
  private forgetDay(old: Block): void {
    const rec = old.day;
    if (rec === undefined || !rec.valid) return;
    rec.valid = false;
    // Nothing reads a record after the answer that checked it (the answer copies its slots before it waits): let go of its
    // blocks and maxima, which the day's other blocks would otherwise keep alive through their `day`.
    for (const b of rec.blocks) if (b.day === rec) b.day = undefined;
    rec.blocks = [];
    rec.slotMax = [];
    for (const e of rec.entries) this.entryBytes -= e.bytes.length;
    rec.entries = [];
    const kept = this.dayRecords.get(rec.key);
    if (kept?.get(rec.dayStart) !== rec) return;
    kept.delete(rec.dayStart);
    if (kept.size === 0) this.dayRecords.delete(rec.key);
  }

  private t(name: string): string {
    return table(this.names, name);
  }

  /**
   * The domain's minutes [from, to) (epoch ms, whole minutes) from blocks plus SQL (the hours without a
   * current block and the edges), or undefined: the caller answers by its own SQL.
   */
  async minutes(project: string, domain: string, from: number, to: number, signal?: AbortSignal, now = Date.now()): Promise<DomainMinutes | undefined> {
    if (this.cache.closed || from % MIN !== 0 || to % MIN !== 0) return undefined;
    const firstHour = Math.ceil(from / HOUR);
    const endHour = this.cache.endHour(to, now);
    if (endHour <= firstHour) return undefined;
    const stamps = await this.cache.stampReads.read(project, [domain], firstHour, endHour);
    if (signal?.aborted) return undefined;
    const { stale, staleHour } = staleCells(this.cache, project, [domain], firstHour, endHour, stamps, now);
    const runs = sqlRanges(from, to, firstHour, endHour, staleHour).filter(([a, b]) => b > a);
    if (stale.length > 0) this.schedule(project, stale);
    if (this.cache.bySql(runs.length, stale.length, endHour - firstHour)) return undefined;
    const first = from / MIN;
    const out = minutesOf((to - from) / MIN);
    // The blocks first, those the stamps read confirmed, before this answer waits for its SQL runs (a build that ends
    // meanwhile may replace or drop some of them); the runs' minutes are other minutes.
    for (let h = firstHour; h < endHour; h++) {
      if (staleHour[h - firstHour]) continue;
      const b = this.cache.get(stampKey(project, domain, h)) as Block;
      const at = h * MINUTES - first;
      out.viewers.set(b.viewers, at);
      out.bytes.set(b.bytes, at);
      // The hour's totals on its first minute: only sums of them are read.
      out.requests[at] = b.requests;
      out.playMs[at] = b.playMs;
    }
    const read = await Promise.all(runs.map(([a, b]) => this.read(project, [domain], a / MIN, b / MIN, signal)));
    runs.forEach(([a], i) => {
      const part = read[i]?.get(domain);
      if (!part) return;
      const at = a / MIN - first;
      out.viewers.set(part.viewers, at);
      out.bytes.set(part.bytes, at);
      out.requests.set(part.requests, at);
      out.playMs.set(part.playMs, at);
    });
    this.cache.answered(stale.length);
    return out;
  }

  /**
   * The minutes [fromMinute, toMinute) of each of `domains` with any audience, by SQL: the reads the
   * audience's SQL answers make (ClickHouseAudience), grouped by domain too.
   */
  private async read(project: string, domains: readonly string[], fromMinute: number, toMinute: number, signal?: AbortSignal): Promise<Map<string, DomainMinutes>> {
    const n = toMinute - fromMinute;
    const out = new Map<string, DomainMinutes>();
    const of = (d: string): DomainMinutes => {
      let m = out.get(d);
      if (!m) out.set(d, (m = minutesOf(n)));
      return m;
    };
    const where = (a: number): string => `project = ${quote(project)} AND domain IN ${quoteList(domains)} AND minute >= ${quote(a)} AND minute < ${quote(toMinute)}`;
    // FLV/RTMP sessions from the quarter-hour of fromMinute (audience-flv.ts).
    const sessionsFrom = blockStart(fromMinute);
    const [cells, sessions, hls] = await Promise.all([
      this.server.rows(`SELECT domain, minute, sum(viewers) AS v, sum(bytes) AS b, sum(requests) AS n, sum(play_ms) AS p FROM ${this.t('audience_cells')}
        WHERE ${where(fromMinute)} AND batch = '' GROUP BY domain, minute`, signal),
      this.server.rows(`SELECT domain, minute, sum(opens) AS o, sum(closes) AS c FROM ${this.t('audience_sessions')}
        WHERE ${where(sessionsFrom)} AND batch = '' GROUP BY domain, minute`, signal),
      this.server.rows(`SELECT domain, minute, uniqExact(app, stream, ip) AS v FROM ${this.t('audience_hls')}
        WHERE ${where(fromMinute)} GROUP BY domain, minute`, signal),
    ]);
    for (const r of cells) {
      const m = of(str(r.domain));
      const i = num(r.minute) - fromMinute;
      m.viewers[i] = (m.viewers[i] as number) + num(r.v);
      m.bytes[i] = (m.bytes[i] as number) + num(r.b);
      m.requests[i] = (m.requests[i] as number) + num(r.n);
      m.playMs[i] = (m.playMs[i] as number) + num(r.p);
    }
    const opens = new Map<string, [Float64Array, Float64Array]>();
    const span = toMinute - sessionsFrom;
    for (const r of sessions) {
      const d = str(r.domain);
      let oc = opens.get(d);
      if (!oc) opens.set(d, (oc = [new Float64Array(span), new Float64Array(span)]));
      const i = num(r.minute) - sessionsFrom;
      oc[0][i] = (oc[0][i] as number) + num(r.o);
      oc[1][i] = (oc[1][i] as number) + num(r.c);
    }
    for (const [d, [o, c]] of opens) {
      const viewers = new Float64Array(span);
      addSessionViewers(viewers, o, c, sessionsFrom);
      const m = of(d);
      for (let i = 0; i < n; i++) m.viewers[i] = (m.viewers[i] as number) + (viewers[i + fromMinute - sessionsFrom] as number);
    }
    for (const r of hls) {
      const m = of(str(r.domain));
      const i = num(r.minute) - fromMinute;
      const v = num(r.v);
      m.viewers[i] = (m.viewers[i] as number) + v;
      m.playMs[i] = (m.playMs[i] as number) + v * MIN;
    }
    return out;
  }

  private schedule(project: string, stale: Array<{ domain: string; hour: number }>): void {
    scheduleRuns(this.cache, project, stale, BUILD_HOURS, (domains, from, to) => this.build(project, domains, from, to));
  }

  /** Builds the blocks of `domains` x hours [from, to): kept for each (domain, hour) whose stamp did not change meanwhile. */
  private async build(project: string, domains: string[], from: number, to: number): Promise<void> {
    if (this.cache.closed) return;
    const stamps = (): Promise<StampGrid> => readStampGrid(this.server, this.t('audience_stamps'), [project], domains, from, to);
    const before = await stamps();
    const read = await this.read(project, domains, from * MINUTES, to * MINUTES);
    const after = await stamps();
    const now = Date.now();
    for (const d of domains) {
      const m = read.get(d);
      const cell = gridBase(before, project, d, from);
      for (let h = from; h < to; h++) {
        const c = cell + h - from;
        if (before.rows[c] !== after.rows[c] || before.tagsHi[c] !== after.tagsHi[c] || before.tagsLo[c] !== after.tagsLo[c]) {
          this.stats.discarded++;
          continue;
        }
        const at = (h - from) * MINUTES;
        const sum = (a: Float64Array | undefined): number => (a ? a.subarray(at, at + MINUTES).reduce((x, y) => x + y, 0) : 0);
        this.byDomain.put(project, d, h, {
          stamp: stampText(before, c), stampRows: before.rows[c] as number, stampHi: before.tagsHi[c] as number, stampLo: before.tagsLo[c] as number, builtAt: now,
          viewers: m ? m.viewers.slice(at, at + MINUTES) : new Float64Array(MINUTES),
          bytes: m ? m.bytes.slice(at, at + MINUTES) : new Float64Array(MINUTES),
          requests: sum(m?.requests), playMs: sum(m?.playMs),
        }, (old) => this.forgetDay(old));
      }
    }
    this.stats.built++;
  }

  close(): void {
    this.cache.closed = true;
  }
}

const DAY = 86_400_000;
/** Day counts kept at most (a few dozen bytes each). */
const MAX_DAYS = 100_000;

interface UsersBlock extends StampedBlock {
  users: number;
}

/**
 * A closed UTC day's distinct users of a whole domain (the portrait's `user_count`), kept in this node's
 * memory per (project, domain, day) and checked against the day stamps of migration 014 (every insert
 * into audience_users changes its day's stamp; a retried audience write bumps them), by the rule of the
 * hour blocks above: so a whole domain's portrait of a closed day reads nothing but stamps from
 * ClickHouse. A day not closed 5 minutes ago, or without a current count, is read by SQL.
 */
export class AudienceUsersBlocks {
  private readonly cache: BlockCache<UsersBlock>;
  readonly stats: BlockCache<UsersBlock>['stats'];

  constructor(private readonly server: ChConnection, private readonly names: SchemaNames, options: HourBlocksOptions = {}) {
    this.cache = new BlockCache<UsersBlock>(new StampReads(server, table(names, 'audience_users_stamps')), options, MAX_DAYS);
    this.stats = this.cache.stats;
  }

  /** The distinct client IPs of the domain on the UTC day starting at `day` (epoch ms), or undefined: by SQL. */
  async users(project: string, domain: string, day: number, signal?: AbortSignal, now = Date.now()): Promise<number | undefined> {
    if (this.cache.closed || day % DAY !== 0 || day + DAY > now - this.cache.closedAfterMs) return undefined;
    const d = day / DAY;
    const k = stampKey(project, domain, d);
    const stamps = await this.cache.stampReads.read(project, [domain], d, d + 1);
    if (signal?.aborted) return undefined;
    const b = this.cache.current(k, stamps, now);
    if (!b) {
      if (this.cache.claim(k)) this.cache.enqueue(() => this.build(project, domain, d), () => [k]);
      this.stats.bySql++;
      return undefined;
    }
    this.cache.answered(0);
    return b.users;
  }

  private async build(project: string, domain: string, d: number): Promise<void> {
    if (this.cache.closed) return;
    const stamps = (): Promise<Map<string, string>> => readStamps(this.server, table(this.names, 'audience_users_stamps'), project, [domain], d, d + 1);
    const before = await stamps();
    const rows = await this.server.rows(`SELECT uniqExact(ip) AS n FROM ${table(this.names, 'audience_users')}
      WHERE project = ${quote(project)} AND domain = ${quote(domain)} AND day = ${quote(d)}`);
    const after = await stamps();
    const k = stampKey(project, domain, d);
    if (before.get(k) !== after.get(k)) {
      this.stats.discarded++;
      return;
    }
    this.cache.put(k, { stamp: before.get(k) ?? EMPTY_STAMP, builtAt: Date.now(), users: num(rows[0]?.n ?? 0) });
    this.stats.built++;
  }

  close(): void {
    this.cache.closed = true;
  }
}
