import { afterEach, describe, expect, it } from 'vitest';
import type { TrafficFilter } from '../src/store/traffic.js';
import type { Store } from '../src/store/types.js';
import { batch } from './store-conformance.js';
import { trafficRandom } from './helpers/traffic-random.js';
import { InMemoryTrafficStandIn } from './helpers/traffic-stand-in.js';

/**
 * The traffic cube's behaviour, run unchanged against each store: every read answers what the
 * reference semantics (the in-memory scan of test/helpers/traffic-stand-in.ts) answer for the same
 * rows, so SQLite and ClickHouse answer the same (parity); traffic commits with its batch;
 * retention of its own.
 */
const T0 = Date.UTC(2026, 10, 20);
const DAY = 86_400_000;
/** Per-domain series without all-zero ones (a store may leave out a domain without traffic in the window). */
const dense = (m: Map<string, Float64Array>): Record<string, number[]> =>
  Object.fromEntries([...m].filter(([, s]) => s.some((v) => v > 0)).map(([d, s]) => [d, [...s]]));

export function runTrafficConformance(name: string, open: () => Promise<Store>): void {
  describe(`traffic conformance: ${name}`, () => {
    let store: Store | undefined;
    afterEach(async () => {
      await store?.close();
      store = undefined;
    });

    it('answers like the reference semantics for random rows and filters', async () => {
      const s = (store = await open());
      const random = trafficRandom(T0, 7);
      const rows = random.rows(2500);
      for (let i = 0; i < rows.length; i += 500) await s.write(batch({ traffic: rows.slice(i, i + 500) }));
      const reference = new InMemoryTrafficStandIn().add(...rows);
      expect(await s.trafficDomains('p1')).toEqual(['a.com', 'b.com', 'c.com']);
      expect(await s.trafficDomains('nobody')).toEqual([]);
      let nonZero = 0;
      for (let i = 0; i < 80; i++) {
        const f = random.filter();
        const want = [...(await reference.trafficSeries(f))];
        if (want.some((v) => v > 0)) nonZero++;
        expect({ f, got: [...(await s.trafficSeries(f))] }).toEqual({ f, got: want });
        expect({ f, got: dense(await s.trafficByDomain(f)) }).toEqual({ f, got: dense(await reference.trafficByDomain(f)) });
      }
      expect(nonZero).toBeGreaterThan(30);
    });

    it('keeps traffic with the counts and checkpoint of its batch, and has a retention of its own', async () => {
      const s = (store = await open());
      const row = { project: 'p1', domain: 'a.com', app: 'live', stream: 's1', protocol: 'flv' as const, region: 'GD' as const,
        isp: 'CMCC' as const, ipType: 'v4' as const, requests: 2, bytes: 1000 };
      await s.write(batch({
        traffic: [{ ...row, slot: T0 }, { ...row, slot: T0 + 3 * DAY, bytes: 7 }],
        checkpoints: [{ key: 'file:x', value: '42' }],
      }));
      expect(await s.getCheckpoint('file:x')).toBe('42');
      const f: TrafficFilter = {
        project: 'p1', domains: ['a.com'], app: 'live', stream: 's1', protocol: undefined, regions: [], isps: [], ipType: undefined,
        slotMs: DAY, from: T0, to: T0 + 4 * DAY,
      };
      expect([...(await s.trafficSeries(f))]).toEqual([1000, 0, 0, 7]);
      await s.deleteBefore(T0 + 2 * DAY); // the playback retention leaves traffic alone
      expect([...(await s.trafficSeries(f))]).toEqual([1000, 0, 0, 7]);
      await s.deleteTrafficBefore(T0 + 2 * DAY);
      expect([...(await s.trafficSeries(f))]).toEqual([0, 0, 0, 7]);
      expect([...(await s.trafficSeries({ ...f, app: undefined, stream: undefined }))]).toEqual([0, 0, 0, 7]);
    });
  });
}
