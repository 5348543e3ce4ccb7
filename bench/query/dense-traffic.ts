import { ISPS, REGIONS } from '../../src/contract/values.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import type { TrafficBlockCells } from '../../src/store/sqlite/traffic-bulk.js';
import { TRAFFIC_BLOCK_SLOTS, TRAFFIC_SLOT_MS, trafficKey } from '../../src/store/sqlite/traffic-layout.js';
import { seeded } from '../lib/rng.js';

const GROUPS = REGIONS.length * ISPS.length;
const SLOTS = TRAFFIC_BLOCK_SLOTS;
const FLV = 0;
const HLS = 1;
const OTHER = 2;
const V4 = 0;
const V6 = 1;

/** The traffic cube of the dense dataset (bench/query/dense.ts). */
export interface DenseTrafficSpec {
  /** Days of traffic ending at the anchor, for every domain (the httpcodes cube keeps fewer). */
  days: number;
  /**
   * Days (ending at the anchor) that also get the per-stream cube; before them only the per-domain
   * cube is written (from the same split summed over streams). The stream cube is what costs: about
   * 37 M cells a day at this density, so 31 days of it would take ~10 minutes and several GB.
   */
  streamDays: number;
  /** Streams on each head domain (Zipf popularity), and on each tail domain. */
  streams: number;
  tailStreams: number;
  apps: readonly string[];
  /** Share of requests whose URI names no stream (protocol `other`: domain totals only). */
  otherShare: number;
  seed: number;
}

export const DENSE_TRAFFIC: DenseTrafficSpec = { days: 31, streamDays: 2, streams: 100, tailStreams: 5, apps: ['live', 'sports', 'game'], otherShare: 0.01, seed: 14 };

/** App and stream name of stream k (1-based) of a domain. */
export function denseStream(spec: DenseTrafficSpec, k: number): { app: string; stream: string } {
  return { app: spec.apps[(k - 1) % spec.apps.length] as string, stream: `room-${String(k).padStart(3, '0')}` };
}

export interface DenseTrafficStats {
  trafficDays: number;
  trafficRequests: number;
  trafficBytes: number;
  /** Cells written at the detail (region x isp) level of the domain cube and of the stream cube. */
  trafficDomainCells: number;
  trafficStreamCells: number;
  trafficStreams: number;
  /** On-disk bytes (SQLite pages, dbstat) of the per-domain tables (cube_trd_*, cube_trt_all) and the per-stream ones (cube_trs_*). */
  trafficDomainTableBytes: number;
  trafficStreamTableBytes: number;
  /** Domain tables / days + stream tables / stream days: one day of the whole traffic cube. */
  trafficBytesPerDay: number;
}

/**
 * Measures the traffic cube's tables on disk: the pages SQLite's dbstat virtual table counts for
 * each table and its index, per cube; per day = each cube's bytes over the days it covers.
 */
export function measureTrafficTables(store: SqliteStore, spec: DenseTrafficSpec): Pick<DenseTrafficStats, 'trafficDomainTableBytes' | 'trafficStreamTableBytes' | 'trafficBytesPerDay'> {
  const rows = store['db'].prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name').all() as Array<{ name: string; bytes: number }>;
  const of = (cube: string): number => rows
    .filter((r) => r.name.startsWith(`cube_${cube}_`) || r.name.startsWith(`sqlite_autoindex_cube_${cube}_`))
    .reduce((n, r) => n + r.bytes, 0);
  const domain = of('trd') + of('trt');
  const stream = of('trs');
  const perDay = (bytes: number, days: number): number => (days > 0 ? bytes / days : 0);
  return { trafficDomainTableBytes: domain, trafficStreamTableBytes: stream, trafficBytesPerDay: perDay(domain, spec.days) + perDay(stream, spec.streamDays) };
}

/** A hash in [0, 1) of an integer (per-stream shares that do not depend on the generation order). */
const hash01 = (n: number): number => {
  let t = Math.imul(n ^ 0x9e3779b9, 0x85ebca6b);
  t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35);
  return ((t ^ (t >>> 16)) >>> 0) / 4294967296;
};

/** Where a domain's requests go: cumulative shares over cells (other x ip type, then stream x protocol x ip type). */
interface Split {
  cum: Float64Array;
  key: Int32Array;
  /** Stream index (0-based) of each cell, -1 for `other`. */
  stream: Int32Array;
  streams: number;
}

function splitOf(spec: DenseTrafficSpec, streams: number): Split {
  const c = 2 + streams * 4;
  const share = new Float64Array(c);
  const key = new Int32Array(c);
  const stream = new Int32Array(c).fill(-1);
  share[0] = spec.otherShare * 0.9;
  share[1] = spec.otherShare * 0.1;
  key[0] = trafficKey(OTHER, V4);
  key[1] = trafficKey(OTHER, V6);
  let zipf = 0;
  for (let k = 1; k <= streams; k++) zipf += 1 / k;
  for (let k = 1; k <= streams; k++) {
    const w = ((1 - spec.otherShare) / k) / zipf;
    const hls = 0.15 + 0.5 * hash01(k * 2 + 1);
    const v6 = 0.08 + 0.2 * hash01(k * 2);
    const at = 2 + (k - 1) * 4;
    const parts: Array<[number, number, number]> = [[FLV, V4, (1 - hls) * (1 - v6)], [FLV, V6, (1 - hls) * v6], [HLS, V4, hls * (1 - v6)], [HLS, V6, hls * v6]];
    parts.forEach(([p, ip, s], j) => {
      share[at + j] = w * s;
      key[at + j] = trafficKey(p, ip);
      stream[at + j] = k - 1;
    });
  }
  const cum = new Float64Array(c);
  let run = 0;
  for (let i = 0; i < c; i++) cum[i] = run += share[i] as number;
  cum[c - 1] = 1;
  return { cum, key, stream, streams };
}

/** The same split summed over streams: one cell per key (the per-domain cube alone). */
function perKey(split: Split): Split {
  const shares = new Float64Array(9);
  let before = 0;
  split.cum.forEach((c, i) => {
    const k = split.key[i] as number;
    shares[k] = (shares[k] as number) + (c - before);
    before = c;
  });
  const keys = [...shares.keys()].filter((k) => (shares[k] as number) > 0);
  const cum = new Float64Array(keys.length);
  let run = 0;
  keys.forEach((k, i) => (cum[i] = run += shares[k] as number));
  cum[keys.length - 1] = 1;
  return { cum, key: Int32Array.from(keys), stream: new Int32Array(keys.length).fill(-1), streams: 0 };
}

/** Growable columns of traffic cells, with the stream each belongs to. */
class CellBuffer {
  n = 0;
  slot = new Int32Array(1024);
  region = new Int32Array(1024);
  isp = new Int32Array(1024);
  key = new Int32Array(1024);
  stream = new Int32Array(1024);
  requests = new Float64Array(1024);
  bytes = new Float64Array(1024);

  push(stream: number, slot: number, g: number, key: number, requests: number, bytes: number): void {
    if (this.n === this.slot.length) this.grow();
    const i = this.n++;
    this.stream[i] = stream;
    this.slot[i] = slot;
    this.region[i] = g >> 2;
    this.isp[i] = g & 3;
    this.key[i] = key;
    this.requests[i] = requests;
    this.bytes[i] = bytes;
  }

  private grow(): void {
    const grow = <T extends Int32Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(a.length * 2);
      b.set(a);
      return b;
    };
    this.slot = grow(this.slot);
    this.region = grow(this.region);
    this.isp = grow(this.isp);
    this.key = grow(this.key);
    this.stream = grow(this.stream);
    this.requests = grow(this.requests);
    this.bytes = grow(this.bytes);
  }
}

/**
 * The dense dataset's traffic cube, written through the store's bulk path one 6-hour block at a
 * time. Per (domain, region x isp group, 5-minute slot) it takes the requests and bytes of that
 * group: while the httpcodes cube is generated, exactly the httpcodes cells' sums over the 5 minutes
 * and every status code (`add`); before the httpcodes days, the same model's expectation drawn per
 * slot (`synthesize`). Those requests are then split over the domain's streams (Zipf 1/k), each
 * stream's protocol (flv/hls) and address family (v4/v6) shares, plus `otherShare` for URIs naming
 * no stream, by systematic rounding: every cell gets its expected share rounded down or up, and the
 * cells sum exactly to the group's requests; bytes follow the requests. So on the httpcodes days the
 * traffic cube's requests and bytes per (domain, region, isp, 5 minutes) equal the httpcodes cube's.
 */
export class DenseTraffic {
  readonly stats: DenseTrafficStats;
  private readonly rng: () => number;
  private readonly req: Float64Array[] = [];
  private readonly bytes: Float64Array[] = [];
  private readonly used: boolean[] = [];
  private readonly splits: Split[] = [];
  private readonly keySplits: Split[] = [];
  private block = -1;
  /** First 5-minute slot with per-stream cells, and with any traffic (`days` before the anchor). */
  private readonly streamSlot: number;
  private readonly firstSlot: number;

  constructor(
    private readonly store: Pick<SqliteStore, 'bulkTraffic'>, private readonly spec: DenseTrafficSpec, private readonly project: string,
    private readonly domainNames: readonly string[], private readonly top: number, anchor: number,
  ) {
    this.streamSlot = (anchor - spec.streamDays * 86_400_000) / TRAFFIC_SLOT_MS;
    this.firstSlot = (anchor - spec.days * 86_400_000) / TRAFFIC_SLOT_MS;
    this.rng = seeded(spec.seed);
    this.stats = {
      trafficDays: spec.days, trafficRequests: 0, trafficBytes: 0, trafficDomainCells: 0, trafficStreamCells: 0,
      trafficStreams: top * spec.streams + (domainNames.length - top) * spec.tailStreams,
      trafficDomainTableBytes: 0, trafficStreamTableBytes: 0, trafficBytesPerDay: 0,
    };
    const head = splitOf(spec, spec.streams);
    const tail = splitOf(spec, spec.tailStreams);
    const headKeys = perKey(head);
    const tailKeys = perKey(tail);
    domainNames.forEach((_, i) => {
      this.keySplits.push(i < top ? headKeys : tailKeys);
      this.req.push(new Float64Array(GROUPS * SLOTS));
      this.bytes.push(new Float64Array(GROUPS * SLOTS));
      this.used.push(false);
      this.splits.push(i < top ? head : tail);
    });
  }

  /**
   * Index of domain d's (group, 5-minute slot) for an epoch minute, switching (and flushing) blocks;
   * NaN before the traffic days (`add` then ignores the cell).
   */
  at(minute: number, g: number): number {
    const slot = Math.floor((minute * 60_000) / TRAFFIC_SLOT_MS);
    if (slot < this.firstSlot) return NaN;
    const block = Math.floor(slot / SLOTS);
    if (block !== this.block) {
      this.flush();
      this.block = block;
    }
    return g * SLOTS + (slot - block * SLOTS);
  }

  /** Requests and bytes of domain d (0-based) at an index from `at`. */
  add(d: number, index: number, requests: number, bytes: number): void {
    if (!(index >= 0)) return;
    (this.req[d] as Float64Array)[index] = ((this.req[d] as Float64Array)[index] as number) + requests;
    (this.bytes[d] as Float64Array)[index] = ((this.bytes[d] as Float64Array)[index] as number) + bytes;
    this.used[d] = true;
  }

  /**
   * One hour without httpcodes cells: per (domain, group, slot) the count is the expectation of the
   * httpcodes model rounded at random: `rate(d, minute)` requests a minute per unit of group weight,
   * times `weight[g]`; bytes as there (mostly 200s of 180 kB, the rest 2 kB).
   */
  synthesize(hourMs: number, rate: (d: number, minute: number) => number, weight: Float64Array): void {
    const first = hourMs / 60_000;
    for (let d = 0; d < this.domainNames.length; d++) {
      for (let s = 0; s < 60; s += 5) {
        let e = 0;
        for (let m = 0; m < 5; m++) e += rate(d, first + s + m);
        const off = this.at(first + s, 0);
        for (let g = 0; g < GROUPS; g++) {
          const n = Math.floor(e * (weight[g] as number) + this.rng());
          if (n > 0) this.add(d, g * SLOTS + off, n, n * 153_300 + Math.floor(this.rng() * 4096));
        }
      }
    }
  }

  /** Writes the current block of every domain (inside the store's bulk()). */
  flush(): void {
    if (this.block < 0) return;
    const rng = this.rng;
    for (let d = 0; d < this.domainNames.length; d++) {
      if (!this.used[d]) continue;
      const req = this.req[d] as Float64Array;
      const bytes = this.bytes[d] as Float64Array;
      const split = this.splits[d] as Split;
      const domain = new CellBuffer();
      const streams = new CellBuffer();
      const keyReq = new Float64Array(9);
      const keyBytes = new Float64Array(9);
      for (let g = 0; g < GROUPS; g++) {
        for (let s = 0; s < SLOTS; s++) {
          const n = req[g * SLOTS + s] as number;
          if (n === 0) continue;
          const { cum, key: cellKey, stream: cellStream } = this.block * SLOTS + s >= this.streamSlot ? split : (this.keySplits[d] as Split);
          const last = cum.length - 1;
          const b = bytes[g * SLOTS + s] as number;
          keyReq.fill(0);
          keyBytes.fill(0);
          // Systematic rounding: item j goes to the first cell c with floor(cum[c] x n + u) > j.
          const u = rng();
          const upTo = (c: number): number => (c === last ? n : Math.floor((cum[c] as number) * n + u));
          let j = 0;
          let lo = 0;
          let bytesBefore = 0;
          while (j < n) {
            let hi = last;
            while (lo < hi) {
              const mid = (lo + hi) >> 1;
              if (upTo(mid) > j) hi = mid;
              else lo = mid + 1;
            }
            const end = upTo(lo);
            const bytesTo = Math.floor((b * end) / n);
            const k = cellKey[lo] as number;
            keyReq[k] = (keyReq[k] as number) + (end - j);
            keyBytes[k] = (keyBytes[k] as number) + (bytesTo - bytesBefore);
            const st = cellStream[lo] as number;
            if (st >= 0) streams.push(st, s, g, k, end - j, bytesTo - bytesBefore);
            bytesBefore = bytesTo;
            j = end;
            lo++;
          }
          for (let k = 0; k < 9; k++) if ((keyReq[k] as number) > 0) domain.push(-1, s, g, k, keyReq[k] as number, keyBytes[k] as number);
          this.stats.trafficRequests += n;
          this.stats.trafficBytes += b;
        }
      }
      const name = this.domainNames[d] as string;
      this.store.bulkTraffic([this.project, name], this.block, cellsOf(domain, 0, domain.n));
      this.stats.trafficDomainCells += domain.n;
      this.stats.trafficStreamCells += streams.n;
      this.writeStreams(name, split.streams, streams);
      req.fill(0);
      bytes.fill(0);
      this.used[d] = false;
    }
    this.block = -1;
  }

  /** Groups the stream cells by stream (a counting sort) and writes each stream's block. */
  private writeStreams(domain: string, count: number, cells: CellBuffer): void {
    const starts = new Int32Array(count + 1);
    for (let i = 0; i < cells.n; i++) {
      const k = (cells.stream[i] as number) + 1;
      starts[k] = (starts[k] as number) + 1;
    }
    for (let k = 0; k < count; k++) starts[k + 1] = (starts[k + 1] as number) + (starts[k] as number);
    const perm = new Int32Array(cells.n);
    const next = starts.slice(0, count);
    for (let i = 0; i < cells.n; i++) {
      const k = cells.stream[i] as number;
      perm[next[k] as number] = i;
      next[k] = (next[k] as number) + 1;
    }
    const sorted: TrafficBlockCells = {
      count: cells.n, slot: gather(cells.slot, perm), region: gather(cells.region, perm), isp: gather(cells.isp, perm),
      key: gather(cells.key, perm), requests: gather(cells.requests, perm), bytes: gather(cells.bytes, perm),
    };
    for (let k = 0; k < count; k++) {
      const from = starts[k] as number;
      const to = starts[k + 1] as number;
      if (to === from) continue;
      const { app, stream } = denseStream(this.spec, k + 1);
      this.store.bulkTraffic([this.project, domain, app, stream], this.block, slice(sorted, from, to));
    }
  }
}

function gather<T extends Int32Array | Float64Array>(src: T, perm: Int32Array): T {
  const out = (src instanceof Int32Array ? new Int32Array(perm.length) : new Float64Array(perm.length)) as T;
  for (let i = 0; i < perm.length; i++) out[i] = src[perm[i] as number] as number;
  return out;
}

type Column = Int32Array | Float64Array;
const slice = (c: TrafficBlockCells, from: number, to: number): TrafficBlockCells => ({
  count: to - from, slot: (c.slot as Column).subarray(from, to), region: (c.region as Column).subarray(from, to),
  isp: (c.isp as Column).subarray(from, to), key: (c.key as Column).subarray(from, to),
  requests: (c.requests as Column).subarray(from, to), bytes: (c.bytes as Column).subarray(from, to),
});

const cellsOf = (c: CellBuffer, from: number, to: number): TrafficBlockCells => ({
  count: to - from, slot: c.slot.subarray(from, to), region: c.region.subarray(from, to), isp: c.isp.subarray(from, to),
  key: c.key.subarray(from, to), requests: c.requests.subarray(from, to), bytes: c.bytes.subarray(from, to),
});

