import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seeded } from '../bench/lib/rng.js';
import { blockInfo } from '../src/store/blocks/codec.js';
import { AUDIENCE_PROTOCOLS } from '../src/store/audience.js';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import { renderMigration } from '../src/store/clickhouse/schema.js';
import { loadMigrations } from '../src/store/migrations.js';
import { AUDIENCE_STREAMS } from '../src/store/sqlite/audience-layout.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { D, DOMAIN, drained, expectNaive, GEOS, H, M, Naive, randomSessions, span, STREAMS, users, type Session } from './helpers/audience-naive.js';
import { requireTools } from './helpers/system-tools.js';
import { tempDir } from './ingest-helpers.js';
import { batch } from './store-conformance.js';

/**
 * FLV/RTMP sessions stored as opens and closes with a base at each quarter-hour (schema v12,
 * ClickHouse 010; src/store/audience-flv.ts) against a naive model that adds each session to every
 * minute it overlaps: random sessions (zero length to 8 hours, across quarter-hours, hours and UTC
 * midnight), random batch splits, two SQLite stores on one file (as two processes), ClickHouse
 * batches retried as an attempt in doubt is: the same answers on every endpoint's store read.
 * ClickHouse 010 (audience_sessions): a database written before it holds FLV/RTMP viewers as a count
 * in audience_cells for every minute a session covered; the upgrade creates the sessions table and
 * rewrites nothing: those rows still read as per-minute viewers beside the opens and closes written
 * from then on, so every answer stays the naive model's, before and after new writes.
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

/** audience_cells rows as the code before 010 wrote them: per (cell, minute) the sessions overlapping it and their play ms in it, bytes and a line at the end minute. */
function legacyRows(sessions: Session[]): string[] {
  const cells = new Map<string, [number, number, number, number]>();
  const at = (s: Session, minute: number): [number, number, number, number] => {
    const [region, isp] = GEOS[s.geo] as [string, string];
    const k = [minute, STREAMS[s.stream], AUDIENCE_PROTOCOLS[s.protocol], region, isp].join('|');
    let c = cells.get(k);
    if (!c) cells.set(k, (c = [0, 0, 0, 0]));
    return c;
  };
  for (const s of sessions) {
    const [first, last] = span(s);
    const start = s.end - s.durationMs;
    for (let m = first; m <= last; m++) {
      const c = at(s, m);
      c[0] += 1;
      c[3] += Math.max(0, Math.min(s.end, (m + 1) * M) - Math.max(start, m * M));
    }
    const e = at(s, Math.floor(s.end / M));
    e[1] += 1000;
    e[2] += 1;
  }
  return [...cells].map(([k, [viewers, bytes, requests, playMs]]) => {
    const [minute, stream, protocol, region, isp] = k.split('|');
    return `('p1', '${DOMAIN}', ${minute}, 'live', '${stream}', '${protocol}', '${region}', '${isp}', '', ${viewers}, ${bytes}, ${requests}, ${playMs}, 0)`;
  });
}

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

  it('ClickHouse 010 upgrades a database written before it: stored per-minute viewers read as they are, beside the sessions written after', async () => {
    const db = 'audience_upgrade_010';
    // The schema as it was before 010: the migrations that existed then (001-009 and 011) applied and recorded;
    // init applies 010 and the later ones (014's views read 010's tables).
    await ch.sql(`CREATE DATABASE ${db}`);
    await ch.sql(`CREATE TABLE ${db}.schema_migrations (version UInt32, name String, applied_at UInt64) ENGINE = ReplacingMergeTree ORDER BY version`);
    for (const m of loadMigrations('clickhouse').filter((x) => x.version < 10 || x.version === 11)) {
      for (const stmt of renderMigration(m.sql, { database: db })) await ch.sql(stmt);
      await ch.sql(`INSERT INTO ${db}.schema_migrations VALUES (${m.version}, '${m.name}', 0)`);
    }
    const old = randomSessions(80, 7);
    const rows = legacyRows(old);
    for (let i = 0; i < rows.length; i += 5000) {
      await ch.sql(`INSERT INTO ${db}.audience_cells (project, domain, minute, app, stream, protocol, region, isp, batch, viewers, bytes, requests, play_ms, markers) VALUES ${rows.slice(i, i + 5000).join(', ')}`);
    }
    const store = new ClickHouseStore({ url: ch.url(db) });
    await store.init();
    try {
      expect((await ch.sql(`SELECT version FROM ${db}.schema_migrations WHERE version = 10`)).trim()).toBe('10');
      expect((await ch.sql(`SELECT count() FROM ${db}.audience_sessions`)).trim()).toBe('0');
      const rand = seeded(11);
      await expectNaive(store, new Naive(old), rand);
      // Sessions written by this code: opens and closes, added to the stored minutes.
      const fresh = randomSessions(80, 8);
      for (let i = 0; i < fresh.length; i += 20) await store.write(batch({ audience: [{ project: 'p1', cells: drained(fresh.slice(i, i + 20)) }] }));
      expect(Number(await ch.sql(`SELECT count() FROM ${db}.audience_sessions`))).toBeGreaterThan(0);
      await expectNaive(store, new Naive([...old, ...fresh]), rand);
    } finally {
      await store.close();
    }
  }, 180_000);

  it('ClickHouse 010 applies on a new database with the others', async () => {
    const store = new ClickHouseStore({ url: ch.url('audience_new_010') });
    await store.init();
    try {
      const columns = (await ch.sql('DESCRIBE TABLE audience_new_010.audience_sessions FORMAT TabSeparated')).split('\n').filter(Boolean).map((l) => l.split('\t').slice(0, 2).join(' '));
      expect(columns).toEqual(['project String', 'domain String', 'minute UInt32', 'app String', 'stream String', 'protocol String', 'region String', 'isp String',
        'batch String', 'opens UInt64', 'closes UInt64', 'markers UInt64']);
    } finally {
      await store.close();
    }
  });
});
