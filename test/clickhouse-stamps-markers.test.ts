// The stamp views hash only the rows blocks can read (ClickHouse migration 016, issue 24). Every write
// chunk adds one marker row per (project, domain, UTC day) at the START of the day (00:00); before 016 the
// stamp views hashed those too, so every write into any hour of a day changed the stamp of the day's
// 00:00 hour: that hour's block was never current while ingest ran (answers over it by SQL, rebuilds
// started and discarded again and again). Here: a write into a later hour leaves 00:00's stamps as they
// were (counts, traffic totals, per-stream traffic) and the day stamp moves exactly as its hours do; an
// answer over 00:00 stays from blocks while batches land in a later hour; and a database migrated up to
// 015 with data, markers and stamps written, then migrated to 016, answers exactly and is fixed too.
// The day used is a closed one (two days ago), so the test does not depend on the time of day it runs.
import { describe, expect, it } from 'vitest';
import type { IpType } from '../src/contract/traffic/values.js';
import type { Isp, Region } from '../src/contract/values.js';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import type { TrafficFilter, TrafficRow } from '../src/store/traffic.js';
import type { CountRow, HttpCodesFilter } from '../src/store/types.js';
import type { ClickHouseServer } from './harness/clickhouse.js';
import { batch } from './store-conformance.js';
import { hourBlockWorkerUrl, requireBuiltHourBlockWorker, schemaBefore, seededRandom, untilFromBlocks, useBlockStores } from './helpers/block-stores.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('clickhouse-server');

const MIN = 60_000;
const SLOT = 300_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** A closed UTC day, two days ago. */
const D = (Math.floor(Date.now() / DAY) - 2) * DAY;
const DOMAINS = ['a.example.com', 'b.example.com'];
const REGIONS_USED: Region[] = ['GD', 'SH'];
const ISPS_USED: Isp[] = ['CMCC', 'OTHER'];
/** The later hour written into (hours 0-2 are read). */
const LATER = 5;

requireBuiltHourBlockWorker();
const st = useBlockStores('stamps_markers', { workerUrl: hourBlockWorkerUrl });
const { rnd, pick } = seededRandom(16);

function counts(n: number, fromHour: number, hours: number): CountRow[] {
  return Array.from({ length: n }, () => ({
    project: 'p1', domain: pick(DOMAINS), minute: D + fromHour * HOUR + Math.floor(rnd() * hours * 60) * MIN,
    region: pick(REGIONS_USED), isp: pick(ISPS_USED), code: pick([200, 404, 502]), count: 1 + Math.floor(rnd() * 50), bytes: 1000,
  }));
}

function traffic(n: number, fromHour: number, hours: number): TrafficRow[] {
  return Array.from({ length: n }, () => ({
    project: 'p1', domain: pick(DOMAINS), app: 'live', stream: pick(['s1', 's2']), protocol: pick(['flv', 'hls'] as const),
    region: pick(REGIONS_USED), isp: pick(ISPS_USED), ipType: pick(['v4', 'v6'] as IpType[]),
    slot: D + fromHour * HOUR + Math.floor(rnd() * hours * 12) * SLOT, requests: 1 + Math.floor(rnd() * 9), bytes: 1 + Math.floor(rnd() * 1e9),
  }));
}

const HOUR_STAMPS = ['http_counts_stamps', 'traffic_stamps', 'traffic_stream_stamps'] as const;

/** Every stamp of `db` that a write can touch on day D: hour stamps by (table, domain, hour), day stamps by domain. */
async function stamps(server: ClickHouseServer, db: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const t of HOUR_STAMPS) {
    const csv = await server.sql(`SELECT domain, hour, sum(rows), sum(tags) FROM ${db}.${t} WHERE project = 'p1' AND intDiv(hour, 24) = ${D / DAY}
      GROUP BY domain, hour ORDER BY domain, hour FORMAT TSV`);
    for (const line of csv.trim().split('\n').filter((l) => l !== '')) {
      const [domain, hour, rows, tags] = line.split('\t');
      out.set(`${t} ${domain} ${Number(hour) - D / HOUR}`, `${rows} ${tags}`);
    }
  }
  const csv = await server.sql(`SELECT domain, sum(rows), sum(tags) FROM ${db}.traffic_day_stamps WHERE project = 'p1' AND day = ${D / DAY}
    GROUP BY domain ORDER BY domain FORMAT TSV`);
  for (const line of csv.trim().split('\n').filter((l) => l !== '')) {
    const [domain, rows, tags] = line.split('\t');
    out.set(`traffic_day_stamps ${domain}`, `${rows} ${tags}`);
  }
  return out;
}

/** The sum (rows, tags mod 2^64) of traffic_stamps' hours of day D of `domain`, as traffic_day_stamps holds it. */
async function hoursSum(server: ClickHouseServer, db: string, domain: string): Promise<string> {
  const csv = await server.sql(`SELECT sum(rows), sum(tags) FROM ${db}.traffic_stamps WHERE project = 'p1' AND domain = '${domain}'
    AND intDiv(hour, 24) = ${D / DAY} FORMAT TSV`);
  return csv.trim().replace('\t', ' ');
}

/**
 * Writes a batch of counts and traffic into hour LATER of day D through `writer`, and checks that it
 * changed no stamp of hour 00:00 of that day and that each day stamp is still its hours' sum.
 */
async function writeLaterAndCheck(server: ClickHouseServer, db: string, writer: ClickHouseStore): Promise<void> {
  const before = await stamps(server, db);
  await writer.write(batch({ counts: counts(200, LATER, 1), traffic: traffic(200, LATER, 1) }));
  const after = await stamps(server, db);
  for (const t of HOUR_STAMPS) {
    for (const domain of DOMAINS) {
      expect(after.get(`${t} ${domain} 0`), `${t} ${domain} 00:00`).toBe(before.get(`${t} ${domain} 0`));
      expect(after.get(`${t} ${domain} ${LATER}`), `${t} ${domain} ${LATER}:00`).not.toBe(before.get(`${t} ${domain} ${LATER}`));
    }
  }
  for (const domain of DOMAINS) {
    expect(after.get(`traffic_day_stamps ${domain}`), `day stamp of ${domain}`).toBe(await hoursSum(server, db, domain));
    // The day stamp moved by exactly what hour LATER's stamp moved (no marker row in either).
    const [r0, t0] = (before.get(`traffic_day_stamps ${domain}`) ?? '0 0').split(' ').map(BigInt) as [bigint, bigint];
    const [r1, t1] = (after.get(`traffic_day_stamps ${domain}`) ?? '0 0').split(' ').map(BigInt) as [bigint, bigint];
    const [h0, u0] = (before.get(`traffic_stamps ${domain} ${LATER}`) ?? '0 0').split(' ').map(BigInt) as [bigint, bigint];
    const [h1, u1] = (after.get(`traffic_stamps ${domain} ${LATER}`) ?? '0 0').split(' ').map(BigInt) as [bigint, bigint];
    expect(r1 - r0).toBe(h1 - h0);
    expect(BigInt.asUintN(64, t1 - t0)).toBe(BigInt.asUintN(64, u1 - u0));
  }
}

const countsFilter: HttpCodesFilter = { project: 'p1', domains: DOMAINS, regions: [], isps: [], fromMinute: D, toMinute: D + 3 * HOUR };
const trafficFilter: TrafficFilter = {
  project: 'p1', domains: DOMAINS, app: undefined, stream: undefined, protocol: undefined, regions: [], isps: [], ipType: undefined,
  slotMs: SLOT, from: D, to: D + 3 * HOUR,
};

describe('stamps without markers (migration 016)', () => {
  it('a write into a later hour of a day changes no stamp of its 00:00 hour, and its day stamp only by that hour', async () => {
    await st.writer.write(batch({ counts: counts(2000, 0, 24), traffic: traffic(2000, 0, 24) }));
    for (let i = 0; i < 3; i++) await writeLaterAndCheck(st.server, st.database, st.writer);
  }, 180_000);

  it('answers over 00:00 stay from blocks while batches land in a later hour of the day', async () => {
    const hb = st.cached.hourBlocks;
    const tb = st.cached.trafficBlocks;
    const sqlCounts = async (): Promise<unknown> => st.sql.queryHttpCodes(countsFilter);
    const sqlTraffic = async (): Promise<number[]> => [...(await st.sql.trafficSeries(trafficFilter))];
    expect(await untilFromBlocks(hb?.stats, () => st.cached.queryHttpCodes(countsFilter), 'hour blocks')).toEqual(await sqlCounts());
    // The traffic blocks check a closed UTC day by its day stamp (migration 015), which any write into
    // the day changes; hours are checked one by one in the open day only. So they are asked as if it were
    // 12:00 of day D (the `now` of TrafficBlocks.series): day D is the open day, hours 0-2 closed, as
    // today's 00:00 hour is while ingest writes into later hours of today.
    const NOW = D + 12 * HOUR;
    const fromTrafficBlocks = async (): Promise<number[]> => [...((await tb?.series(trafficFilter, undefined, NOW)) ?? [])];
    expect(await untilFromBlocks(tb?.stats, fromTrafficBlocks, 'traffic blocks')).toEqual(await sqlTraffic());
    const h0 = { ...hb?.stats };
    const t0 = { ...tb?.stats };
    for (let i = 0; i < 5; i++) {
      await st.writer.write(batch({ counts: counts(100, LATER, 1), traffic: traffic(100, LATER, 1) }));
      expect(await st.cached.queryHttpCodes(countsFilter)).toEqual(await sqlCounts());
      expect(await fromTrafficBlocks()).toEqual(await sqlTraffic());
    }
    expect({ partly: hb?.stats.partly, bySql: hb?.stats.bySql, discarded: hb?.stats.discarded, fromBlocks: hb?.stats.fromBlocks })
      .toEqual({ partly: h0.partly, bySql: h0.bySql, discarded: h0.discarded, fromBlocks: (h0.fromBlocks ?? 0) + 5 });
    expect({ partly: tb?.stats.partly, bySql: tb?.stats.bySql, discarded: tb?.stats.discarded, fromBlocks: tb?.stats.fromBlocks })
      .toEqual({ partly: t0.partly, bySql: t0.bySql, discarded: t0.discarded, fromBlocks: (t0.fromBlocks ?? 0) + 5 });
  }, 180_000);

  it('a database written up to migration 015 (data, markers, stamps) answers exactly after 016, and its writes no longer touch 00:00', async () => {
    const { server } = st;
    const db = 'stamps_markers_upgrade';
    // The schema before 016, as the build before it made it (every migration below 016 applied and recorded).
    await schemaBefore(server, db, 16);
    const viewsOf = async (): Promise<string[]> => (await server.sql(
      `SELECT name FROM system.tables WHERE database = '${db}' AND engine = 'MaterializedView' AND name LIKE '%stamps%' ORDER BY name FORMAT TSV`)).trim().split('\n');
    const OLD = ['http_counts_stamps_from_bytes', 'http_counts_stamps_from_v1', 'traffic_day_stamps_from_domains', 'traffic_stamps_from_domains', 'traffic_stream_stamps_from_streams'];
    expect((await viewsOf()).filter((v) => OLD.includes(v))).toEqual(OLD);
    // Its data as that build wrote it: data rows (markers 0, batch '') and each chunk's marker row at
    // the day's start (markers 1, code 0, batch = the chunk's tag), each insert stamped by the old views.
    for (let i = 0; i < 3; i++) {
      const tag = `old-${i}#0`;
      const c = counts(300, 0, 24).map((r) => `('p1', '${r.domain}', ${r.minute / MIN}, '${r.region}', '${r.isp}', ${r.code}, '', ${r.count}, 0, ${r.bytes ?? 0})`);
      const cm = DOMAINS.map((d) => `('p1', '${d}', ${D / MIN}, '', '', 0, '${tag}', 0, 1, 0)`);
      await server.sql(`INSERT INTO ${db}.http_counts_bytes (project, domain, minute, region, isp, code, batch, count, markers, bytes) VALUES ${[...c, ...cm].join(', ')}`);
      const tr = traffic(300, 0, 24);
      const tm = DOMAINS.map((d) => `('p1', '${d}', ${D / SLOT}, '', '', '', '', '', '', '${tag}', 0, 0, 1)`);
      await server.sql(`INSERT INTO ${db}.traffic_streams (project, domain, slot, app, stream, protocol, region, isp, ip_type, batch, requests, bytes, markers) VALUES ${[
        ...tr.map((r) => `('p1', '${r.domain}', ${r.slot / SLOT}, '${r.app}', '${r.stream}', '${r.protocol}', '${r.region}', '${r.isp}', '${r.ipType}', '', ${r.requests}, ${r.bytes}, 0)`), ...tm].join(', ')}`);
      const dm = DOMAINS.map((d) => `('p1', '${d}', ${D / SLOT}, '', '', '', '', '${tag}', 0, 0, 1)`);
      await server.sql(`INSERT INTO ${db}.traffic_domains (project, domain, slot, protocol, region, isp, ip_type, batch, requests, bytes, markers) VALUES ${[
        ...tr.map((r) => `('p1', '${r.domain}', ${r.slot / SLOT}, '${r.protocol}', '${r.region}', '${r.isp}', '${r.ipType}', '', ${r.requests}, ${r.bytes}, 0)`), ...dm].join(', ')}`);
    }
    const cached = new ClickHouseStore({ url: server.url(db), hourBlocks: { workerUrl: hourBlockWorkerUrl } });
    const sql = new ClickHouseStore({ url: server.url(db), hourBlocks: false });
    try {
      await cached.init();
      await sql.init();
      const views = await viewsOf();
      expect(views.filter((v) => OLD.includes(v))).toEqual([]);
      expect(views).toEqual(expect.arrayContaining(OLD.map((v) => `${v}_v2`)));
      const wholeDay: TrafficFilter = { ...trafficFilter, slotMs: HOUR, to: D + DAY };
      const expectedCounts = await sql.queryHttpCodes({ ...countsFilter, toMinute: D + DAY });
      expect(expectedCounts.length).toBeGreaterThan(0);
      expect(await untilFromBlocks(cached.hourBlocks?.stats, () => cached.queryHttpCodes({ ...countsFilter, toMinute: D + DAY }), 'hour blocks')).toEqual(expectedCounts);
      expect(await untilFromBlocks(cached.trafficBlocks?.stats, async () => [...(await cached.trafficSeries(wholeDay))], 'traffic blocks'))
        .toEqual([...(await sql.trafficSeries(wholeDay))]);
      expect(await untilFromBlocks(cached.trafficBlocks?.stats, async () => [...(await cached.trafficSeries(trafficFilter))], 'traffic blocks'))
        .toEqual([...(await sql.trafficSeries(trafficFilter))]);
      // A write after the upgrade, through the store's write path: 00:00's stamps stay as they were.
      await writeLaterAndCheck(server, db, sql);
      expect(await cached.queryHttpCodes({ ...countsFilter, toMinute: D + DAY })).toEqual(await sql.queryHttpCodes({ ...countsFilter, toMinute: D + DAY }));
      expect([...(await cached.trafficSeries(wholeDay))]).toEqual([...(await sql.trafficSeries(wholeDay))]);
    } finally {
      await cached.close();
      await sql.close();
    }
  }, 240_000);
});
