import { num, str, type ChConnection } from './client.js';
import { quote, quoteList } from './sql.js';
import { stampKey, type StampReads } from './stamp-reads.js';

const MIN = 60_000;
const HOUR = 3_600_000;

/** The stamp of an hour nothing was written in. */
export const EMPTY_STAMP = '0:0';

/** The defaults of the settings (src/config.ts: --clickhouse-hour-*). */
export const HOUR_BLOCK_DEFAULTS = {
  /** Bytes of cells kept in memory (least recently built dropped first). */
  budgetBytes: 256 * 2 ** 20,
  /** An hour is read from a block once it ended this long ago: a block of the hour being written would be rebuilt at every write. */
  closedAfterMs: 5 * MIN,
  /**
   * A block is rebuilt this long after it was built even when its stamp has not changed: it bounds
   * what a batch whose stamp view failed and that was never retried (its node gone) could hide.
   */
  maxAgeMs: 15 * MIN,
  /** At most this many SQL reads (ranges of stale hours and the edges) beside the blocks in one answer. */
  maxSqlRuns: 4,
  /** Worker threads answering from the request counts' hour blocks (hour-blocks.ts): each holds every block, in shared memory. */
  workers: 2,
} as const;

export interface HourBlocksOptions {
  budgetBytes?: number;
  closedAfterMs?: number;
  maxAgeMs?: number;
  maxSqlRuns?: number;
  /** Worker threads of the request counts' hour blocks (default 2; 1: one thread builds and answers). */
  workers?: number;
  /** The compiled worker script (default: hour-block-worker.js beside this module, else under dist/). */
  workerUrl?: URL;
  /**
   * Nice value every block and rendering worker thread gives itself (thread-priority.ts; default READ_THREAD_NICE, 0: the
   * main thread's priority): a heavy query's summing and rendering leave the cores to the main thread first (HTTP, ingest
   * acknowledgements) and to clickhouse-server (its inserts).
   */
  threadNice?: number;
  /** Whole-domain portraits of closed days kept per day (portrait-days.ts); default true (false: made from the blocks every time). */
  portraitDays?: boolean;
}

/** What every kind of block keeps beside its own contents. */
export interface StampedBlock {
  stamp: string;
  builtAt: number;
}

/** A (key, hour) without a current block. */
export interface StaleCell {
  domain: string;
  hour: number;
}

/**
 * The bookkeeping the hour blocks of every kind share (hour-blocks.ts, traffic-blocks.ts,
 * carousel-blocks.ts): the settings, the shared read of the current stamps, the blocks by stampKey with their size accounting (oldest
 * built dropped first once over the budget), the check of a block against the current stamps, the
 * queue of background builds (each key at most once in it) and the counters.
 */
export class BlockCache<B extends StampedBlock> {
  private readonly blocks = new Map<string, B>();
  private size = 0;
  private queue: Promise<void> = Promise.resolve();
  private readonly queued = new Set<string>();
  closed = false;
  readonly closedAfterMs: number;
  readonly maxAgeMs: number;
  readonly maxSqlRuns: number;
  /** Queries answered from blocks / by SQL, builds kept / discarded (tests and the bench read them). */
  readonly stats = { fromBlocks: 0, partly: 0, bySql: 0, built: 0, discarded: 0 };

  /** `budget`: the most the blocks may weigh together; `weigh`: a block's weight (default 1: a count of blocks). */
  constructor(readonly stampReads: StampReads, options: HourBlocksOptions, private readonly budget: number, private readonly weigh: (b: B) => number = () => 1) {
    this.closedAfterMs = options.closedAfterMs ?? HOUR_BLOCK_DEFAULTS.closedAfterMs;
    this.maxAgeMs = options.maxAgeMs ?? HOUR_BLOCK_DEFAULTS.maxAgeMs;
    this.maxSqlRuns = options.maxSqlRuns ?? HOUR_BLOCK_DEFAULTS.maxSqlRuns;
  }

  /** The last whole hour (exclusive) a query ending at `to` may read from blocks. */
  endHour(to: number, now: number): number {
    return Math.floor(Math.min(to, now - this.closedAfterMs) / HOUR);
  }

  /** The block of `k` when it has the current stamp and is not too old, else undefined. */
  current(k: string, stamps: ReadonlyMap<string, string>, now: number): B | undefined {
    const b = this.blocks.get(k);
    return !b || b.stamp !== (stamps.get(k) ?? EMPTY_STAMP) || now - b.builtAt > this.maxAgeMs ? undefined : b;
  }

  get(k: string): B | undefined {
    return this.blocks.get(k);
  }

  /** Keeps `b` as the newest block; returns the oldest ones dropped to stay within the budget. */
  put(k: string, b: B): Array<[string, B]> {
    const old = this.blocks.get(k);
    if (old) {
      this.size -= this.weigh(old);
      this.blocks.delete(k);
    }
    this.blocks.set(k, b);
    this.size += this.weigh(b);
    const dropped: Array<[string, B]> = [];
    for (const [oldest, v] of this.blocks) {
      if (this.size <= this.budget) break;
      this.blocks.delete(oldest);
      this.size -= this.weigh(v);
      dropped.push([oldest, v]);
    }
    return dropped;
  }

  clear(): void {
    this.blocks.clear();
    this.size = 0;
  }

  /** Whether `k` was not queued for a build yet (it is now). */
  claim(k: string): boolean {
    if (this.queued.has(k)) return false;
    this.queued.add(k);
    return true;
  }

  /** Queues a build after the others; `keys` are released when it ends. A failed build leaves its blocks missing: the next query asks again. */
  enqueue(build: () => Promise<void>, keys: () => string[]): void {
    this.queue = this.queue.then(build).catch(() => undefined).finally(() => {
      for (const k of keys()) this.queued.delete(k);
    });
  }

  /**
   * Whether the answer goes by SQL (counted): more than maxSqlRuns SQL reads, or no current block at
   * all (`stale` of `cells`).
   */
  bySql(runs: number, stale: number, cells: number): boolean {
    if (runs <= this.maxSqlRuns && stale < cells) return false;
    this.stats.bySql++;
    return true;
  }

  /** Counts an answer taken from blocks, with SQL for `stale` cells. */
  answered(stale: number): void {
    if (stale > 0) this.stats.partly++;
    else this.stats.fromBlocks++;
  }
}

/** The (domain, hour)s of [firstHour, endHour) without a current block, which hours have any, and the current blocks found. */
export function staleCells<B extends StampedBlock>(cache: BlockCache<B>, project: string, domains: readonly string[], firstHour: number, endHour: number,
  stamps: ReadonlyMap<string, string>, now: number): { stale: StaleCell[]; staleHour: Uint8Array; found: Array<B | undefined> } {
  const hours = endHour - firstHour;
  const stale: StaleCell[] = [];
  const staleHour = new Uint8Array(hours);
  // Each (domain, hour)'s current block, looked up once: at d * hours + (h - firstHour), for the caller's use.
  const found = new Array<B | undefined>(domains.length * hours);
  for (let d = 0; d < domains.length; d++) {
    const domain = domains[d] as string;
    for (let h = firstHour; h < endHour; h++) {
      const b = cache.current(stampKey(project, domain, h), stamps, now);
      found[d * hours + h - firstHour] = b;
      if (b) continue;
      stale.push({ domain, hour: h });
      staleHour[h - firstHour] = 1;
    }
  }
  return { stale, staleHour, found };
}

/**
 * The ranges of [from, to) read by SQL: the edges outside whole hours [firstHour, endHour) and the
 * stale hours, consecutive ones joined (an empty range where an edge is empty).
 */
export function sqlRanges(from: number, to: number, firstHour: number, endHour: number, staleHour: Uint8Array): Array<[number, number]> {
  const edges: Array<[number, number]> = [[from, firstHour * HOUR]];
  for (let h = firstHour; h < endHour; h++) {
    if (!staleHour[h - firstHour]) continue;
    const last = edges[edges.length - 1] as [number, number];
    if (last[1] === h * HOUR) last[1] = (h + 1) * HOUR;
    else edges.push([h * HOUR, (h + 1) * HOUR]);
  }
  const tail = edges[edges.length - 1] as [number, number];
  if (tail[1] === endHour * HOUR) tail[1] = to;
  else edges.push([endHour * HOUR, to]);
  return edges;
}

/** The stale cells not queued yet (claimed now), by hour. */
export function claimByHour<B extends StampedBlock>(cache: BlockCache<B>, project: string, stale: readonly StaleCell[]): Map<number, string[]> {
  const byHour = new Map<number, string[]>();
  for (const s of stale) {
    if (!cache.claim(stampKey(project, s.domain, s.hour))) continue;
    const list = byHour.get(s.hour);
    if (list) list.push(s.domain);
    else byHour.set(s.hour, [s.domain]);
  }
  return byHour;
}

/**
 * Queues the builds of the stale cells not queued yet: runs of up to `maxHours` consecutive hours, each
 * with the domains stale in any of them (`build(domains, from, to)`, hours [from, to)); the run's cells
 * are released when its build ends.
 */
export function scheduleRuns<B extends StampedBlock>(cache: BlockCache<B>, project: string, stale: readonly StaleCell[], maxHours: number,
  build: (domains: string[], from: number, to: number) => Promise<void>): void {
  const byHour = claimByHour(cache, project, stale);
  const hours = [...byHour.keys()].sort((a, b) => a - b);
  for (let i = 0; i < hours.length;) {
    const from = hours[i] as number;
    let j = i;
    while (j + 1 < hours.length && (hours[j + 1] as number) === (hours[j] as number) + 1 && (hours[j + 1] as number) - from < maxHours) j++;
    const to = (hours[j] as number) + 1;
    const domains = [...new Set(hours.slice(i, j + 1).flatMap((h) => byHour.get(h) as string[]))];
    i = j + 1;
    cache.enqueue(() => build(domains, from, to),
      () => { const keys: string[] = []; for (let h = from; h < to; h++) for (const d of byHour.get(h) ?? []) keys.push(stampKey(project, d, h)); return keys; });
  }
}

/** The stamps of (domain, hour) in a stamps table (domain, hour, rows, tags) for a build, read now (not shared). */
export async function readStamps(server: ChConnection, stampsTable: string, project: string, domains: readonly string[], from: number, to: number): Promise<Map<string, string>> {
  const rows = await server.rows(`SELECT domain, hour, sum(rows) AS r, sum(tags) AS t FROM ${stampsTable}
    WHERE project = ${quote(project)} AND domain IN ${quoteList(domains)} AND hour >= ${quote(from)} AND hour < ${quote(to)}
    GROUP BY domain, hour`);
  const out = new Map<string, string>();
  for (const r of rows) out.set(stampKey(project, str(r.domain), num(r.hour)), `${String(r.r)}:${String(r.t)}`);
  return out;
}

/** The key of a (project, domain) in a DomainHours index. */
export const domainKey = (project: string, domain: string): string => `${project}\u0000${domain}`;

/**
 * A BlockCache's blocks found by (project, domain) then hour, without a key string per hour (the audience
 * and traffic blocks add up a domain's hours from it), kept in step with the cache: `put` stores a block
 * in both and forgets here what the cache dropped to make room.
 */
export class DomainHours<B extends StampedBlock> {
  private readonly byDomain = new Map<string, Map<number, B>>();

  constructor(private readonly cache: BlockCache<B>) {}

  /** The hours of a (project, domain) kept (`key`: domainKey). */
  get(key: string): Map<number, B> | undefined {
    return this.byDomain.get(key);
  }

  /**
   * Keeps `b` for (project, domain, hour) in the cache and here. `dropped` is told of every block that
   * leaves: those the cache dropped to make room, and the one `b` replaces here.
   */
  put(project: string, domain: string, hour: number, b: B, dropped?: (old: B) => void): void {
    for (const [k, old] of this.cache.put(stampKey(project, domain, hour), b)) {
      dropped?.(old);
      const [p, d, h] = k.split('\u0000') as [string, string, string];
      const m = this.byDomain.get(domainKey(p, d));
      if (m?.get(Number(h)) !== old) continue;
      m.delete(Number(h));
      if (m.size === 0) this.byDomain.delete(domainKey(p, d));
    }
    let m = this.byDomain.get(domainKey(project, domain));
    if (!m) this.byDomain.set(domainKey(project, domain), (m = new Map()));
    const replaced = m.get(hour);
    if (replaced && dropped) dropped(replaced);
    m.set(hour, b);
  }

  clear(): void {
    this.byDomain.clear();
  }
}
