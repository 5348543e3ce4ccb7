import { IP_TYPES, PROTOCOLS } from '../../contract/traffic/values.js';
import { ISPS, REGIONS } from '../../contract/values.js';
import type { TrafficFilter } from '../traffic.js';
import { BlockCache, EMPTY_STAMP, sqlRanges, type HourBlocksOptions, type StampedBlock } from './block-cache.js';
import { num, str, type ChConnection } from './client.js';
import { table, type SchemaNames } from './schema.js';
import { quote, quoteList } from './sql.js';
import { stampKey, StampReads } from './stamp-reads.js';
import { totalsOnly } from './traffic-blocks.js';
import { filterConditions } from './traffic.js';

const HOUR = 3_600_000;
const SLOT_MS = 300_000;
const SLOTS = 12;
/** Hours built by one query: a head domain's hour is thousands of rows, parsed on the main thread. */
const BUILD_HOURS = 6;
/** Stamps reads of one table in flight at once (stamp-reads.ts). */
const STAMP_READS_IN_FLIGHT = 3;
/** (domain, hour)s of one answer at most (31 days of 3 domains); more: by SQL. */
export const MAX_ANSWER_BLOCKS = 31 * 24 * 3;
/** Blocks waiting for a build at most; beyond, stale hours are answered by SQL and not queued. */
const MAX_QUEUED_BLOCKS = 4 * MAX_ANSWER_BLOCKS;
/** Cells added up on the main thread for one answer at most; more: the answer by SQL (ClickHouse sums it). */
export const MAX_SUM_CELLS = 200_000;
/** The traffic cells' share of the hour blocks' byte budget (--clickhouse-hour-blocks-mib); the request counts' blocks get the rest. */
export const TRAFFIC_CELLS_SHARE = 1 / 8;
/** What a block weighs beside its arrays (the object, its key and the map entry), bytes. */
const BLOCK_OVERHEAD = 200;

/** The stored values of each dimension, in code order ('other': stored, never asked by a filter). */
const STORED_PROTOCOLS = [...PROTOCOLS, 'other'] as const;
const STORED_IP_TYPES = [...IP_TYPES, 'other'] as const;
const NP = STORED_PROTOCOLS.length;
const NT = STORED_IP_TYPES.length;
const NI = ISPS.length;
/** Codes of one (region, isp) pair: protocol x address family x slot. */
const PAIR_CODES = NP * NT * SLOTS;
const PAIRS = REGIONS.length * NI;
/** Every code of an hour: 35 x 4 x 3 x 3 x 12 = 15,120 (fits a Uint16). */
const CODES = PAIRS * PAIR_CODES;

/**
 * One (project, domain, scope, hour): the hour's bytes per (region, isp, protocol, address family,
 * 5-minute slot) with any traffic, packed: `codes` ascending (code = (((region x 4 + isp) x 3 +
 * protocol) x 3 + address family) x 12 + slot), `bytes` beside them, and where each (region, isp)
 * pair's codes start (`pairs`, PAIRS + 1 offsets), so a region or isp filter reads only its pairs.
 */
interface CellBlock extends StampedBlock {
  codes: Uint16Array;
  bytes: Float64Array;
  pairs: Uint16Array;
}

const weigh = (b: CellBlock): number => b.codes.byteLength + b.bytes.byteLength + b.pairs.byteLength + BLOCK_OVERHEAD;

/**
 * Which cells a filter's blocks hold: the rows of one stream (app and stream), of one app's streams
 * (app alone), of one stream name in any app (stream alone), all read from `traffic_streams`; or,
 * without app and stream, the per-domain rows of `traffic_domains`.
 */
interface Scope {
  key: string;
  perStream: boolean;
}

function scopeOf(f: TrafficFilter): Scope {
  const perStream = f.app !== undefined || f.stream !== undefined;
  const part = (v: string | undefined): string => (v === undefined ? '*' : `=${v}`);
  return { key: perStream ? `s${part(f.app)}\u0000${part(f.stream)}` : 'd', perStream };
}

/** The (region, isp) pairs and the protocol and address-family codes a filter selects. */
function selection(f: TrafficFilter): { pairs: number[]; protocols: Uint8Array; ipTypes: Uint8Array } {
  // A value outside the lists (the contract lets none through) selects nothing, as in SQL.
  const regions = (f.regions.length > 0 ? f.regions.map((r) => REGIONS.indexOf(r)) : REGIONS.map((_, i) => i)).filter((r) => r >= 0);
  const isps = (f.isps.length > 0 ? f.isps.map((i) => ISPS.indexOf(i)) : ISPS.map((_, i) => i)).filter((i) => i >= 0);
  const pairs = [...new Set(regions.flatMap((r) => isps.map((i) => r * NI + i)))].sort((a, b) => a - b);
  const protocols = new Uint8Array(NP).fill(f.protocol === undefined ? 1 : 0);
  if (f.protocol !== undefined) protocols[STORED_PROTOCOLS.indexOf(f.protocol)] = 1;
  const ipTypes = new Uint8Array(NT).fill(f.ipType === undefined ? 1 : 0);
  if (f.ipType !== undefined) ipTypes[STORED_IP_TYPES.indexOf(f.ipType)] = 1;
  return { pairs, protocols, ipTypes };
}

/** The block of one hour's cells from its bytes by code (a dense array of CODES, zeros left out). */
export function packCells(dense: Float64Array, stamp: string, builtAt: number): CellBlock {
  let n = 0;
  for (let c = 0; c < CODES; c++) if (dense[c] !== 0) n++;
  const codes = new Uint16Array(n);
  const bytes = new Float64Array(n);
  const pairs = new Uint16Array(PAIRS + 1);
  let k = 0;
  for (let p = 0; p < PAIRS; p++) {
    pairs[p] = k;
    for (let c = p * PAIR_CODES, end = c + PAIR_CODES; c < end; c++) {
      const v = dense[c] as number;
      if (v === 0) continue;
      codes[k] = c;
      bytes[k] = v;
      k++;
    }
  }
  pairs[PAIRS] = k;
  return { stamp, builtAt, codes, bytes, pairs };
}

/**
 * Closed hours of the traffic cube's filtered cells kept in this node's memory (issue 24): the
 * traffic and bandwidth answers with an app, a stream, a protocol, regions, isps or an address
 * family (the per-stream row of the dense bench: one stream, region GD,SH + isp CMCC) add up blocks
 * instead of having ClickHouse read `traffic_streams`. A block is one (project, domain, scope, hour):
 * the scope is the filter's app and stream (see Scope), so a node keeps the streams it is asked about,
 * not every stream of a head domain; the region, isp, protocol and address-family filters are applied
 * when adding up (per (region, isp) pair offsets: region GD,SH + isp CMCC reads 2 of 140 pairs).
 *
 * Exact while several nodes write, by the rule of the other hour blocks (block-cache.ts): per-stream
 * blocks are checked against the stamps of migration 013 (every insert into traffic_streams changes
 * its hours' stamps), the per-domain scope against those of 009 (traffic_domains); a retried traffic
 * write bumps both; a block is kept only when the stamps before and after its rows agree; a query uses
 * a block only when it has the current stamp (read after the query arrived) and is younger than the
 * maximum age. Hours without one, the edges and the last minutes are read by SQL with the filter.
 *
 * Memory: at most `budgetBytes` (a share of --clickhouse-hour-blocks-mib), least recently built
 * dropped first; a block is ~10 bytes a cell (a one-stream hour of the dense bench: ~1,700 cells).
 * The adding up runs on the main thread only while it is small (MAX_SUM_CELLS cells, ~1 ms); a
 * bigger answer (an app's every stream over many domains and days, no region filter) goes by SQL, so
 * ClickHouse, not this thread, does that sum.
 */
export class TrafficCells {
  private readonly cache: BlockCache<CellBlock>;
  private readonly streamStamps: StampReads;
  private readonly domainStamps: StampReads;
  readonly stats: BlockCache<CellBlock>['stats'] & { tooBig: number };
  /** Blocks claimed for a build and not built yet (MAX_QUEUED_BLOCKS). */
  private queuedBlocks = 0;

  constructor(private readonly server: ChConnection, private readonly names: SchemaNames, options: HourBlocksOptions, budgetBytes: number) {
    this.streamStamps = new StampReads(server, table(names, 'traffic_stream_stamps'), 'domain', STAMP_READS_IN_FLIGHT);
    this.domainStamps = new StampReads(server, table(names, 'traffic_stamps'), 'domain', STAMP_READS_IN_FLIGHT);
    this.cache = new BlockCache<CellBlock>(this.streamStamps, options, budgetBytes, weigh);
    this.stats = Object.assign(this.cache.stats, { tooBig: 0 });
  }

  private blockKey(scope: Scope, project: string, domain: string, hour: number): string {
    return `${scope.key}\u0000${stampKey(project, domain, hour)}`;
  }

  /** trafficSeries from blocks plus SQL, or undefined: the whole query by SQL. */
  async series(f: TrafficFilter, signal?: AbortSignal, now = Date.now()): Promise<Float64Array | undefined> {
    const by = await this.answer(f, false, signal, now);
    return by?.get('') ?? (by ? new Float64Array(Math.max(0, (f.to - f.from) / f.slotMs)) : undefined);
  }

  /** trafficByDomain from blocks plus SQL (a domain with no cell in the window left out), or undefined. */
  byDomain(f: TrafficFilter, signal?: AbortSignal, now = Date.now()): Promise<Map<string, Float64Array> | undefined> {
    return this.answer(f, true, signal, now);
  }

  /** The series by domain (`perDomain`) or all in one under '' (absent: nothing in the window). */
  private async answer(f: TrafficFilter, perDomain: boolean, signal: AbortSignal | undefined, now: number): Promise<Map<string, Float64Array> | undefined> {
    if (this.cache.closed || totalsOnly(f) || f.domains.length === 0 || f.from % SLOT_MS !== 0) return undefined;
    const count = Math.max(0, (f.to - f.from) / f.slotMs);
    const firstHour = Math.ceil(f.from / HOUR);
    const endHour = this.cache.endHour(f.to, now);
    if (!Number.isInteger(count) || endHour <= firstHour) return undefined;
    // More (domain, hour)s than the answer may use: by SQL, building none (it would push every other block out).
    if (new Set(f.domains).size * (endHour - firstHour) > MAX_ANSWER_BLOCKS) return undefined;
    const scope = scopeOf(f);
    const domains = [...new Set(f.domains)];
    const stamps = await (scope.perStream ? this.streamStamps : this.domainStamps).read(f.project, domains, firstHour, endHour);
    if (signal?.aborted) return undefined;
    const sel = selection(f);
    const stale: Array<{ domain: string; hour: number }> = [];
    const staleHour = new Uint8Array(endHour - firstHour);
    const use: Array<{ domain: string; hour: number; b: CellBlock }> = [];
    let cells = 0;
    for (const domain of domains) {
      for (let h = firstHour; h < endHour; h++) {
        const b = this.cache.get(this.blockKey(scope, f.project, domain, h));
        if (!b || b.stamp !== (stamps.get(stampKey(f.project, domain, h)) ?? EMPTY_STAMP) || now - b.builtAt > this.cache.maxAgeMs) {
          stale.push({ domain, hour: h });
          staleHour[h - firstHour] = 1;
          continue;
        }
        use.push({ domain, hour: h, b });
      }
    }
    // An hour stale for any domain is read by SQL for every domain: the other domains' blocks of it are left out.
    const blocks = use.filter((u) => !staleHour[u.hour - firstHour]);
    for (const { b } of blocks) for (const p of sel.pairs) cells += (b.pairs[p + 1] as number) - (b.pairs[p] as number);
    const runs = sqlRanges(f.from, f.to, firstHour, endHour, staleHour).filter(([a, b]) => b > a);
    if (stale.length > 0) this.schedule(scope, f, stale);
    if (this.cache.bySql(runs.length, stale.length, domains.length * (endHour - firstHour))) return undefined;
    if (cells > MAX_SUM_CELLS) {
      this.stats.tooBig++;
      return undefined;
    }
    const out = new Map<string, Float64Array>();
    const series = (domain: string): Float64Array => {
      const k = perDomain ? domain : '';
      let s = out.get(k);
      if (!s) out.set(k, (s = new Float64Array(count)));
      return s;
    };
    const rows = await Promise.all(runs.map(([a, b]) => this.server.rows(`SELECT domain, slot, sum(bytes) AS b FROM ${this.table(scope)}
      WHERE ${this.where(f, domains)} AND slot >= ${quote(a / SLOT_MS)} AND slot < ${quote(Math.ceil(b / SLOT_MS))}
      GROUP BY domain, slot`, signal)));
    for (const r of rows.flat()) {
      const i = Math.floor((num(r.slot) * SLOT_MS - f.from) / f.slotMs);
      const s = series(str(r.domain));
      if (i >= 0 && i < count) s[i] = (s[i] as number) + num(r.b);
    }
    for (const { domain, hour, b } of blocks) {
      const hourStart = hour * HOUR - f.from;
      let s: Float64Array | undefined;
      for (const p of sel.pairs) {
        for (let k = b.pairs[p] as number, end = b.pairs[p + 1] as number; k < end; k++) {
          const code = b.codes[k] as number;
          const slot = code % SLOTS;
          const rest = (code - slot) / SLOTS;
          if (!sel.ipTypes[rest % NT] || !sel.protocols[Math.floor(rest / NT) % NP]) continue;
          const i = Math.floor((hourStart + slot * SLOT_MS) / f.slotMs);
          if (i < 0 || i >= count) continue;
          s ??= series(domain);
          s[i] = (s[i] as number) + (b.bytes[k] as number);
        }
      }
    }
    this.cache.answered(stale.length);
    return out;
  }

  private table(scope: Scope): string {
    return table(this.names, scope.perStream ? 'traffic_streams' : 'traffic_domains');
  }

  /** The filter's conditions but the slot range (the SQL path's, traffic.ts). */
  private where(f: TrafficFilter, domains: readonly string[]): string {
    return [`project = ${quote(f.project)}`, `domain IN ${quoteList(domains)}`, "batch = ''", ...filterConditions(f)].join(' AND ');
  }

  /** Queues builds of the stale cells not queued yet: runs of up to BUILD_HOURS hours, each with the domains stale in any of them. */
  private schedule(scope: Scope, f: TrafficFilter, stale: ReadonlyArray<{ domain: string; hour: number }>): void {
    // Scopes are as many as the names asked: a client asking for stream after stream queues no more than this.
    if (this.queuedBlocks >= MAX_QUEUED_BLOCKS) return;
    const byHour = new Map<number, string[]>();
    for (const s of stale) {
      if (!this.cache.claim(this.blockKey(scope, f.project, s.domain, s.hour))) continue;
      this.queuedBlocks++;
      const list = byHour.get(s.hour);
      if (list) list.push(s.domain);
      else byHour.set(s.hour, [s.domain]);
    }
    const hours = [...byHour.keys()].sort((a, b) => a - b);
    // Only what defines the scope: a build serves every later filter of the same app and stream.
    const base: TrafficFilter = { ...f, protocol: undefined, regions: [], isps: [], ipType: undefined };
    for (let i = 0; i < hours.length;) {
      const from = hours[i] as number;
      let j = i;
      while (j + 1 < hours.length && (hours[j + 1] as number) === (hours[j] as number) + 1 && (hours[j + 1] as number) - from < BUILD_HOURS) j++;
      const to = (hours[j] as number) + 1;
      const slice = hours.slice(i, j + 1);
      const domains = [...new Set(slice.flatMap((h) => byHour.get(h) as string[]))];
      i = j + 1;
      this.cache.enqueue(() => this.build(scope, base, domains, from, to), () => {
        const keys: string[] = [];
        for (const h of slice) for (const d of byHour.get(h) ?? []) keys.push(this.blockKey(scope, f.project, d, h));
        this.queuedBlocks -= keys.length;
        return keys;
      });
    }
  }

  private async readStamps(scope: Scope, project: string, domains: readonly string[], from: number, to: number): Promise<Map<string, string>> {
    const rows = await this.server.rows(`SELECT domain, hour, sum(rows) AS r, sum(tags) AS t FROM ${table(this.names, scope.perStream ? 'traffic_stream_stamps' : 'traffic_stamps')}
      WHERE project = ${quote(project)} AND domain IN ${quoteList(domains)} AND hour >= ${quote(from)} AND hour < ${quote(to)}
      GROUP BY domain, hour`);
    const out = new Map<string, string>();
    for (const r of rows) out.set(stampKey(project, str(r.domain), num(r.hour)), `${String(r.r)}:${String(r.t)}`);
    return out;
  }

  /**
   * Builds the blocks of `domains` x hours [from, to) of a scope: kept for each (domain, hour) whose
   * stamp did not change meanwhile and whose rows all have known values. The rows come as numbers
   * only (TabSeparated: domain index, slot, value indexes from 1, bytes): no JSON parse.
   */
  private async build(scope: Scope, f: TrafficFilter, domains: string[], from: number, to: number): Promise<void> {
    if (this.cache.closed) return;
    const project = f.project;
    const before = await this.readStamps(scope, project, domains, from, to);
    const idx = (column: string, values: readonly string[]): string => `indexOf(${`[${values.map((v) => quote(v)).join(', ')}]`}, ${column})`;
    const text = await this.server.tsv(`SELECT indexOf(${`[${domains.map((d) => quote(d)).join(', ')}]`}, domain) AS d, slot,
        ${idx('region', REGIONS)} AS r, ${idx('isp', ISPS)} AS i, ${idx('protocol', STORED_PROTOCOLS)} AS p, ${idx('ip_type', STORED_IP_TYPES)} AS t, sum(bytes) AS b
      FROM ${this.table(scope)}
      WHERE ${this.where(f, domains)} AND slot >= ${quote(from * SLOTS)} AND slot < ${quote(to * SLOTS)}
      GROUP BY d, slot, r, i, p, t`);
    const after = await this.readStamps(scope, project, domains, from, to);
    const hours = to - from;
    const dense = new Map<number, Float64Array>();
    const unknown = new Set<number>();
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const v = line.split('\t').map(Number);
      const [d = 0, slot = 0, r = 0, i = 0, p = 0, t = 0, b = 0] = v;
      const cell = (d - 1) * hours + Math.floor(slot / SLOTS) - from;
      if (r === 0 || i === 0 || p === 0 || t === 0) {
        unknown.add(cell);
        continue;
      }
      let arr = dense.get(cell);
      if (!arr) dense.set(cell, (arr = new Float64Array(CODES)));
      const code = (((((r - 1) * NI + (i - 1)) * NP + (p - 1)) * NT + (t - 1)) * SLOTS) + (slot % SLOTS);
      arr[code] = (arr[code] as number) + b;
    }
    const now = Date.now();
    const empty = new Float64Array(CODES);
    domains.forEach((d, di) => {
      for (let h = from; h < to; h++) {
        const k = stampKey(project, d, h);
        const cell = di * hours + h - from;
        if (before.get(k) !== after.get(k) || unknown.has(cell)) {
          this.stats.discarded++;
          continue;
        }
        this.cache.put(this.blockKey(scope, project, d, h), packCells(dense.get(cell) ?? empty, before.get(k) ?? EMPTY_STAMP, now));
      }
    });
    this.stats.built++;
  }

  close(): void {
    this.cache.closed = true;
  }
}
