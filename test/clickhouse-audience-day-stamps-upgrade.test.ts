import { afterAll, beforeAll, expect, it } from 'vitest';
import type { UsersFilter } from '../src/store/audience.js';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { daySums, schemaBefore, seededRandom, untilFromBlocks } from './helpers/block-stores.js';
import { requireTools } from './helpers/system-tools.js';

// Migration 017 (day stamps of the audience cube, one row per (project, domain, day)) on a database an
// earlier livestats wrote: its audience rows and hour stamps (014's views, and a retried write's bump row)
// were there before 017, so the migration's backfill gives each day the sum of its hour stamps; the node
// then answers the users series of closed days exactly from its blocks, checked by day, without having
// to repair a day stamp first.

requireTools('clickhouse-server');

const M = 60_000;
const HOUR = 60 * M;
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

it('a database with audience hour stamps written before migration 017 answers closed days exactly from blocks checked by day after it', async () => {
  const db = 'audience_day_stamps_upgrade';
  // The schema before 017, as the build before it made it (every migration below 017 applied and recorded).
  await schemaBefore(server, db, 17);
  // Its audience, as that build wrote it: counted viewers (audience_cells) and HLS viewers (audience_hls) over
  // three days, in several inserts (014's views stamp their hours), and one retried write's bump row (rows 0,
  // a random tag) in an hour of the second day.
  const { rnd, pick } = seededRandom(17);
  const minute = (): number => D0 / M + Math.floor(rnd() * 3 * 1440);
  for (let i = 0; i < 4; i++) {
    const cells = Array.from({ length: 300 }, () =>
      `('p1', '${pick(DOMAINS)}', ${minute()}, 'live', '${pick(['s1', 's2'])}', 'flv', '${pick(['GD', 'SH'])}', 'CMCC', '', ${1 + Math.floor(rnd() * 50)}, ${1 + Math.floor(rnd() * 1e6)}, 1, 60000, 0)`);
    await server.sql(`INSERT INTO ${db}.audience_cells (project, domain, minute, app, stream, protocol, region, isp, batch, viewers, bytes, requests, play_ms, markers) VALUES ${cells.join(', ')}`);
    const hls = Array.from({ length: 200 }, () => `('p1', '${pick(DOMAINS)}', ${minute()}, 'live', 's3', 'GD', 'CMCC', '10.0.0.${Math.floor(rnd() * 40)}')`);
    await server.sql(`INSERT INTO ${db}.audience_hls (project, domain, minute, app, stream, region, isp, ip) VALUES ${hls.join(', ')}`);
  }
  await server.sql(`INSERT INTO ${db}.audience_stamps (project, domain, hour, rows, tags) VALUES ('p1', '${DOMAINS[0]}', ${D0 / HOUR + 30}, 0, 8937264554321)`);

  const cached = new ClickHouseStore({ url: server.url(db) });
  const sql = new ClickHouseStore({ url: server.url(db), hourBlocks: false });
  try {
    await cached.init();
    await sql.init();
    // Each day's stamp is the sum of its hour stamps (rows, and tags mod 2^64).
    const { fromHours, days } = await daySums(server, db, 'audience_stamps', 'audience_day_stamps', 'domain');
    expect(fromHours.trim().split('\n')).toHaveLength(6);
    expect(days).toBe(fromHours);
    const blocks = cached.audienceBlocks;
    for (const domain of DOMAINS) {
      const f: UsersFilter = {
        project: 'p1', domain, app: undefined, stream: undefined, protocol: undefined, regions: [], isps: [], slotMs: 5 * M, from: D0, to: D0 + 3 * DAY,
      };
      const expected = [...(await sql.usersSeries(f))];
      expect(expected.some((v) => v > 0)).toBe(true);
      const answer = await untilFromBlocks(blocks?.stats, async () => [...(await cached.usersSeries(f))], 'audience blocks');
      expect(answer).toEqual(expected);
    }
    // Every closed day from blocks checked by its day stamp (3 days x 2 domains), and no day stamp needed a repair.
    expect(blocks?.dayStats.used).toBeGreaterThanOrEqual(6);
    expect(blocks?.dayStats.repaired).toBe(0);
  } finally {
    await cached.close();
    await sql.close();
  }
}, 180_000);
