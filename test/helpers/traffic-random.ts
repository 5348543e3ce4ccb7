import type { IpType, Protocol } from '../../src/contract/traffic/values.js';
import { ISPS, REGIONS, type Isp, type Region } from '../../src/contract/values.js';
import type { TrafficFilter, TrafficRow } from '../../src/store/traffic.js';

/** Deterministic random traffic rows and filters over two UTC days from `t0`, for store tests. */
export function trafficRandom(t0: number, seed = 99): { rows(count: number): TrafficRow[]; filter(): TrafficFilter } {
  const M5 = 300_000;
  let s = seed;
  const rnd = (k: number): number => ((s = (s * 1103515245 + 12345) % 2 ** 31) % k);
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)] as T;
  return {
    rows(count) {
      const rows: TrafficRow[] = [];
      for (let i = 0; i < count; i++) {
        const other = rnd(8) === 0;
        rows.push({
          project: pick(['p1', 'p1', 'p2']), domain: pick(['a.com', 'b.com', 'c.com']),
          app: other ? '' : pick(['live', 'app2']), stream: other ? '' : pick(['s1', 's2', 'room-9']),
          protocol: other ? 'other' : pick(['flv', 'hls']), region: pick(['GD', 'SH', 'BJ', 'OT'] as Region[]), isp: pick(ISPS),
          ipType: pick(['v4', 'v6', 'other']), slot: t0 + rnd(2 * 288) * M5, requests: 1 + rnd(5), bytes: rnd(3_000_000),
        });
      }
      return rows;
    },
    filter() {
      const slotMs = pick([M5, 3_600_000, 86_400_000]);
      const from = t0 + Math.floor(rnd(2 * 86_400_000) / slotMs) * slotMs - slotMs;
      const domains = rnd(2) === 0 ? [] : rnd(2) === 0 ? [pick(['a.com', 'b.com', 'zz.com'])] : ['c.com', 'a.com'];
      return {
        project: 'p1', domains,
        app: domains.length > 0 && rnd(2) === 0 ? pick(['live', 'app2']) : undefined,
        stream: domains.length > 0 && rnd(2) === 0 ? pick(['s1', 'room-9']) : undefined,
        protocol: rnd(3) === 0 ? pick<Protocol>(['flv', 'hls']) : undefined,
        regions: rnd(3) === 0 ? [pick(REGIONS as readonly Region[]), 'GD'] : [],
        isps: rnd(3) === 0 ? [pick(ISPS as readonly Isp[])] : [],
        ipType: rnd(3) === 0 ? pick<IpType>(['v4', 'v6']) : undefined,
        slotMs, from, to: from + (1 + rnd(30)) * slotMs,
      };
    },
  };
}
