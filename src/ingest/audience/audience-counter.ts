import type { AudienceCells } from '../../store/audience.js';
import { AUDIENCE_BLOCK_MINUTES } from '../../store/audience-flv.js';
import { BlockIdIndex } from '../../store/blocks/id-index.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
const BLOCK = AUDIENCE_BLOCK_MINUTES;
/** Geo codes as the resolver answers them (region index x 4 + isp index) fit in 8 bits. */
const GEO_BITS = 256;
/** Protocol indexes (AUDIENCE_PROTOCOLS): flv 0, hls 1, rtmp 2. */
export const AUDIENCE_FLV = 0;
export const AUDIENCE_HLS = 1;
const PROTOCOL_SLOTS = 4;
/** Epoch minutes and days stay below these (the year 2200), so (tuple, minute) fits in 53 bits. */
const MINUTE_SPACE = 2 ** 27;
const DAY_SPACE = 2 ** 17;
/** IPv4 addresses as unsigned integers: (pair number, address) fits in 53 bits while pairs stay below PAIR_LIMIT. */
const IP_SPACE = 2 ** 32;
const PAIR_LIMIT = 2 ** 21;
/** Measures of a (cell, minute) entry: open-session delta, play ms, bytes, lines. */
const ENTRY_WIDTH = 4;

/** Why a line's audience part was not (or not wholly) counted; the line itself still counts everywhere else. */
export type AudienceNote = 'no_request_time' | 'bad_request_time' | 'span_cut' | 'no_client_ip';
export const AUDIENCE_NOTES: readonly AudienceNote[] = ['no_request_time', 'bad_request_time', 'span_cut', 'no_client_ip'];

/** Cell numbers and tuple ids below this get an entry in AudienceCounter's caches; others go to the indexes only. */
const TUPLE_CACHE_LIMIT = 1 << 20;
/** `a` grown (doubled, new entries -1) to hold index `i`. */
function grownF64(a: Float64Array, i: number): Float64Array {
  let n = a.length;
  while (n <= i) n *= 2;
  const b = new Float64Array(n).fill(-1);
  b.set(a);
  return b;
}
function grownI32(a: Int32Array, i: number): Int32Array {
  let n = a.length;
  while (n <= i) n *= 2;
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

/**
 * Per tuple, its last key and the number the index gave it: the lines of one stream (and minute or
 * day) that follow each other in a batch skip the hash. Cleared with the index on drain.
 */
class TuplePairCache {
  private keys: Float64Array = new Float64Array(256).fill(-1);
  private pairs: Int32Array = new Int32Array(256);

  /** The number of `key` for `tuple`: from the cache, else from `index` (which numbers it when new). */
  pair(tuple: number, key: number, index: BlockIdIndex): number {
    if (tuple < this.keys.length && this.keys[tuple] === key) return this.pairs[tuple] as number;
    const p = index.add(key);
    if (tuple >= this.keys.length && tuple < TUPLE_CACHE_LIMIT) {
      this.keys = grownF64(this.keys, tuple);
      this.pairs = grownI32(this.pairs, tuple);
    }
    if (tuple < this.keys.length) {
      this.keys[tuple] = key;
      this.pairs[tuple] = p;
    }
    return p;
  }

  clear(): void {
    this.keys.fill(-1);
  }
}

/**
 * A client IP as the batch sets key it: a canonical dotted quad (the form its integer prints back to,
 * so no answer changes on any store) as its integer | 0 (a small integer: no string kept alive, no
 * allocation), any other text as itself.
 */
type IpKey = number | string;
const octetDigits = (o: number): number => (o < 10 ? 1 : o < 100 ? 2 : 3);
function ipKey(ip: string, v4: number): IpKey {
  if (v4 < 0) return ip;
  const len = octetDigits(v4 >>> 24) + octetDigits((v4 >>> 16) & 255) + octetDigits((v4 >>> 8) & 255) + octetDigits(v4 & 255) + 3;
  return ip.length === len ? v4 | 0 : ip;
}

/** The drained cells, built in typed columns that grow by doubling (no boxed numbers per cell-minute). */
class CellColumns {
  private n = 0;
  private tuple: Int32Array;
  private minute: Float64Array;
  private protocol: Uint8Array;
  private geo: Uint8Array;
  private opens: Float64Array;
  private closes: Float64Array;
  private playMs: Float64Array;
  private bytes: Float64Array;
  private requests: Float64Array;

  constructor(private cap: number) {
    this.tuple = new Int32Array(cap);
    this.minute = new Float64Array(cap);
    this.protocol = new Uint8Array(cap);
    this.geo = new Uint8Array(cap);
    this.opens = new Float64Array(cap);
    this.closes = new Float64Array(cap);
    this.playMs = new Float64Array(cap);
    this.bytes = new Float64Array(cap);
    this.requests = new Float64Array(cap);
  }

  push(tuple: number, minute: number, protocol: number, geo: number, opens: number, closes: number, playMs: number, bytes: number, requests: number): void {
    if (this.n === this.cap) this.grow();
    const i = this.n++;
    this.tuple[i] = tuple;
    this.minute[i] = minute;
    this.protocol[i] = protocol;
    this.geo[i] = geo;
    this.opens[i] = opens;
    this.closes[i] = closes;
    this.playMs[i] = playMs;
    this.bytes[i] = bytes;
    this.requests[i] = requests;
  }

  private grow(): void {
    this.cap *= 2;
    const more = <T extends Int32Array | Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(this.cap);
      b.set(a);
      return b;
    };
    this.tuple = more(this.tuple, (n) => new Int32Array(n));
    this.minute = more(this.minute, (n) => new Float64Array(n));
    this.protocol = more(this.protocol, (n) => new Uint8Array(n));
    this.geo = more(this.geo, (n) => new Uint8Array(n));
    this.opens = more(this.opens, (n) => new Float64Array(n));
    this.closes = more(this.closes, (n) => new Float64Array(n));
    this.playMs = more(this.playMs, (n) => new Float64Array(n));
    this.bytes = more(this.bytes, (n) => new Float64Array(n));
    this.requests = more(this.requests, (n) => new Float64Array(n));
  }

  /** Exact-length copies (each with its own buffer, as transfers between threads need). */
  take(): Pick<AudienceCells, 'tuple' | 'minute' | 'protocol' | 'geo' | 'sessions' | 'opens' | 'closes' | 'playMs' | 'bytes' | 'requests'> {
    const n = this.n;
    return {
      tuple: this.tuple.slice(0, n), minute: this.minute.slice(0, n), protocol: this.protocol.slice(0, n), geo: this.geo.slice(0, n),
      sessions: new Float64Array(n), opens: this.opens.slice(0, n), closes: this.closes.slice(0, n), playMs: this.playMs.slice(0, n), bytes: this.bytes.slice(0, n), requests: this.requests.slice(0, n),
    };
  }
}

/**
 * The first ids.length entries of a drain's typed columns, from an index of (pair, IPv4) ids: an id is
 * pair x IP_SPACE + the address, and the pair's key is tuple x space + its minute or day (times unit ms).
 * Exact integer splits, no floating-point remainder. The HLS viewers and the users both drain this way.
 */
function splitIndexed(ids: Float64Array, pairKeys: Float64Array, space: number, unit: number, tuple: Int32Array, time: Float64Array,
  v4: Float64Array): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    const pair = Math.floor(id / IP_SPACE);
    const key = pairKeys[pair] as number;
    const t = Math.floor(key / space);
    tuple[i] = t;
    time[i] = (key - t * space) * unit;
    v4[i] = id - pair * IP_SPACE;
  }
}

/**
 * Derives the audience cube's input from lines (audience-api.md):
 * - an FLV line is one session spanning [end - request_time, end); it is kept as two deltas (+1 at
 *   its first minute, -1 after its last) plus its play time per UTC day it touches, so a session of
 *   hours costs the same per line as one of a second; drain() sweeps each cell's touched minutes
 *   once and gives the stored form (src/store/audience-flv.ts): the deltas, and at each block start
 *   the sessions then open, so the cells of a batch grow with the blocks its sessions span, not
 *   with their minutes;
 * - an HLS line names a viewer (client IP, stream, minute), kept once per batch;
 * - every stream line adds its client IP to the (stream, UTC day) users.
 * Tuple ids are the traffic counter's (one drain of both at once).
 */
export class AudienceCounter {
  /**
   * (cell, minute) entries without an object or Map per entry: cells (tuple, protocol, geo) numbered
   * densely, entries numbered by (cell number x MINUTE_SPACE + minute), their measures in one
   * column of ENTRY_WIDTH values per entry.
   */
  private cellIndex = new BlockIdIndex(256);
  private entryIndex = new BlockIdIndex(1024);
  private values = new Float64Array(1024 * ENTRY_WIDTH);
  private lastCellKey = -1;
  private lastCell = -1;
  /**
   * HLS viewers and users with an IPv4 address: (tuple, minute) or (tuple, day) pairs numbered
   * densely, then (pair number x 2^32 + address) numbered; a viewer's geo by its number. Other
   * addresses (and pairs past PAIR_LIMIT) in Maps.
   */
  private hlsPairs = new BlockIdIndex(256);
  private hlsV4 = new BlockIdIndex(1024);
  private hlsGeo = new Uint8Array(1024);
  private hls = new Map<number, Map<IpKey, number>>();
  private userPairs = new BlockIdIndex(256);
  private usersV4 = new BlockIdIndex(1024);
  private users = new Map<number, Set<IpKey>>();
  private pending = 0;
  /**
   * Caches in front of the indexes, for the lines of one cell, stream or day that follow each other
   * in a batch: per cell number its last minute and entry number, per tuple its last HLS (minute,
   * pair) and users (day, pair). A hit answers what the index would, without hashing; a miss asks
   * the index. Reset with the indexes on drain.
   */
  private cellMinute: Float64Array = new Float64Array(256).fill(-1);
  private cellEntry: Int32Array = new Int32Array(256);
  private readonly tupleHls = new TuplePairCache();
  private readonly tupleUsers = new TuplePairCache();

  /** `pairLimit`: pairs numbered before the Maps take over (a test lowers it to reach them). */
  private readonly pairLimit: number;

  constructor(pairLimit = PAIR_LIMIT) {
    this.pairLimit = Math.min(pairLimit, PAIR_LIMIT);
  }

  /** Entries held (cell-minutes, viewers, users): the owner flushes past a bound. */
  get size(): number {
    return this.pending;
  }

  /** The offset in `values` of the (cell, minute) entry, made (all zero) when new. */
  private entry(tuple: number, protocol: number, geo: number, minute: number): number {
    const key = (tuple * PROTOCOL_SLOTS + protocol) * GEO_BITS + geo;
    let c = this.lastCell;
    if (key !== this.lastCellKey) {
      c = this.cellIndex.add(key);
      this.lastCellKey = key;
      this.lastCell = c;
    }
    if (c < this.cellMinute.length) {
      if (this.cellMinute[c] === minute) return (this.cellEntry[c] as number) * ENTRY_WIDTH;
    } else if (c < TUPLE_CACHE_LIMIT) {
      this.cellMinute = grownF64(this.cellMinute, c);
      this.cellEntry = grownI32(this.cellEntry, c);
    }
    const before = this.entryIndex.size;
    const e = this.entryIndex.add(c * MINUTE_SPACE + minute);
    if (c < this.cellMinute.length) {
      this.cellMinute[c] = minute;
      this.cellEntry[c] = e;
    }
    if (e === before) {
      this.pending++;
      if ((e + 1) * ENTRY_WIDTH > this.values.length) {
        const grown = new Float64Array(this.values.length * 2);
        grown.set(this.values);
        this.values = grown;
      }
    }
    return e * ENTRY_WIDTH;
  }

  /**
   * One FLV (or RTMP) session ending at `end` (epoch ms) after `durationMs` (>= 0), its first
   * minute no earlier than `oldest` (a longer span is cut there).
   */
  session(tuple: number, protocol: number, geo: number, end: number, durationMs: number, bytes: number): void {
    const endMinute = Math.floor(end / MINUTE);
    const start = end - durationMs;
    const first = Math.floor(start / MINUTE);
    const last = durationMs > 0 ? Math.ceil(end / MINUTE) - 1 : endMinute;
    // entry() may grow the values: each is taken after it.
    const a = this.entry(tuple, protocol, geo, first);
    this.values[a] = (this.values[a] as number) + 1;
    const b = this.entry(tuple, protocol, geo, last + 1);
    this.values[b] = (this.values[b] as number) - 1;
    // Play time: only day sums are read (the portrait), so each UTC day's share sits at the session's first minute of that day.
    for (let day = Math.floor(start / DAY) * DAY; day < end; day += DAY) {
      const from = Math.max(start, day);
      const c = this.entry(tuple, protocol, geo, Math.floor(from / MINUTE)) + 1;
      this.values[c] = (this.values[c] as number) + (Math.min(end, day + DAY) - from);
    }
    this.line(tuple, protocol, geo, endMinute, bytes);
  }

  /** Bytes and one line of a stream at the line's minute (HLS lines; FLV lines through session()). */
  line(tuple: number, protocol: number, geo: number, minute: number, bytes: number): void {
    const d = this.entry(tuple, protocol, geo, minute);
    const v = this.values;
    v[d + 2] = (v[d + 2] as number) + bytes;
    v[d + 3] = (v[d + 3] as number) + 1;
  }

  /**
   * An HLS viewer: client IP `ip` (`v4`: its parseIpv4 integer, -1 when not one) watched the tuple's
   * stream in `minute` (epoch minute). True when new to this batch.
   */
  viewer(tuple: number, minute: number, address: string, geo: number, v4 = -1): boolean {
    const ip = ipKey(address, v4);
    const key = tuple * MINUTE_SPACE + minute;
    if (typeof ip === 'number') {
      const p = this.tupleHls.pair(tuple, key, this.hlsPairs);
      if (p < this.pairLimit) {
        const before = this.hlsV4.size;
        const n = this.hlsV4.add(p * IP_SPACE + (ip >>> 0));
        if (n !== before) return false;
        if (n === this.hlsGeo.length) {
          const grown = new Uint8Array(n * 2);
          grown.set(this.hlsGeo);
          this.hlsGeo = grown;
        }
        this.hlsGeo[n] = geo;
        this.pending++;
        return true;
      }
    }
    let s = this.hls.get(key);
    if (s === undefined) {
      s = new Map();
      this.hls.set(key, s);
    }
    if (s.has(ip)) return false;
    s.set(ip, geo);
    this.pending++;
    return true;
  }

  /** A client IP of the tuple's stream on a UTC day (epoch ms of any instant of it); `v4` as for viewer(). */
  user(tuple: number, time: number, address: string, v4 = -1): void {
    const ip = ipKey(address, v4);
    const key = tuple * DAY_SPACE + Math.floor(time / DAY);
    if (typeof ip === 'number') {
      const u = this.tupleUsers.pair(tuple, key, this.userPairs);
      if (u < this.pairLimit) {
        const before = this.usersV4.size;
        if (this.usersV4.add(u * IP_SPACE + (ip >>> 0)) === before) this.pending++;
        return;
      }
    }
    let s = this.users.get(key);
    if (s === undefined) {
      s = new Set();
      this.users.set(key, s);
    }
    if (!s.has(ip)) {
      s.add(ip);
      this.pending++;
    }
  }

  /** Everything so far as cells over the given tuple names (the traffic counter's drain of the same lines); starts empty. */
  drain(domains: string[], apps: string[], streams: string[]): AudienceCells {
    const out = new CellColumns(256);
    const entries = this.entryIndex.size;
    // Entry keys ascending: each cell's entries together, its minutes ascending.
    const keys = Float64Array.from(this.entryIndex.ids()).sort();
    const cellKeys = this.cellIndex.ids();
    const v = this.values;
    for (let i = 0; i < entries; ) {
      const c = Math.floor((keys[i] as number) / MINUTE_SPACE);
      // The cell's key split by exact divisions (powers of two), not floating-point remainders.
      const key = cellKeys[c] as number;
      const rest = Math.floor(key / GEO_BITS);
      const g = key - rest * GEO_BITS;
      const t = Math.floor(rest / PROTOCOL_SLOTS);
      const p = rest - t * PROTOCOL_SLOTS;
      let open = 0;
      let at = 0;
      // Sweep the cell's touched minutes: at a block start the sessions open then (the block's base),
      // elsewhere the minute's delta; a block start between two touched minutes carries the open count.
      for (; i < entries && Math.floor((keys[i] as number) / MINUTE_SPACE) === c; i++) {
        const mi = (keys[i] as number) - c * MINUTE_SPACE;
        if (open > 0) {
          for (let b = (Math.floor(at / BLOCK) + 1) * BLOCK; b < mi; b += BLOCK) out.push(t, b * MINUTE, p, g, open, 0, 0, 0, 0);
        }
        const d = this.entryIndex.get(keys[i] as number) * ENTRY_WIDTH;
        const delta = v[d] as number;
        open += delta;
        at = mi;
        // Epoch minutes stay below 2^27 (MINUTE_SPACE): an integer remainder.
        const blockStart = (mi | 0) % BLOCK === 0;
        const opens = blockStart ? open : Math.max(0, delta);
        const closes = blockStart ? 0 : Math.max(0, -delta);
        const playMs = v[d + 1] as number;
        const bytes = v[d + 2] as number;
        const lines = v[d + 3] as number;
        if (opens > 0 || closes > 0 || playMs > 0 || bytes > 0 || lines > 0) out.push(t, mi * MINUTE, p, g, opens, closes, playMs, bytes, lines);
      }
    }
    // The viewers and users in typed columns of their exact length: IPv4 entries from the indexes (their
    // ids split without a floating-point remainder), then the Maps' entries.
    const hlsPairKeys = this.hlsPairs.ids();
    const hlsIds = this.hlsV4.ids();
    let hlsCount = hlsIds.length;
    for (const s of this.hls.values()) hlsCount += s.size;
    const hlsTuple = new Int32Array(hlsCount);
    const hlsMinute = new Float64Array(hlsCount);
    const hlsGeo = new Uint8Array(hlsCount);
    const hlsV4 = new Float64Array(hlsCount);
    const hlsIp = new Array<string>(hlsCount).fill('');
    splitIndexed(hlsIds, hlsPairKeys, MINUTE_SPACE, MINUTE, hlsTuple, hlsMinute, hlsV4);
    hlsGeo.set(this.hlsGeo.subarray(0, hlsIds.length));
    let h = hlsIds.length;
    for (const [key, s] of this.hls) {
      const t = Math.floor(key / MINUTE_SPACE);
      const mi = key - t * MINUTE_SPACE;
      for (const [ip, g] of s) {
        hlsTuple[h] = t;
        hlsMinute[h] = mi * MINUTE;
        hlsGeo[h] = g;
        if (typeof ip === 'number') hlsV4[h] = ip >>> 0;
        else {
          hlsIp[h] = ip;
          hlsV4[h] = -1;
        }
        h++;
      }
    }
    const userPairKeys = this.userPairs.ids();
    const userIds = this.usersV4.ids();
    let userCount = userIds.length;
    for (const s of this.users.values()) userCount += s.size;
    const userTuple = new Int32Array(userCount);
    const userDay = new Float64Array(userCount);
    const userV4 = new Float64Array(userCount);
    const userIp = new Array<string>(userCount).fill('');
    splitIndexed(userIds, userPairKeys, DAY_SPACE, DAY, userTuple, userDay, userV4);
    let u = userIds.length;
    for (const [key, s] of this.users) {
      const t = Math.floor(key / DAY_SPACE);
      const day = key - t * DAY_SPACE;
      for (const ip of s) {
        userTuple[u] = t;
        userDay[u] = day * DAY;
        if (typeof ip === 'number') userV4[u] = ip >>> 0;
        else {
          userIp[u] = ip;
          userV4[u] = -1;
        }
        u++;
      }
    }
    this.cellIndex = new BlockIdIndex(256);
    this.cellMinute.fill(-1);
    this.tupleHls.clear();
    this.tupleUsers.clear();
    this.entryIndex = new BlockIdIndex(Math.min(entries, 1 << 20));
    this.values = new Float64Array(Math.max(1024, Math.min(entries, 1 << 20)) * ENTRY_WIDTH);
    this.lastCellKey = -1;
    this.lastCell = -1;
    this.hlsPairs = new BlockIdIndex(256);
    this.hlsV4 = new BlockIdIndex(Math.min(hlsIds.length, 1 << 20));
    this.hlsGeo = new Uint8Array(Math.max(1024, Math.min(hlsIds.length, 1 << 20)));
    this.hls = new Map();
    this.userPairs = new BlockIdIndex(256);
    this.usersV4 = new BlockIdIndex(Math.min(userIds.length, 1 << 20));
    this.users = new Map();
    this.pending = 0;
    return {
      domains, apps, streams,
      ...out.take(),
      hlsTuple, hlsMinute, hlsGeo, hlsIp, hlsV4,
      userTuple, userDay, userIp, userV4,
    };
  }

  /** Typed arrays of a drained batch (transferred between threads). */
  static buffers(c: AudienceCells): ArrayBuffer[] {
    return [c.tuple, c.minute, c.protocol, c.geo, c.sessions, c.opens, c.closes, c.playMs, c.bytes, c.requests, c.hlsTuple, c.hlsMinute, c.hlsGeo, c.userTuple, c.userDay, c.hlsV4, c.userV4]
      .flatMap((a) => (a ? [a.buffer as ArrayBuffer] : []));
  }
}
