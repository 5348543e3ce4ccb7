import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seeded } from '../bench/lib/rng.js';
import { blockInfo } from '../src/store/blocks/codec.js';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import { AUDIENCE_STREAMS } from '../src/store/sqlite/audience-layout.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { D, drained, expectNaive, H, M, Naive, randomSessions, users, type Session } from './helpers/audience-naive.js';
import { requireTools } from './helpers/system-tools.js';
import { tempDir } from './ingest-helpers.js';
import { batch } from './store-conformance.js';

/**
 * FLV/RTMP sessions stored as opens and closes with a base at each quarter-hour (schema v12,
 * ClickHouse 010; src/store/audience-flv.ts) against a naive model that adds each session to every
 * minute it overlaps: random sessions (zero length to 8 hours, across quarter-hours, hours and UTC
 * midnight), random batch splits, two SQLite stores on one file (as two processes), ClickHouse
 * batches retried as an attempt in doubt is: the same answers on every endpoint's store read.
 */
requireTools('clickhouse-server');

const dir = tempDir('audience-sessions');
let ch: ClickHouseServer;
beforeAll(async () => {
  ch = await startClickHouse();
}, 120_000);
afterAll(async () => {
  await ch?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('FLV/RTMP sessions as opens and closes', () => {
  it('answer as the naive per-minute model: random sessions, random batch splits, two SQLite writers, ClickHouse retries', async () => {
    for (const seed of [1, 2]) {
      const rand = seeded(100 + seed);
      const sessions = randomSessions(120, seed);
      const naive = new Naive(sessions);
      const file = join(dir, `property-${seed}.db`);
      const a = new SqliteStore(file);
      const b = new SqliteStore(file);
      const c = new ClickHouseStore({ url: ch.url(`audience_sessions_${seed}`) });
      for (const s of [a, b, c]) await s.init();
      try {
        // Random splits: the same sessions in batches of 1 to 40, in shuffled order.
        const order = [...sessions].sort(() => rand() - 0.5);
        for (let i = 0; i < order.length;) {
          const n = 1 + Math.floor(rand() * 40);
          const part = order.slice(i, i + n);
          i += n;
          const w = batch({ audience: [{ project: 'p1', cells: drained(part) }] });
          await (rand() < 0.5 ? a : b).write(w);
          await c.write(w);
          // An attempt in doubt is sent again as a retry: its markers make it count once.
          if (rand() < 0.4) await c['audience'].write(w.id, w.audience ?? [], true);
        }
        await expectNaive(a, naive, rand);
        await expectNaive(c, naive, rand);
      } finally {
        for (const s of [a, b, c]) await s.close();
      }
    }
  }, 300_000);

  it('a 6-hour session is stored as a few cells per block it spans, not one per minute (both stores)', async () => {
    // 12:00:30 to 18:00:30: minutes 12:00 to 18:00 (361), 25 quarter-hour blocks.
    const session: Session = { stream: 0, protocol: 0, geo: 0, end: D + 18 * H + 30_000, durationMs: 6 * H };
    const blocks = 25;
    const sqlite = new SqliteStore(join(dir, 'six-hours.db'));
    const c = new ClickHouseStore({ url: ch.url('audience_six_hours') });
    for (const s of [sqlite, c]) await s.init();
    try {
      const w = batch({ audience: [{ project: 'p1', cells: drained([session]) }] });
      await sqlite.write(w);
      await c.write(w);
      // Every stored cell of the stream's total level (one series, one group).
      const level = AUDIENCE_STREAMS.levelFor([[], []]);
      const rows = sqlite['db'].prepare(`SELECT data FROM ${level.table.name}`).pluck().all() as Uint8Array[];
      const cells = rows.reduce((n, data) => n + blockInfo(data).cells, 0);
      expect(rows.length).toBeLessThanOrEqual(blocks + 1);
      expect(cells).toBeLessThanOrEqual(blocks + 2);
      const chRows = Number(await ch.sql("SELECT count() FROM audience_six_hours.audience_sessions WHERE batch = ''"));
      expect(chRows).toBeLessThanOrEqual(blocks + 1);
      const naive = new Naive([session]);
      for (const store of [sqlite, c]) {
        const got = await store.usersSeries(users({ from: D + 11 * H, to: D + 19 * H }));
        expect([...got]).toEqual(Array.from({ length: 8 * 60 }, (_, i) => naive.viewers((D + 11 * H) / M + i)));
      }
    } finally {
      for (const s of [sqlite, c]) await s.close();
    }
  }, 120_000);
});
