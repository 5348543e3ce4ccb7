import { afterAll, beforeAll, expect, it } from 'vitest';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import type { TrafficFilter } from '../src/store/traffic.js';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { daySums, schemaBefore, seededRandom, untilFromBlocks } from './helpers/block-stores.js';
import { requireTools } from './helpers/system-tools.js';

// Migration 015 (day stamps of the traffic totals, one row per (project, domain, day)) on a database an
// earlier livestats wrote: its traffic and hour stamps (009's view, and a retried write's bump row) were
// there before 015, so the migration's backfill gives each day the sum of its hour stamps; the node then
// answers closed days exactly from day blocks, without having to repair a day stamp first.

requireTools('clickhouse-server');

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const D0 = (Math.floor(Date.now() / DAY) - 4) * DAY;
const DOMAINS = ['a.example.com', 'b.example.com'];

let server: ClickHouseServer;
beforeAll(async () => {
  server = await startClickHouse();
});
afterAll(async () => {
  await server?.destroy();
});

it('a database with hour stamps written before migration 015 answers closed days exactly from day blocks after it', async () => {
  const db = 'day_stamps_upgrade';
  // The schema before 015, as an earlier build made it (every migration below 015 applied and recorded).
  await schemaBefore(server, db, 15);
  // Its traffic, as that build wrote it: rows of traffic_domains (009's view stamps their hours), in
  // several inserts, and one retried write's bump row (rows 0, a random tag) in an hour of the second day.
  const { rnd, pick } = seededRandom(5);
  for (let i = 0; i < 4; i++) {
    const values = Array.from({ length: 300 }, () =>
      `('p1', '${pick(DOMAINS)}', ${D0 / 300_000 + Math.floor(rnd() * 3 * 288)}, '${pick(['flv', 'hls'])}', '${pick(['GD', 'SH'])}', 'CMCC', 'v4', '', 1, ${1 + Math.floor(rnd() * 1e9)}, 0)`);
    await server.sql(`INSERT INTO ${db}.traffic_domains (project, domain, slot, protocol, region, isp, ip_type, batch, requests, bytes, markers) VALUES ${values.join(', ')}`);
  }
  await server.sql(`INSERT INTO ${db}.traffic_stamps (project, domain, hour, rows, tags) VALUES ('p1', '${DOMAINS[0]}', ${D0 / HOUR + 30}, 0, 8937264554321)`);

  const cached = new ClickHouseStore({ url: server.url(db) });
  const sql = new ClickHouseStore({ url: server.url(db), hourBlocks: false });
  try {
    await cached.init();
    await sql.init();
    // Each day's stamp is the sum of its hour stamps (rows, and tags mod 2^64).
    const { fromHours, days } = await daySums(server, db, 'traffic_stamps', 'traffic_day_stamps', 'domain');
    expect(fromHours.trim().split('\n')).toHaveLength(6);
    expect(days).toBe(fromHours);
    const f: TrafficFilter = {
      project: 'p1', domains: DOMAINS, app: undefined, stream: undefined, protocol: undefined, regions: [], isps: [], ipType: undefined,
      slotMs: HOUR, from: D0, to: D0 + 3 * DAY,
    };
    const expected = [...(await sql.trafficSeries(f))];
    expect(expected.some((v) => v > 0)).toBe(true);
    const blocks = cached.trafficBlocks;
    const answer = await untilFromBlocks(blocks?.stats, async () => [...(await cached.trafficSeries(f))], 'traffic blocks');
    expect(answer).toEqual(expected);
    // Every closed day from a day block (3 days x 2 domains), and no day stamp needed a repair.
    expect(blocks?.dayStats.used).toBeGreaterThanOrEqual(6);
    expect(blocks?.dayStats.repaired).toBe(0);
  } finally {
    await cached.close();
    await sql.close();
  }
}, 180_000);
