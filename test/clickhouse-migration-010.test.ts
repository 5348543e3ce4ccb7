import { afterAll, beforeAll, expect, it } from 'vitest';
import { seeded } from '../bench/lib/rng.js';
import { AUDIENCE_PROTOCOLS } from '../src/store/audience.js';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import { renderMigration } from '../src/store/clickhouse/schema.js';
import { loadMigrations } from '../src/store/migrations.js';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { DOMAIN, drained, expectNaive, GEOS, M, Naive, randomSessions, span, STREAMS, type Session } from './helpers/audience-naive.js';
import { requireTools } from './helpers/system-tools.js';
import { batch } from './store-conformance.js';

/**
 * ClickHouse 010 (audience_sessions): a database written before it holds FLV/RTMP viewers as a
 * count in audience_cells for every minute a session covered. The upgrade creates the sessions
 * table and rewrites nothing: those rows still read as per-minute viewers beside the opens and
 * closes written from then on, so every answer stays the naive model's, before and after new writes.
 */
requireTools('clickhouse-server');

let ch: ClickHouseServer;
beforeAll(async () => {
  ch = await startClickHouse();
}, 120_000);
afterAll(async () => {
  await ch?.stop();
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

it('upgrades a database written before 010: stored per-minute viewers read as they are, beside the sessions written after', async () => {
  const db = 'audience_upgrade_010';
  // The schema as it was before 010: every other migration applied and recorded.
  await ch.sql(`CREATE DATABASE ${db}`);
  await ch.sql(`CREATE TABLE ${db}.schema_migrations (version UInt32, name String, applied_at UInt64) ENGINE = ReplacingMergeTree ORDER BY version`);
  for (const m of loadMigrations('clickhouse').filter((x) => x.version !== 10)) {
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

it('applies 010 on a new database with the others', async () => {
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
