// The coarse stamps of the traffic totals (ClickHouse migration 018, src/store/clickhouse/coarse-stamps.ts,
// issue 24): one stamp per (project, UTC day), read by every answer; a day's fine stamps (015's day stamps,
// 009's hour stamps from the day limit on) are read again only when its coarse stamp moved. Checked here
// against the reads before 018 (readDayStampGrid: every fine stamp read each time) on a real
// clickhouse-server: the same grid after writes by another node into a closed day and into today's hours,
// after a retried write's bump, after a day stamp repair, and for domains asked later; fewer fine reads when
// nothing was written. And the upgrade: a database the code before 018 wrote gets each (project, day)'s
// coarse stamp from its hour stamps, so its closed days are answered from kept stamps at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseClickHouseUrls, type Endpoint } from '../src/store/clickhouse/url.js';
import { ChEndpoint } from '../src/store/clickhouse/client.js';
import { CoarseDayGrids } from '../src/store/clickhouse/coarse-stamps.js';
import { backfillProjectDayStamps, repairDayStamps } from '../src/store/clickhouse/day-stamps-backfill.js';
import { readDayStampGrid, type DayStampGrid } from '../src/store/clickhouse/day-stamps.js';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import type { TrafficFilter, TrafficRow } from '../src/store/traffic.js';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { daySums, markUnacknowledged, schemaBefore, seededRandom, untilFromBlocks } from './helpers/block-stores.js';
import { batch } from './store-conformance.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('clickhouse-server');

const SLOT = 300_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const D0 = (Math.floor(Date.now() / DAY) - 4) * DAY;
const DOMAINS = ['a.example.com', 'b.example.com', 'c.example.com'];

let server: ClickHouseServer;
beforeAll(async () => {
  server = await startClickHouse();
});
afterAll(async () => {
  await server?.destroy();
});

const { rnd, pick } = seededRandom(11);
function rows(n: number, from: number, hours: number, domains = DOMAINS, project = 'p1'): TrafficRow[] {
  return Array.from({ length: n }, () => ({
    project, domain: pick(domains), app: 'live', stream: 's1', protocol: pick(['flv', 'hls'] as const), region: 'GD', isp: 'CMCC', ipType: 'v4',
    slot: from + Math.floor(rnd() * hours * 12) * SLOT, requests: 1 + Math.floor(rnd() * 9), bytes: 1 + Math.floor(rnd() * 1e9),
  }));
}

/** The grid's cells as plain numbers (the typed arrays compared by value). */
const cellsOf = (g: DayStampGrid): object => ({
  days: g.days, dayFrom: g.dayFrom, hourFrom: g.hourFrom, hours: g.hours, rows: [...g.rows], hi: [...g.tagsHi], lo: [...g.tagsLo],
});

describe('coarse stamps of the traffic totals', () => {
  it('give the grid of a full fine read after writes into closed days and today, a retry, a repair, and for new domains; fine stamps reread only for days that moved', async () => {
    const db = 'coarse_grids';
    const url = server.url(db);
    const writer = new ClickHouseStore({ url, hourBlocks: false });
    await writer.init();
    const endpoint = new ChEndpoint(parseClickHouseUrls(url).endpoints[0] as Endpoint);
    const t = (name: string): string => `${db}.${name}`;
    const grids = new CoarseDayGrids(endpoint, t('traffic_stamps'), t('traffic_day_stamps'), t('traffic_project_day_stamps'));
    const hourNow = Math.floor(Date.now() / HOUR);
    // Four closed days and today's hours so far; two projects (the second one's writes never move p1's coarse stamps).
    await writer.write(batch({ traffic: [...rows(400, D0, 4 * 24), ...rows(100, D0, hourNow - D0 / HOUR, DOMAINS, 'p2')] }));
    await writer.write(batch({ traffic: rows(200, D0 + 4 * DAY, hourNow - (D0 + 4 * DAY) / HOUR) }));
    const dayLimit = D0 / HOUR + 4 * 24;
    const from = D0 / HOUR;
    const to = hourNow + 1;
    try {
      const check = async (domains: readonly string[]): Promise<void> => {
        const got = await grids.read(['p1'], domains, from, to, dayLimit);
        const want = await readDayStampGrid(endpoint, t('traffic_stamps'), t('traffic_day_stamps'), ['p1'], domains, from, to, dayLimit);
        expect(cellsOf(got)).toEqual(cellsOf(want));
        expect(want.rows.some((r) => r > 0)).toBe(true);
      };
      await check(DOMAINS.slice(0, 2));
      expect(grids.stats.fineDays).toBe(5);
      // Nothing written since: every day from the kept stamps (no fine read).
      const fine = grids.stats.fineReads;
      await check(DOMAINS.slice(0, 2));
      await check([DOMAINS[1] as string]);
      expect(grids.stats.fineReads).toBe(fine);
      expect(grids.stats.keptDays).toBe(10);
      // The other project's writes leave p1's days kept.
      await writer.write(batch({ traffic: rows(50, D0, 5 * 24, DOMAINS, 'p2') }));
      await check(DOMAINS.slice(0, 2));
      expect(grids.stats.fineReads).toBe(fine);
      // Another node writes into the second closed day, then into today's hours: those days read again, the others kept.
      await writer.write(batch({ traffic: rows(5, D0 + DAY + 3 * HOUR, 1, [DOMAINS[2] as string]) }));
      let days = grids.stats.fineDays;
      await check(DOMAINS.slice(0, 2));
      expect(grids.stats.fineDays - days).toBe(1);
      await writer.write(batch({ traffic: rows(5, (hourNow - 1) * HOUR, 1, [DOMAINS[0] as string]) }));
      days = grids.stats.fineDays;
      await check(DOMAINS.slice(0, 2));
      expect(grids.stats.fineDays - days).toBe(1);
      // A domain not asked before: its stamps are read (the kept ones do not hold it), the same as a full read's.
      await check(DOMAINS);
      // A retried write whose first attempt landed: its bump moves the coarse stamps of its days (and the fine ones).
      const b = batch({ traffic: rows(20, D0 + 2 * DAY, 24) });
      await writer.write(b);
      await check(DOMAINS);
      markUnacknowledged(writer, b.id);
      days = grids.stats.fineDays;
      await writer.write(b);
      await check(DOMAINS);
      expect(grids.stats.fineDays - days).toBe(1);
      // A day stamp set apart from its hours' sums (as an insert whose day view failed leaves it), then repaired:
      // the coarse stamp does not move, so the node forgets that day's kept stamps and reads them again.
      await server.sql(`INSERT INTO ${t('traffic_day_stamps')} (project, domain, day, rows, tags) VALUES ('p1', '${DOMAINS[0] as string}', ${D0 / DAY + 1}, 3, 77)`);
      await repairDayStamps(endpoint, { database: db }, 'p1', [DOMAINS[0] as string], [D0 / DAY + 1]);
      grids.forget('p1', [D0 / DAY + 1]);
      days = grids.stats.fineDays;
      await check(DOMAINS);
      expect(grids.stats.fineDays - days).toBe(1);
    } finally {
      await writer.close();
      await endpoint.close();
    }
  }, 180_000);

  it('a database written before migration 018 gets each (project, day) coarse stamp from its hour stamps; its closed days are then answered from kept stamps', async () => {
    const db = 'coarse_upgrade';
    // The schema before 018, as the current build makes it (every migration below 018 applied and recorded).
    await schemaBefore(server, db, 18);
    // Its traffic as that build wrote it: rows of traffic_domains (016's views stamp their hours and days), in
    // several inserts, two projects, and a retried write's bump rows (into the day and hour stamps, as before 018).
    for (let i = 0; i < 4; i++) {
      const values = Array.from({ length: 300 }, () =>
        `('${pick(['p1', 'p2'])}', '${pick(DOMAINS)}', ${D0 / SLOT + Math.floor(rnd() * 3 * 288)}, '${pick(['flv', 'hls'])}', 'GD', 'CMCC', 'v4', '', 1, ${1 + Math.floor(rnd() * 1e9)}, 0)`);
      await server.sql(`INSERT INTO ${db}.traffic_domains (project, domain, slot, protocol, region, isp, ip_type, batch, requests, bytes, markers) VALUES ${values.join(', ')}`);
    }
    const bumpHour = D0 / HOUR + 30;
    await server.sql(`INSERT INTO ${db}.traffic_day_stamps (project, domain, day, rows, tags) VALUES ('p1', '${DOMAINS[0]}', ${Math.floor(bumpHour / 24)}, 0, 8937264554321)`);
    await server.sql(`INSERT INTO ${db}.traffic_stamps (project, domain, hour, rows, tags) VALUES ('p1', '${DOMAINS[0]}', ${bumpHour}, 0, 8937264554321)`);

    const cached = new ClickHouseStore({ url: server.url(db) });
    const sql = new ClickHouseStore({ url: server.url(db), hourBlocks: false });
    try {
      await cached.init();
      await sql.init();
      const coarse = (): ReturnType<typeof daySums> => daySums(server, db, 'traffic_stamps', 'traffic_project_day_stamps', 'project');
      const before = await coarse();
      expect(before.fromHours.trim().split('\n')).toHaveLength(6);
      expect(before.days).toBe(before.fromHours);
      // Written since: the view of 018 keeps the coarse stamps the sums of the hour stamps.
      await sql.write(batch({ traffic: rows(30, D0 + DAY, 24, DOMAINS, 'p2') }));
      const after = await coarse();
      expect(after.days).toBe(after.fromHours);
      const f: TrafficFilter = {
        project: 'p1', domains: DOMAINS, app: undefined, stream: undefined, protocol: undefined, regions: [], isps: [], ipType: undefined,
        slotMs: HOUR, from: D0, to: D0 + 3 * DAY,
      };
      const expected = [...(await sql.trafficSeries(f))];
      expect(expected.some((v) => v > 0)).toBe(true);
      const blocks = cached.trafficBlocks;
      expect(await untilFromBlocks(blocks?.stats, async () => [...(await cached.trafficSeries(f))], 'traffic blocks')).toEqual(expected);
      // Answered again: the three closed days from their kept stamps, no fine read; the same answer.
      const fine = blocks?.coarseStats.fineReads;
      const kept = blocks?.coarseStats.keptDays ?? 0;
      expect([...(await cached.trafficSeries(f))]).toEqual(expected);
      expect(blocks?.coarseStats.fineReads).toBe(fine);
      expect((blocks?.coarseStats.keptDays ?? 0) - kept).toBe(3);
      // Its backfill run again (a node starting after a crash before 018 was recorded): nothing added.
      const endpoint = new ChEndpoint(parseClickHouseUrls(server.url(db)).endpoints[0] as Endpoint);
      try {
        expect(await backfillProjectDayStamps(endpoint, { database: db })).toBe(0);
      } finally {
        await endpoint.close();
      }
    } finally {
      await cached.close();
      await sql.close();
    }
  }, 180_000);
});
