// The dense dataset's audience (issue 21): FLV sessions and HLS viewers at the density, 100
// streams and about 10,000 concurrent viewers on each head domain, written through the store's
// write path (the batches ingest produces: cube cells, HLS viewer sets and daily user sets), of the
// SQLite store (run-dense.ts) or of the ClickHouse store (dense-clickhouse.ts): the same batches, so
// both stores hold the same audience and answer the same bytes.
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import type { Store } from '../../src/store/types.js';
import { Cells, FLV, GEO_COUNT, HLS, VIEWER_MINUTE_BYTES } from './audience.js';

const M = 60_000;
const HOUR = 60 * M;
const DAY = 24 * HOUR;

export interface DenseAudienceSpec {
  /** Head domains 1..domains of the dense dataset carry viewers. */
  domains: number;
  streams: number;
  /** Concurrent viewers of a head domain (Zipf over its streams), every minute. */
  viewers: number;
  /** Days of FLV sessions on every head domain, ending at the end hour. */
  days: number;
  /** Days of FLV sessions on head domain 1 (the 31-day users row). */
  headDays: number;
  /** Hours (ending at the end hour) in which half of every stream's viewers watch over HLS: one client IP each per minute. */
  hlsHours: number;
  /** (province, carrier) groups a stream's viewers spread over in a minute. */
  geoGroups: number;
}

/**
 * Every head domain on the last day (its last hour with HLS: play-info over 10 domains and 1,000 live
 * streams), head domain 1 on 31 days (the users rows and the portrait). Writing all 10 domains for
 * 31 days through the write path would take ~40 min on this machine.
 */
export const DENSE_AUDIENCE: DenseAudienceSpec = { domains: 10, streams: 100, viewers: 10_000, days: 1, headDays: 31, hlsHours: 1, geoGroups: 2 };

/** The SQLite store (its tables are measured by dbstat); its `db` is private, so this checks for it by name. */
const isSqlite = (s: Pick<Store, 'write'>): s is SqliteStore => 'db' in s;

/** A distinct IPv4 text per (first byte, index < 2^24). */
const ip = (a: number, i: number): string => `${a}.${i >> 16}.${(i >> 8) & 255}.${i & 255}`;

export const denseAudienceStream = (k: number): string => `room-${String(k).padStart(3, '0')}`;

export interface DenseAudienceStats {
  audienceCells: number;
  audienceHlsViewers: number;
  audienceUsers: number;
  audienceMs: number;
  /** SQLite pages of the audience tables (cubes and exact sets, dbstat). */
  audienceTableBytes: number;
}

/**
 * Writes the audience ending at `end` (exclusive, hour-aligned): stream k of a head domain has
 * round(viewers / H / k) viewers in every minute (H: the harmonic number of the streams), spread
 * over `geoGroups` (province, carrier) groups; each is an FLV session, except in the last
 * `hlsHours`, where half of them (rounded down) are HLS viewers with an IP of their own. Every viewer of
 * the busiest minute is a distinct user of the day.
 */
export async function writeDenseAudience(
  store: Pick<Store, 'write'>, spec: DenseAudienceSpec, project: string, domain: (i: number) => string, end: number, log: (s: string) => void,
): Promise<DenseAudienceStats> {
  const started = Date.now();
  const tuples: Array<[string, string, string]> = [];
  for (let d = 1; d <= spec.domains; d++) for (let k = 1; k <= spec.streams; k++) tuples.push([domain(d), 'live', denseAudienceStream(k)]);
  const harmonic = Array.from({ length: spec.streams }, (_, i) => 1 / (i + 1)).reduce((a, b) => a + b, 0);
  const online = Array.from({ length: spec.streams }, (_, i) => Math.max(1, Math.round(spec.viewers / harmonic / (i + 1))));
  const stats: DenseAudienceStats = { audienceCells: 0, audienceHlsViewers: 0, audienceUsers: 0, audienceMs: 0, audienceTableBytes: 0 };
  const hlsFrom = end - spec.hlsHours * HOUR;
  let seq = 0;
  for (let day = spec.headDays; day >= 1; day--) {
    const from = end - day * DAY;
    const domains = day <= spec.days ? spec.domains : 1;
    for (let d = 1; d <= domains; d++) {
      const c = new Cells();
      for (let m = from; m < from + DAY; m += M) {
        const minute = Math.floor(m / M);
        for (let k = 1; k <= spec.streams; k++) {
          const t = (d - 1) * spec.streams + (k - 1);
          const all = online[k - 1] as number;
          const hls = m >= hlsFrom ? Math.floor(all / 2) : 0;
          const flv = all - hls;
          // The stream's viewers over geoGroups groups (the first ones take the remainder).
          for (let g = 0; g < spec.geoGroups; g++) {
            const share = Math.floor(flv / spec.geoGroups) + (g < flv % spec.geoGroups ? 1 : 0);
            if (share === 0) continue;
            const geo = (k * 7 + d * 3 + g * 5 + minute) % GEO_COUNT;
            c.add(t, m, FLV, geo, share, share * VIEWER_MINUTE_BYTES, Math.max(1, Math.round(share / 30)));
          }
          if (hls > 0) {
            c.add(t, m, HLS, (k + d) % GEO_COUNT, 0, hls * VIEWER_MINUTE_BYTES, hls * 10);
            for (let v = 0; v < hls; v++) {
              c.hlsTuple.push(t); c.hlsMinute.push(m); c.hlsGeo.push((k + v) % GEO_COUNT);
              c.hlsIp.push(ip(100 + d, k * 1024 + v));
            }
            stats.audienceHlsViewers += hls;
          }
        }
      }
      const dayStart = Math.floor(from / DAY) * DAY;
      for (let k = 1; k <= spec.streams; k++) {
        for (let v = 0; v < (online[k - 1] as number); v++) {
          c.userTuple.push((d - 1) * spec.streams + (k - 1)); c.userDay.push(dayStart); c.userIp.push(ip(10 + d, k * 4096 + v));
        }
        stats.audienceUsers += online[k - 1] as number;
      }
      const b = c.build(tuples);
      await store.write({ id: `dense-aud-${++seq}`, counts: [], samples: [], tasks: [], checkpoints: [], audience: [{ project, cells: b.cells }] });
      stats.audienceCells += b.n;
    }
    if (day % 5 === 0 || day === 1) log(`  dense audience: ${spec.headDays - day + 1} of ${spec.headDays} day(s), ${stats.audienceCells} cells`);
  }
  stats.audienceMs = Date.now() - started;
  // The SQLite store's pages (dbstat); another store (the ClickHouse bench, dense-clickhouse.ts) measures its own tables.
  if (!isSqlite(store)) return stats;
  const rows = store['db'].prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name').all() as Array<{ name: string; bytes: number }>;
  stats.audienceTableBytes = rows.filter((r) => /^(sqlite_autoindex_)?(cube_au[ds]_|aud_)/.test(r.name)).reduce((n, r) => n + r.bytes, 0);
  return stats;
}
