import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import { ChEndpoint } from '../src/store/clickhouse/client.js';
import { backfillUpDomain } from '../src/store/clickhouse/origin-slots.js';
import { parseClickHouseUrls } from '../src/store/clickhouse/url.js';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { requireTools } from './helpers/system-tools.js';
import { session, up } from './origin-conformance.js';

requireTools('clickhouse-server');

/**
 * The publish side's ClickHouse specifics of migration 011 on a real clickhouse-server: retention drops
 * the origin tables' old partitions like the other cubes' (before it, nothing ever left them), a
 * session block is kept while it holds a session still open or ending after the cutoff, and the
 * per-domain input bytes are backfilled from origin_up_bytes exactly once even when the step runs again.
 */
const DAY = 86_400_000;
const BLOCK = 2_592_000_000;
const SLOT = 300_000;

let server: ClickHouseServer;
let n = 0;
beforeAll(async () => {
  server = await startClickHouse();
});
afterAll(async () => {
  await server?.destroy();
});

const open = async (name: string): Promise<{ store: ClickHouseStore; db: string }> => {
  const db = `${name}_${++n}`;
  const store = new ClickHouseStore({ url: server.url(db) });
  await store.init();
  return { store, db };
};

describe('ClickHouse origin tables (migration 011)', () => {
  it('drops the partitions before the cutoff, keeping blocks with a session still running at it', async () => {
    const { store, db } = await open('origin_retention');
    try {
      // Block b0 ends before the cutoff and holds closed sessions only; block b1 ends before it too but holds an open session.
      const b0 = 40 * BLOCK;
      const cutoff = b0 + 3 * BLOCK + 5 * DAY;
      await store.writeOrigin({
        sessions: [
          session('old', b0 + DAY, b0 + DAY + 3_600_000),
          session('open', b0 + BLOCK + DAY, null, { stream: 'open' }),
          session('new', cutoff + DAY, null),
        ],
        upBytes: [up(cutoff - 2 * DAY, 100), up(cutoff + SLOT, 200), up(cutoff, 400), up(cutoff + DAY, 800)],
        plays: [{ project: 'p1', id: 'pl', domain: 'd', app: 'live', stream: 's', clientIp: '', region: 'GD', isp: 'CTCC', start: b0 + 5, end: b0 + 10, updatedAt: 1 }],
      });
      await store.deleteTrafficBefore(cutoff);
      expect((await server.sql(`SELECT id FROM ${db}.origin_sessions ORDER BY id FORMAT CSV`)).trim().split('\n')).toEqual(['"new"', '"open"']);
      expect((await server.sql(`SELECT count() FROM ${db}.origin_plays`)).trim()).toBe('0');
      // Days before the cutoff's day go (the cutoff's own day stays whole), in both byte tables.
      for (const t of ['origin_up_bytes', 'origin_up_domain']) {
        expect((await server.sql(`SELECT sum(bytes) FROM ${db}.${t}`)).trim(), t).toBe(String(200 + 400 + 800));
      }
      const series = await store.upBytesSeries({ project: 'p1', domains: ['push.example.com'], regions: [], isps: [], type: 0, slotMs: DAY,
        from: Math.floor(cutoff / DAY) * DAY - 2 * DAY, to: Math.floor(cutoff / DAY) * DAY + 2 * DAY });
      expect([...series]).toEqual([0, 0, 600, 800]);
    } finally {
      await store.close();
    }
  });

  it('backfills the per-domain input bytes from origin_up_bytes once, even when the step runs again', async () => {
    const { store, db } = await open('origin_backfill');
    try {
      const T = Date.UTC(2026, 10, 20);
      // Rows an earlier livestats (schema 006) wrote: origin_up_bytes only.
      await server.sql(`INSERT INTO ${db}.origin_up_bytes (project, domain, slot, app, stream, region, isp, type, bytes) VALUES
        ('p1', 'push.example.com', ${T / SLOT}, 'live', 's1', 'GD', 'CTCC', 0, 10),
        ('p1', 'push.example.com', ${T / SLOT}, 'live', 's2', 'GD', 'CTCC', 0, 20),
        ('p1', 'push.example.com', ${T / SLOT + 1}, 'live', 's1', 'BJ', 'CTCC', 0, 40),
        ('p1', 'push.example.com', ${T / SLOT + 300}, 'live', 's1', 'GD', 'CTCC', 1, 80)`);
      const f = { project: 'p1', domains: ['push.example.com'], regions: [], isps: [], type: 0 as const, slotMs: SLOT, from: T, to: T + 2 * SLOT };
      expect([...await store.upBytesSeries(f)]).toEqual([0, 0]);
      const target = parseClickHouseUrls(server.url(db));
      const ch = new ChEndpoint(target.endpoints[0] as NonNullable<typeof target.endpoints[0]>);
      const names = { database: db };
      expect(await backfillUpDomain(ch, names)).toBe(2);
      expect(await backfillUpDomain(ch, names)).toBe(2);
      expect([...await store.upBytesSeries(f)]).toEqual([30, 40]);
      expect([...await store.upBytesSeries({ ...f, regions: ['GD'] })]).toEqual([30, 0]);
      expect([...await store.upBytesSeries({ ...f, type: 1, slotMs: DAY, from: T, to: T + 2 * DAY })]).toEqual([0, 80]);
      await ch.close();
    } finally {
      await store.close();
    }
  });
});
