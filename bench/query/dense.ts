import { ISPS, REGIONS } from '../../src/contract/values.js';
import { SAMPLE_BLOCK_SECONDS } from '../../src/store/sqlite/layout.js';
import { TRAFFIC_BLOCK_SLOTS } from '../../src/store/sqlite/traffic-layout.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { seeded } from '../lib/rng.js';
import { DENSE_AUDIENCE, type DenseAudienceSpec } from './dense-audience.js';
import { DENSE_TRAFFIC, DenseTraffic, measureTrafficTables, type DenseTrafficSpec, type DenseTrafficStats } from './dense-traffic.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** A real platform's density: Zipf domains, the top ones busy in every (province, carrier) pair. */
export interface DenseSpec {
  project: string;
  days: number;
  domains: number;
  /** Domains 1..top are the dense head (>= 300 cells a minute each); the rest is a sparse tail. */
  top: number;
  tasks: number;
  seed: number;
  /** The traffic cube (part of the dataset's reuse key: a change regenerates the dataset). */
  traffic: DenseTrafficSpec;
  /** The audience cube's FLV sessions and HLS viewers (SQLite only; part of the reuse key too). */
  audience: DenseAudienceSpec;
}

export const DENSE: DenseSpec = { project: 'dense', days: 7, domains: 100, top: 10, tasks: 20, seed: 7, traffic: DENSE_TRAFFIC, audience: DENSE_AUDIENCE };

export const denseDomain = (i: number): string => `p${String(i).padStart(3, '0')}.dense.example`;
export const denseTask = (i: number): string => `carousel-${String(i).padStart(2, '0')}`;

const CODES = [200, 206, 304, 302, 404, 500];
const CODE_SHARE = [0.85, 0.06, 0.04, 0.02, 0.02, 0.01];
const ISP_SHARE = [1.6, 1.2, 1.0, 0.2];
const GROUPS = REGIONS.length * ISPS.length;

/** What the generator writes through: SqliteStore's bulk path, or an adapter (dense-clickhouse.ts). */
export type DenseSink = Pick<SqliteStore, 'bulk' | 'bulkHour' | 'bulkSamples'>;
/** A sink that also takes the traffic cube: the SQLite store, or the ClickHouse traffic loader (dense-clickhouse-worker.ts). */
export type DenseTrafficSink = DenseSink & Pick<SqliteStore, 'bulkTraffic'>;
/** The SQLite store and traffic sinks also get the traffic cube; other sinks the httpcodes cells and samples only. */
const emptyTrafficStats = (spec: DenseTrafficSpec): DenseTrafficStats => ({
  trafficDays: spec.days, trafficRequests: 0, trafficBytes: 0, trafficDomainCells: 0, trafficStreamCells: 0, trafficStreams: 0,
  trafficDomainTableBytes: 0, trafficStreamTableBytes: 0, trafficBytesPerDay: 0,
});
const takesTraffic = (s: DenseSink | DenseTrafficSink): s is DenseTrafficSink => 'bulkTraffic' in s;
/** The SQLite store (its traffic tables are measured on disk); the store's `db` is private, so this checks for it by name. */
const isSqlite = (s: DenseTrafficSink): s is SqliteStore => 'db' in s;

export interface DenseStats extends DenseTrafficStats {
  cells: number;
  requests: number;
  samples: number;
  /** Cells per domain-minute of the head's least busy domain (the spec asks >= 300). */
  headCellsPerMinute: number;
}

/**
 * Writes the dense dataset through the store's bulk path (whole hour blocks), ending at `anchor`
 * (hour-aligned). Per (domain, minute, group, code) the count is λ·share rounded at random, with
 * λ = 160/k for head domain k and 0.5·(top/k)² in the tail; bytes are requests × a per-code size.
 * The traffic cube (dense-traffic.ts) covers spec.traffic.days ending at the anchor: on the
 * httpcodes days it is built from the same cells, before them from the same model.
 */
export function generateDense(store: DenseSink | DenseTrafficSink, spec: DenseSpec, anchor: number, progress: (msg: string) => void = () => {}): DenseStats {
  const rng = seeded(spec.seed);
  const regionW = REGIONS.map(() => 0.5 + rng());
  const start = anchor - spec.days * DAY;
  const names = Array.from({ length: spec.domains }, (_, i) => denseDomain(i + 1));
  // The traffic generator has its own random sequence: with or without it, the cells and samples are the same.
  const sqlite = takesTraffic(store) ? store : undefined;
  const traffic = sqlite ? new DenseTraffic(sqlite, spec.traffic, spec.project, names, spec.top, anchor) : undefined;
  const stats: DenseStats = { cells: 0, requests: 0, samples: 0, headCellsPerMinute: Infinity, ...emptyTrafficStats(spec.traffic), ...traffic?.stats };
  const daily = (minute: number): number => 0.8 + 0.2 * Math.cos((2 * Math.PI * (((minute / 60) % 24) - 20)) / 24);
  const lambdaOf = (d: number): number => (d <= spec.top ? 160 / d : 0.5 * (spec.top / d) ** 2);
  // Before the httpcodes days: the traffic cube alone, from the same model.
  const weight = Float64Array.from({ length: GROUPS }, (_, g) => (regionW[g >> 2] as number) * (ISP_SHARE[g & 3] as number));
  const trafficStart = anchor - Math.max(spec.days, spec.traffic.days) * DAY;
  for (let hour = trafficStart; traffic && hour < start; hour += HOUR) {
    store.bulk(() => traffic.synthesize(hour, (d, minute) => lambdaOf(d + 1) * daily(minute), weight));
    if ((hour - trafficStart) % DAY === DAY - HOUR) progress(`  dense traffic: ${Math.round((hour + HOUR - trafficStart) / DAY)} of ${(start - trafficStart) / DAY} day(s) before the httpcodes days`);
  }
  const cap = 60 * GROUPS * CODES.length;
  const slot = new Float64Array(cap);
  const region = new Int32Array(cap);
  const isp = new Int32Array(cap);
  const key = new Int32Array(cap);
  const requests = new Float64Array(cap);
  const bytes = new Float64Array(cap);
  for (let hour = start; hour < anchor; hour += HOUR) {
    store.bulk(() => {
      for (let d = 1; d <= spec.domains; d++) {
        let n = 0;
        for (let m = 0; m < 60; m++) {
          const minute = hour / MIN + m;
          const lambda = lambdaOf(d) * daily(minute);
          const off = traffic?.at(minute, 0) ?? 0;
          const before = n;
          for (let g = 0; g < GROUPS; g++) {
            const r = g >> 2;
            const i = g & 3;
            const lg = lambda * (regionW[r] as number) * (ISP_SHARE[i] as number);
            for (let c = 0; c < CODES.length; c++) {
              const count = Math.floor(lg * (CODE_SHARE[c] as number) + rng());
              if (count === 0) continue;
              slot[n] = minute;
              region[n] = r;
              isp[n] = i;
              key[n] = CODES[c] as number;
              requests[n] = count;
              bytes[n] = count * (c === 0 ? 180_000 : 2_000) + Math.floor(rng() * 4096);
              traffic?.add(d - 1, g * TRAFFIC_BLOCK_SLOTS + off, count, bytes[n] as number);
              stats.requests += count;
              n++;
            }
          }
          if (d === spec.top) stats.headCellsPerMinute = Math.min(stats.headCellsPerMinute, n - before);
        }
        if (n === 0) continue;
        stats.cells += n;
        store.bulkHour(spec.project, denseDomain(d), hour, {
          count: n, slot, dims: [region, isp], key, measures: [requests, bytes],
        });
      }
      for (let t = 0; t < spec.tasks; t++) {
        for (let b = hour / 1000; b < (hour + HOUR) / 1000; b += SAMPLE_BLOCK_SECONDS) {
          const present = new Uint8Array(SAMPLE_BLOCK_SECONDS).fill(1);
          const values = new Float64Array(SAMPLE_BLOCK_SECONDS * 4);
          for (let s = 0; s < SAMPLE_BLOCK_SECONDS; s++) {
            const down = (b + s + t * 977) % 5400 < 30;
            values[s * 4] = down ? 0 : 25 - (rng() < 0.05 ? 1 : 0);
            values[s * 4 + 1] = down ? 0 : 2000 + Math.floor(rng() * 1000);
            values[s * 4 + 2] = down ? 0 : 43 + (rng() < 0.07 ? 1 : 0);
            values[s * 4 + 3] = down ? 0 : 126 + Math.floor(rng() * 5);
          }
          store.bulkSamples(spec.project, denseTask(t), b / SAMPLE_BLOCK_SECONDS, present, values);
          stats.samples += SAMPLE_BLOCK_SECONDS;
        }
      }
    });
    if ((hour - start) % DAY === DAY - HOUR) progress(`  dense: ${Math.round((hour + HOUR - start) / DAY)} of ${spec.days} day(s), ${stats.cells} cells`);
  }
  if (!traffic || !sqlite) return stats;
  store.bulk(() => traffic.flush());
  const t = { ...traffic.stats, ...(isSqlite(sqlite) ? measureTrafficTables(sqlite, spec.traffic) : {}) };
  const mib = (b: number): string => (b / 2 ** 20).toFixed(1);
  progress(`  dense traffic cube: ${t.trafficDomainCells} domain cells (${spec.traffic.days} d, ${mib(t.trafficDomainTableBytes)} MiB), ` +
    `${t.trafficStreamCells} stream cells (${t.trafficStreams} streams, ${spec.traffic.streamDays} d, ${mib(t.trafficStreamTableBytes)} MiB): ` +
    `${mib(t.trafficBytesPerDay)} MiB per day; ${t.trafficRequests} requests`);
  return { ...stats, ...t };
}
