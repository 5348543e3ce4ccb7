import type { StoredIpType, StoredProtocol } from '../../contract/traffic/values.js';
import { IP_TYPE_CODES, PROTOCOL_CODES, type PackedTraffic } from '../../store/packed.js';
import { IntCounts } from '../int-counts.js';

export { IP_TYPE_CODES, PROTOCOL_CODES } from '../../store/packed.js';

/** The traffic cube's slot: 5 minutes. */
export const TRAFFIC_SLOT_MS = 300_000;

const PROTOCOL_INDEX = new Map<StoredProtocol, number>(PROTOCOL_CODES.map((p, i) => [p, i]));
const IP_TYPE_INDEX = new Map<StoredIpType, number>(IP_TYPE_CODES.map((p, i) => [p, i]));
/** Geo codes as the resolver answers them: region index x 4 + isp index (35 x 4). */
const GEOS = 140;
const KINDS = PROTOCOL_CODES.length * IP_TYPE_CODES.length;
/** (tuple, slot) pairs per drain: cell keys stay below 2^31. */
const MAX_TUPLE_SLOTS = Math.floor(0x7fffffff / (GEOS * KINDS));

/** What a TrafficCounter drained (typed arrays and string arrays: cheap to move between threads). */
export type TrafficBatch = PackedTraffic;

const FNV = 16777619;

/**
 * Sums log lines into traffic cells (sparse: a cell exists only where traffic does), keyed by a
 * small integer: ((tuple, 5-minute slot) pair x 140 + geo) x 9 + protocol x 3 + ip type.
 * (domain, app, stream) tuples are interned from character ranges of the line itself (hashed and
 * compared in place), so a line that names a known stream makes no string. A drained batch
 * carries each tuple once.
 */
export class TrafficCounter {
  private domainIndex = new Map<string, number>();
  private lastDomain = '';
  private lastDomainId = -1;
  private domains: string[] = [];
  private apps: string[] = [];
  private streams: string[] = [];
  private tupleDomain: number[] = [];
  /** Open addressing over tuples: entry = tuple + 1 (0 empty). */
  private table = new Int32Array(1024);
  private hashes = new Int32Array(1024);
  /** Per tuple: the last (tuple, slot) pair used (lines come mostly in time order). */
  private lastSlot: number[] = [];
  private lastPair: number[] = [];
  private pairIndex = new Map<number, number>();
  private pairTuple: number[] = [];
  private pairSlot: number[] = [];
  private cells = new IntCounts();

  get size(): number {
    return this.cells.size;
  }

  /** Distinct (tuple, slot) pairs so far; add returns false once full. */
  get full(): boolean {
    return this.pairTuple.length >= MAX_TUPLE_SLOTS;
  }

  private domainId(domain: string): number {
    if (domain === this.lastDomain && this.lastDomainId >= 0) return this.lastDomainId;
    let id = this.domainIndex.get(domain);
    if (id === undefined) {
      id = this.domainIndex.size;
      this.domainIndex.set(domain, id);
    }
    this.lastDomain = domain;
    this.lastDomainId = id;
    return id;
  }

  /** Asked before a new stream tuple is created; false: it is not (tupleOfRanges answers -1). */
  admit: ((domain: string, app: string, stream: string) => boolean) | undefined;

  /**
   * The tuple of (domain, s[a0, a1), s[s0, s1)), created when new (-1 when `admit` refuses it). Empty ranges (a0 = a1) are the
   * "no stream" tuple of the domain.
   */
  tupleOfRanges(domain: string, s: string, a0: number, a1: number, s0: number, s1: number): number {
    const d = this.domainId(domain);
    let h = Math.imul(d + 1, 0x9e3779b1);
    for (let i = a0; i < a1; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV);
    h = Math.imul(h ^ 0x2f, FNV);
    for (let i = s0; i < s1; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV);
    const mask = this.table.length - 1;
    let at = (h >>> 0) & mask;
    for (;;) {
      const e = this.table[at] as number;
      if (e === 0) break;
      const t = e - 1;
      if (this.hashes[at] === h && this.tupleDomain[t] === d && same(this.apps[t] as string, s, a0, a1) && same(this.streams[t] as string, s, s0, s1)) {
        return t;
      }
      at = (at + 1) & mask;
    }
    const app = s.slice(a0, a1);
    const stream = s.slice(s0, s1);
    if (this.admit !== undefined && (a0 < a1 || s0 < s1) && !this.admit(domain, app, stream)) return -1;
    const t = this.domains.length;
    this.domains.push(domain);
    this.apps.push(app);
    this.streams.push(stream);
    this.tupleDomain.push(d);
    this.lastSlot.push(-1);
    this.lastPair.push(-1);
    this.table[at] = t + 1;
    this.hashes[at] = h;
    if ((t + 1) * 2 > mask) this.growTable();
    return t;
  }

  /** The tuple of (domain, app, stream) given as strings. */
  tupleOf(domain: string, app: string, stream: string): number {
    if (app === '' && stream === '') return this.tupleOfRanges(domain, '', 0, 0, 0, 0);
    const s = `${app}/${stream}`;
    return this.tupleOfRanges(domain, s, 0, app.length, app.length + 1, s.length);
  }

  private growTable(): void {
    const size = this.table.length * 2;
    const table = new Int32Array(size);
    const hashes = new Int32Array(size);
    for (let i = 0; i < this.table.length; i++) {
      const e = this.table[i] as number;
      if (e === 0) continue;
      const h = this.hashes[i] as number;
      let at = (h >>> 0) & (size - 1);
      while (table[at] !== 0) at = (at + 1) & (size - 1);
      table[at] = e;
      hashes[at] = h;
    }
    this.table = table;
    this.hashes = hashes;
  }

  /**
   * Counts `n` requests of a tuple (tupleOf / tupleOfRanges) at `time` sending `bytes`; protocol
   * and ipType are indexes into PROTOCOL_CODES and IP_TYPE_CODES. False (nothing counted) when full: drain, then add again.
   */
  addTuple(tuple: number, protocol: number, time: number, geo: number, ipType: number, bytes: number, n = 1): boolean {
    const slot = Math.floor(time / TRAFFIC_SLOT_MS);
    let pair: number;
    if (this.lastSlot[tuple] === slot) {
      pair = this.lastPair[tuple] as number;
    } else {
      const pk = slot * 2 ** 21 + tuple;
      const found = this.pairIndex.get(pk);
      if (found === undefined) {
        if (this.pairTuple.length >= MAX_TUPLE_SLOTS) return false;
        pair = this.pairTuple.length;
        this.pairIndex.set(pk, pair);
        this.pairTuple.push(tuple);
        this.pairSlot.push(slot * TRAFFIC_SLOT_MS);
      } else {
        pair = found;
      }
      this.lastSlot[tuple] = slot;
      this.lastPair[tuple] = pair;
    }
    this.cells.add((pair * GEOS + geo) * KINDS + protocol * IP_TYPE_CODES.length + ipType, n, bytes);
    return true;
  }

  /** Counts `n` requests of one (domain, app, stream, protocol) at `time` sending `bytes` in all. */
  add(
    domain: string, app: string, stream: string, protocol: StoredProtocol, time: number, geo: number, ipType: StoredIpType,
    bytes: number, n = 1,
  ): boolean {
    return this.addTuple(this.tupleOf(domain, app, stream), PROTOCOL_INDEX.get(protocol) as number, time, geo,
      IP_TYPE_INDEX.get(ipType) as number, bytes, n);
  }

  /** Tuples interned so far (a drain starts anew past this many: tuple ids are per drain). */
  get tuples(): number {
    return this.domains.length;
  }

  /** Everything counted so far, and starts empty. */
  drain(): TrafficBatch {
    const { keys, counts, bytes } = this.cells.take();
    const n = keys.length;
    const batch: TrafficBatch = {
      domains: this.domains, apps: this.apps, streams: this.streams,
      tuple: new Int32Array(n), slot: new Float64Array(n), geo: new Uint8Array(n), protocol: new Uint8Array(n),
      ipType: new Uint8Array(n), requests: counts, bytes,
    };
    for (let i = 0; i < n; i++) {
      const key = keys[i] as number;
      const kind = key % KINDS;
      const rest = (key - kind) / KINDS;
      const geo = rest % GEOS;
      const pair = (rest - geo) / GEOS;
      batch.tuple[i] = this.pairTuple[pair] as number;
      batch.slot[i] = this.pairSlot[pair] as number;
      batch.geo[i] = geo;
      batch.protocol[i] = Math.floor(kind / IP_TYPE_CODES.length);
      batch.ipType[i] = kind % IP_TYPE_CODES.length;
    }
    this.domainIndex = new Map();
    this.lastDomain = '';
    this.lastDomainId = -1;
    this.domains = [];
    this.apps = [];
    this.streams = [];
    this.tupleDomain = [];
    this.table = new Int32Array(1024);
    this.hashes = new Int32Array(1024);
    this.lastSlot = [];
    this.lastPair = [];
    this.pairIndex = new Map();
    this.pairTuple = [];
    this.pairSlot = [];
    return batch;
  }
}

function same(name: string, s: string, from: number, to: number): boolean {
  if (name.length !== to - from) return false;
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) !== s.charCodeAt(from + i)) return false;
  return true;
}

/** One decoded cell of a batch. */
export interface TrafficCell {
  domain: string;
  app: string;
  stream: string;
  protocol: StoredProtocol;
  ipType: StoredIpType;
  /** Slot start, epoch ms. */
  slot: number;
  geo: number;
  requests: number;
  bytes: number;
}

/** Calls fn for each cell of a drained batch. */
export function forEachTrafficCell(batch: TrafficBatch, fn: (cell: TrafficCell) => void): void {
  for (let i = 0; i < batch.tuple.length; i++) {
    const t = batch.tuple[i] as number;
    fn({
      domain: batch.domains[t] as string, app: batch.apps[t] as string, stream: batch.streams[t] as string,
      protocol: PROTOCOL_CODES[batch.protocol[i] as number] as StoredProtocol,
      ipType: IP_TYPE_CODES[batch.ipType[i] as number] as StoredIpType,
      slot: batch.slot[i] as number, geo: batch.geo[i] as number,
      requests: batch.requests[i] as number, bytes: batch.bytes[i] as number,
    });
  }
}
