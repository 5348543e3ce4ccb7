import type { TrafficFilter } from '../traffic.js';
import { num, str, type ChConnection } from './client.js';
import { HOUR_BLOCK_DEFAULTS, type HourBlocksOptions } from './hour-blocks.js';
import { table, type SchemaNames } from './schema.js';
import { quote, quoteList } from './sql.js';
import { stampKey, StampReads } from './stamp-reads.js';

const HOUR = 3_600_000;
const SLOT_MS = 300_000;
const SLOTS = 12;
/** Blocks kept at most (~250 bytes each: 31 d x 100 domains is 74,400). */
const MAX_BLOCKS = 200_000;
/** Hours built by one query (a run of stale hours of the same domains). */
const BUILD_HOURS = 24;

interface Block {
  stamp: string;
  builtAt: number;
  /** Bytes per 5-minute slot of the hour, every protocol, region, isp and address family together. */
  bytes: Float64Array;
}

/** Whether the filter asks for a domain's totals (no app, stream, protocol, region, isp or ip type). */
export function totalsOnly(f: TrafficFilter): boolean {
  return f.app === undefined && f.stream === undefined && f.protocol === undefined && f.regions.length === 0 && f.isps.length === 0
    && f.ipType === undefined && f.domains.length > 0;
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
 * without a current block, the edges and the hour being written are read by SQL. The blocks are a
 * few numbers each, so they are added up on the main thread (7 d x 100 domains: 16,800 x 12 adds).
 */
export class TrafficBlocks {
  private readonly blocks = new Map<string, Block>();
  private readonly stampReads: StampReads;
  private queue: Promise<void> = Promise.resolve();
  private readonly queued = new Set<string>();
  private closed = false;
  private readonly closedAfterMs: number;
  private readonly maxAgeMs: number;
  private readonly maxSqlRuns: number;
  readonly stats = { fromBlocks: 0, partly: 0, bySql: 0, built: 0, discarded: 0 };

  constructor(private readonly server: ChConnection, private readonly names: SchemaNames, options: HourBlocksOptions = {}) {
    this.closedAfterMs = options.closedAfterMs ?? HOUR_BLOCK_DEFAULTS.closedAfterMs;
    this.maxAgeMs = options.maxAgeMs ?? HOUR_BLOCK_DEFAULTS.maxAgeMs;
    this.maxSqlRuns = options.maxSqlRuns ?? HOUR_BLOCK_DEFAULTS.maxSqlRuns;
    this.stampReads = new StampReads(server, table(names, 'traffic_stamps'));
  }

  /**
   * trafficSeries of a totals-only filter from blocks plus SQL (5-minute rows of the hours without
   * a current block and of the edges), or undefined: the whole query by SQL.
   */
  async series(f: TrafficFilter, signal?: AbortSignal, now = Date.now()): Promise<Float64Array | undefined> {
    if (this.closed || !totalsOnly(f) || f.from % SLOT_MS !== 0) return undefined;
    const count = Math.max(0, (f.to - f.from) / f.slotMs);
    const firstHour = Math.ceil(f.from / HOUR);
    const endHour = Math.floor(Math.min(f.to, now - this.closedAfterMs) / HOUR);
    if (!Number.isInteger(count) || endHour <= firstHour) return undefined;
    const domains = [...new Set(f.domains)];
    const stamps = await this.stampReads.read(f.project, domains, firstHour, endHour);
    if (signal?.aborted) return undefined;
    const staleHour = new Uint8Array(endHour - firstHour);
    const stale: Array<{ domain: string; hour: number }> = [];
    for (const domain of domains) {
      for (let h = firstHour; h < endHour; h++) {
        const k = stampKey(f.project, domain, h);
        const b = this.blocks.get(k);
        if (!b || b.stamp !== (stamps.get(k) ?? EMPTY) || now - b.builtAt > this.maxAgeMs) {
          stale.push({ domain, hour: h });
          staleHour[h - firstHour] = 1;
        }
      }
    }
    const edges: Array<[number, number]> = [[f.from, firstHour * HOUR]];
    for (let h = firstHour; h < endHour; h++) {
      if (!staleHour[h - firstHour]) continue;
      const last = edges[edges.length - 1] as [number, number];
      if (last[1] === h * HOUR) last[1] = (h + 1) * HOUR;
      else edges.push([h * HOUR, (h + 1) * HOUR]);
    }
    const tail = edges[edges.length - 1] as [number, number];
    if (tail[1] === endHour * HOUR) tail[1] = f.to;
    else edges.push([endHour * HOUR, f.to]);
    if (stale.length > 0) this.schedule(f.project, stale);
    if (edges.filter(([a, b]) => b > a).length > this.maxSqlRuns || stale.length === domains.length * (endHour - firstHour)) {
      this.stats.bySql++;
      return undefined;
    }
    const out = new Float64Array(count);
    const runs: Array<[number, number]> = edges.filter(([a, b]) => b > a);
    const rows = await Promise.all(runs.map(([a, b]) => this.server.rows(`SELECT slot, sum(bytes) AS b FROM ${table(this.names, 'traffic_domains')}
      WHERE project = ${quote(f.project)} AND domain IN ${quoteList(domains)} AND slot >= ${quote(a / SLOT_MS)} AND slot < ${quote(Math.ceil(b / SLOT_MS))}
        AND batch = '' GROUP BY slot`, signal)));
    for (const r of rows.flat()) {
      const i = Math.floor((num(r.slot) * SLOT_MS - f.from) / f.slotMs);
      if (i >= 0 && i < count) out[i] = (out[i] as number) + num(r.b);
    }
    for (const domain of domains) {
      for (let h = firstHour; h < endHour; h++) {
        if (staleHour[h - firstHour]) continue;
        const bytes = (this.blocks.get(stampKey(f.project, domain, h)) as Block).bytes;
        for (let s = 0; s < SLOTS; s++) {
          const v = bytes[s] as number;
          if (v === 0) continue;
          const i = Math.floor((h * HOUR + s * SLOT_MS - f.from) / f.slotMs);
          if (i >= 0 && i < count) out[i] = (out[i] as number) + v;
        }
      }
    }
    if (stale.length > 0) this.stats.partly++;
    else this.stats.fromBlocks++;
    return out;
  }

  private schedule(project: string, stale: Array<{ domain: string; hour: number }>): void {
    // Runs of up to BUILD_HOURS consecutive hours, each with the domains stale in any of them.
    const byHour = new Map<number, string[]>();
    for (const s of stale) {
      const k = stampKey(project, s.domain, s.hour);
      if (this.queued.has(k)) continue;
      this.queued.add(k);
      const list = byHour.get(s.hour);
      if (list) list.push(s.domain);
      else byHour.set(s.hour, [s.domain]);
    }
    const hours = [...byHour.keys()].sort((a, b) => a - b);
    for (let i = 0; i < hours.length;) {
      const from = hours[i] as number;
      let j = i;
      while (j + 1 < hours.length && (hours[j + 1] as number) === (hours[j] as number) + 1 && (hours[j + 1] as number) - from < BUILD_HOURS) j++;
      const to = (hours[j] as number) + 1;
      const domains = [...new Set(hours.slice(i, j + 1).flatMap((h) => byHour.get(h) as string[]))];
      i = j + 1;
      this.queue = this.queue.then(() => this.build(project, domains, from, to)).catch(() => {
        // A failed build leaves the blocks missing: the next query asks again.
      }).finally(() => {
        for (let h = from; h < to; h++) for (const d of byHour.get(h) ?? []) this.queued.delete(stampKey(project, d, h));
      });
    }
  }

  private async stamps(project: string, domains: string[], from: number, to: number): Promise<Map<string, string>> {
    const rows = await this.server.rows(`SELECT domain, hour, sum(rows) AS r, sum(tags) AS t FROM ${table(this.names, 'traffic_stamps')}
      WHERE project = ${quote(project)} AND domain IN ${quoteList(domains)} AND hour >= ${quote(from)} AND hour < ${quote(to)}
      GROUP BY domain, hour`);
    const out = new Map<string, string>();
    for (const r of rows) out.set(stampKey(project, str(r.domain), num(r.hour)), `${String(r.r)}:${String(r.t)}`);
    return out;
  }

  /** Builds the blocks of `domains` x hours [from, to): kept for each (domain, hour) whose stamp did not change meanwhile. */
  private async build(project: string, domains: string[], from: number, to: number): Promise<void> {
    if (this.closed) return;
    const before = await this.stamps(project, domains, from, to);
    const rows = await this.server.rows(`SELECT domain, slot, sum(bytes) AS b FROM ${table(this.names, 'traffic_domains')}
      WHERE project = ${quote(project)} AND domain IN ${quoteList(domains)} AND slot >= ${quote(from * SLOTS)} AND slot < ${quote(to * SLOTS)}
        AND batch = '' GROUP BY domain, slot`);
    const after = await this.stamps(project, domains, from, to);
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
      for (let h = from; h < to; h++) {
        const k = stampKey(project, d, h);
        if (before.get(k) !== after.get(k)) {
          this.stats.discarded++;
          continue;
        }
        this.blocks.delete(k);
        this.blocks.set(k, { stamp: before.get(k) ?? EMPTY, builtAt: now, bytes: built.get(k) ?? new Float64Array(SLOTS) });
      }
    }
    for (const k of this.blocks.keys()) {
      if (this.blocks.size <= MAX_BLOCKS) break;
      this.blocks.delete(k);
    }
    this.stats.built++;
  }

  close(): void {
    this.closed = true;
  }
}

const EMPTY = '0:0';
