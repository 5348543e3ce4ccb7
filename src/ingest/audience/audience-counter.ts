import type { AudienceCells } from '../../store/audience.js';
import { AUDIENCE_BLOCK_MINUTES } from '../../store/audience-flv.js';

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

/** Why a line's audience part was not (or not wholly) counted; the line itself still counts everywhere else. */
export type AudienceNote = 'no_request_time' | 'bad_request_time' | 'span_cut' | 'no_client_ip';
export const AUDIENCE_NOTES: readonly AudienceNote[] = ['no_request_time', 'bad_request_time', 'span_cut', 'no_client_ip'];

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

/** Per cell (tuple, protocol, geo): the minutes it touches, each [open-session delta, play ms, bytes, lines]. */
type MinuteDeltas = Map<number, Float64Array>;

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
  private cells = new Map<number, MinuteDeltas>();
  private hls = new Map<number, Map<IpKey, number>>();
  private users = new Map<number, Set<IpKey>>();
  private pending = 0;

  /** Entries held (cell-minutes, viewers, users): the owner flushes past a bound. */
  get size(): number {
    return this.pending;
  }

  private deltas(tuple: number, protocol: number, geo: number, minute: number): Float64Array {
    const key = (tuple * PROTOCOL_SLOTS + protocol) * GEO_BITS + geo;
    let m = this.cells.get(key);
    if (m === undefined) {
      m = new Map();
      this.cells.set(key, m);
    }
    let d = m.get(minute);
    if (d === undefined) {
      d = new Float64Array(4);
      m.set(minute, d);
      this.pending++;
    }
    return d;
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
    const a = this.deltas(tuple, protocol, geo, first);
    a[0] = (a[0] as number) + 1;
    const b = this.deltas(tuple, protocol, geo, last + 1);
    b[0] = (b[0] as number) - 1;
    // Play time: only day sums are read (the portrait), so each UTC day's share sits at the session's first minute of that day.
    for (let day = Math.floor(start / DAY) * DAY; day < end; day += DAY) {
      const from = Math.max(start, day);
      const c = this.deltas(tuple, protocol, geo, Math.floor(from / MINUTE));
      c[1] = (c[1] as number) + (Math.min(end, day + DAY) - from);
    }
    this.line(tuple, protocol, geo, endMinute, bytes);
  }

  /** Bytes and one line of a stream at the line's minute (HLS lines; FLV lines through session()). */
  line(tuple: number, protocol: number, geo: number, minute: number, bytes: number): void {
    const d = this.deltas(tuple, protocol, geo, minute);
    d[2] = (d[2] as number) + bytes;
    d[3] = (d[3] as number) + 1;
  }

  /**
   * An HLS viewer: client IP `ip` (`v4`: its parseIpv4 integer, -1 when not one) watched the tuple's
   * stream in `minute` (epoch minute). True when new to this batch.
   */
  viewer(tuple: number, minute: number, address: string, geo: number, v4 = -1): boolean {
    const ip = ipKey(address, v4);
    const key = tuple * MINUTE_SPACE + minute;
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
    for (const [key, m] of this.cells) {
      const g = key % GEO_BITS;
      const rest = (key - g) / GEO_BITS;
      const p = rest % PROTOCOL_SLOTS;
      const t = (rest - p) / PROTOCOL_SLOTS;
      const minutes = m.size === 1 ? [...m.keys()] : Float64Array.from(m.keys()).sort();
      let open = 0;
      let at = 0;
      // Sweep the cell's touched minutes: at a block start the sessions open then (the block's base),
      // elsewhere the minute's delta; a block start between two touched minutes carries the open count.
      for (let i = 0; i < minutes.length; i++) {
        const mi = minutes[i] as number;
        if (open > 0) {
          for (let b = (Math.floor(at / BLOCK) + 1) * BLOCK; b < mi; b += BLOCK) out.push(t, b * MINUTE, p, g, open, 0, 0, 0, 0);
        }
        const d = m.get(mi) as Float64Array;
        const delta = d[0] as number;
        open += delta;
        at = mi;
        const opens = mi % BLOCK === 0 ? open : Math.max(0, delta);
        const closes = mi % BLOCK === 0 ? 0 : Math.max(0, -delta);
        if (opens > 0 || closes > 0 || (d[1] as number) > 0 || (d[2] as number) > 0 || (d[3] as number) > 0) {
          out.push(t, mi * MINUTE, p, g, opens, closes, d[1] as number, d[2] as number, d[3] as number);
        }
      }
    }
    const hlsTuple: number[] = [];
    const hlsMinute: number[] = [];
    const hlsGeo: number[] = [];
    const hlsIp: string[] = [];
    const hlsV4: number[] = [];
    for (const [key, s] of this.hls) {
      const mi = key % MINUTE_SPACE;
      const t = (key - mi) / MINUTE_SPACE;
      for (const [ip, g] of s) {
        hlsTuple.push(t); hlsMinute.push(mi * MINUTE); hlsGeo.push(g);
        if (typeof ip === 'number') {
          hlsIp.push(''); hlsV4.push(ip >>> 0);
        } else {
          hlsIp.push(ip); hlsV4.push(-1);
        }
      }
    }
    const userTuple: number[] = [];
    const userDay: number[] = [];
    const userIp: string[] = [];
    const userV4: number[] = [];
    for (const [key, s] of this.users) {
      const day = key % DAY_SPACE;
      const t = (key - day) / DAY_SPACE;
      for (const ip of s) {
        userTuple.push(t); userDay.push(day * DAY);
        if (typeof ip === 'number') {
          userIp.push(''); userV4.push(ip >>> 0);
        } else {
          userIp.push(ip); userV4.push(-1);
        }
      }
    }
    this.cells = new Map();
    this.hls = new Map();
    this.users = new Map();
    this.pending = 0;
    return {
      domains, apps, streams,
      ...out.take(),
      hlsTuple: Int32Array.from(hlsTuple), hlsMinute: Float64Array.from(hlsMinute), hlsGeo: Uint8Array.from(hlsGeo), hlsIp, hlsV4: Float64Array.from(hlsV4),
      userTuple: Int32Array.from(userTuple), userDay: Float64Array.from(userDay), userIp, userV4: Float64Array.from(userV4),
    };
  }

  /** Typed arrays of a drained batch (transferred between threads). */
  static buffers(c: AudienceCells): ArrayBuffer[] {
    return [c.tuple, c.minute, c.protocol, c.geo, c.sessions, c.opens, c.closes, c.playMs, c.bytes, c.requests, c.hlsTuple, c.hlsMinute, c.hlsGeo, c.userTuple, c.userDay, c.hlsV4, c.userV4]
      .flatMap((a) => (a ? [a.buffer as ArrayBuffer] : []));
  }
}
