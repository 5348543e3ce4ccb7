// The ClickHouse store's traffic cells (src/store/clickhouse/traffic-cells.ts, issue 24): closed hours of
// the traffic cube's filtered cells (one stream, one app, one stream name; or the per-domain rows with a
// region, isp, protocol or address-family filter) kept in memory, checked against their stamps (migration
// 013 for traffic_streams, 009 for traffic_domains). Every series and per-domain answer from blocks must
// equal the SQL answer of a store without blocks on the same database, at every slot length and with edges
// inside hours, also after a late write into a closed hour by another node, while two writers write, and
// after a retried batch whose first attempt landed without its stamps.
import { describe, expect, it } from 'vitest';
import type { IpType } from '../src/contract/traffic/values.js';
import type { Isp, Region } from '../src/contract/values.js';
import type { TrafficFilter, TrafficRow } from '../src/store/traffic.js';
import { batch } from './store-conformance.js';
import { markUnacknowledged, seededRandom, untilFromBlocks, useBlockStores, withoutStampView } from './helpers/block-stores.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('clickhouse-server');

const SLOT = 300_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Whole days four days ago: three closed days of traffic, from a day boundary. */
const D0 = (Math.floor(Date.now() / DAY) - 4) * DAY;
const DOMAINS = ['a.example.com', 'b.example.com'];
const REGIONS_USED: Region[] = ['GD', 'SH', 'BJ'];
const ISPS_USED: Isp[] = ['CMCC', 'OTHER'];

const st = useBlockStores('traffic_cells');
const { rnd, pick } = seededRandom(11);

function rows(n: number, from = D0, hours = 72): TrafficRow[] {
  return Array.from({ length: n }, () => ({
    project: 'p1', domain: pick(DOMAINS), app: pick(['live', 'edu']), stream: pick(['s1', 's2', 's3']), protocol: pick(['flv', 'hls', 'other'] as const),
    region: pick(REGIONS_USED), isp: pick(ISPS_USED), ipType: pick(['v4', 'v6', 'other'] as const),
    slot: from + Math.floor(rnd() * hours * 12) * SLOT, requests: 1 + Math.floor(rnd() * 9), bytes: 1 + Math.floor(rnd() * 1e9),
  }));
}

const filter = (more: Partial<TrafficFilter>): TrafficFilter => ({
  project: 'p1', domains: DOMAINS, app: 'live', stream: 's1', protocol: undefined, regions: ['GD', 'SH'], isps: ['CMCC'], ipType: undefined,
  slotMs: HOUR, from: D0, to: D0 + 3 * DAY, ...more,
});

/** The filters (each a scope or a filter inside one) and windows every test checks. */
const CASES: Array<[string, Partial<TrafficFilter>]> = [
  ['1 stream, region GD,SH + isp CMCC, 300 s', { slotMs: SLOT }],
  ['1 stream, region GD,SH + isp CMCC, 3600 s', {}],
  ['1 stream, 1 day, flv, v6', { slotMs: DAY, regions: [], isps: [], protocol: 'flv', ipType: 'v6' }],
  ['1 stream, edges inside hours, 300 s', { slotMs: SLOT, from: D0 + 25 * SLOT, to: D0 + 2 * DAY + 7 * SLOT }],
  ['1 stream, one domain, isp OTHER', { domains: [DOMAINS[0] as string], regions: [], isps: ['OTHER'] }],
  ['app alone, hls', { stream: undefined, regions: [], isps: [], protocol: 'hls' }],
  ['stream name alone, region BJ', { app: undefined, stream: 's2', regions: ['BJ'], isps: [] }],
  ['no app or stream, region GD + v4 (per-domain rows)', { app: undefined, stream: undefined, regions: ['GD'], isps: [], ipType: 'v4' }],
];

const perDomain = (m: Map<string, Float64Array>): Record<string, number[]> =>
  Object.fromEntries([...m].filter(([, s]) => s.some((v) => v !== 0)).map(([d, s]) => [d, [...s]]).sort(([a], [b]) => String(a).localeCompare(String(b))));

/** Asks the cached store until a series comes from its traffic cells (built in the background); returns it. */
const fromBlocks = (f: TrafficFilter): Promise<number[]> => untilFromBlocks(st.cached.trafficCells?.stats, async () => [...(await st.cached.trafficSeries(f))], 'traffic cells');
const bySql = async (f: TrafficFilter): Promise<number[]> => [...(await st.sql.trafficSeries(f))];

/** Every case from blocks (series and per domain) against SQL. */
async function expectAllExact(): Promise<void> {
  for (const [name, more] of CASES) {
    const f = filter(more);
    const expected = await bySql(f);
    expect(expected.some((v) => v > 0), `${name}: the data selects something`).toBe(true);
    expect(await fromBlocks(f), name).toEqual(expected);
    const before = st.cached.trafficCells?.stats.fromBlocks ?? 0;
    expect(perDomain(await st.cached.trafficByDomain(f)), `${name}, per domain`).toEqual(perDomain(await st.sql.trafficByDomain(f)));
    expect(st.cached.trafficCells?.stats.fromBlocks, `${name}, per domain from blocks`).toBe(before + 1);
  }
}

describe('ClickHouse traffic cells', () => {
  it('answers filtered traffic from blocks exactly as SQL does, also after a late write into a closed hour by another node', async () => {
    await st.cached.write(batch({ traffic: rows(3000) }));
    await st.writer.write(batch({ traffic: rows(3000) }));
    await expectAllExact();
    // Blocks of one domain only, then both domains asked: the other domain's hours by SQL, the first's blocks of those hours left out.
    const edu = filter({ app: 'edu', stream: 's3', regions: [], isps: [] });
    await fromBlocks({ ...edu, domains: [DOMAINS[0] as string] });
    const partly = st.cached.trafficCells?.stats.partly ?? 0;
    expect([...(await st.cached.trafficSeries(edu))], 'one domain from blocks, the other by SQL').toEqual(await bySql(edu));
    const live = { ...edu, app: 'live' };
    expect(st.cached.trafficCells?.stats.partly).toBe(partly + 1);
    await fromBlocks({ ...live, domains: [DOMAINS[1] as string] });
    const partly2 = st.cached.trafficCells?.stats.partly ?? 0;
    expect(perDomain(await st.cached.trafficByDomain(live)), 'per domain, the same').toEqual(perDomain(await st.sql.trafficByDomain(live)));
    expect(st.cached.trafficCells?.stats.partly).toBe(partly2 + 1);
    // A late write into one closed hour, of the asked stream: that hour by SQL at once, then a block again.
    const late = rows(40, D0 + 30 * HOUR, 1).map((r) => ({ ...r, app: 'live', stream: 's1', region: 'GD' as Region, isp: 'CMCC' as Isp }));
    await st.writer.write(batch({ traffic: late }));
    for (const [name, more] of CASES) {
      const f = filter(more);
      const expected = await bySql(f);
      expect([...(await st.cached.trafficSeries(f))], `${name}, right after the late write`).toEqual(expected);
      expect(await fromBlocks(f), name).toEqual(expected);
    }
  }, 240_000);

  it('stays exact while two writers write into closed hours and a third node reads', async () => {
    const f = filter({ slotMs: SLOT });
    await fromBlocks(f);
    const writes = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? st.cached : st.writer).write(batch({ traffic: rows(100) })));
    const reads = Array.from({ length: 10 }, () => st.cached.trafficSeries(f));
    await Promise.all([...writes, ...reads]);
    for (const [name, more] of CASES) {
      const g = filter(more);
      const expected = await bySql(g);
      expect([...(await st.cached.trafficSeries(g))], name).toEqual(expected);
      expect(await fromBlocks(g), name).toEqual(expected);
    }
  }, 240_000);

  it('a retry whose first attempt landed without its stamps (the views failed) makes the blocks of its hours stale', async () => {
    await expectAllExact();
    const b = batch({ traffic: rows(50).map((r) => ({ ...r, app: 'live', stream: 's1', region: 'GD' as Region, isp: 'CMCC' as Isp, ipType: 'v4' as IpType })) });
    await withoutStampView(st, 16, 'traffic_stream_stamps_from_streams_v2',
      () => withoutStampView(st, 16, 'traffic_stamps_from_domains_v2', () => st.writer.write(b)));
    markUnacknowledged(st.writer, b.id);
    await st.writer.write(b);
    for (const [name, more] of CASES) {
      const f = filter(more);
      const expected = await bySql(f);
      expect([...(await st.cached.trafficSeries(f))], name).toEqual(expected);
    }
    await expectAllExact();
  }, 240_000);
});
