import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ISPS, REGIONS, type Isp, type Region } from '../src/contract/values.js';
import { renderMigration } from '../src/store/clickhouse/schema.js';
import { loadMigrations } from '../src/store/migrations.js';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import type { CountRow, HttpCodesFilter } from '../src/store/types.js';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { startFaultyProxy, type FaultyProxy } from './harness/faulty-proxy.js';
import { batch, cell } from './store-conformance.js';
import { seeded } from '../bench/lib/rng.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('clickhouse-server');

/**
 * The ClickHouse rollup levels (migration 004): filled by materialized views on both detail
 * tables, backfilled from them on upgrade, applied exactly once by a retried write (also when a
 * view failed after the detail rows landed), dropped by retention.
 */
const T0 = Date.UTC(2026, 10, 20);
const MIN = 60_000;
const DAY = 86_400_000;
const M = T0 / MIN;
const LEVEL_TABLES = ['http_counts_all', 'http_counts_region', 'http_counts_isp'];

let server: ClickHouseServer;
let proxy: FaultyProxy;
let n = 0;
beforeAll(async () => {
  server = await startClickHouse();
  proxy = await startFaultyProxy(server.httpPort);
});
afterAll(async () => {
  await proxy?.close();
  await server?.destroy();
});

const migration = (name: string): string =>
  readFileSync(join(import.meta.dirname, '..', 'src', 'store', 'clickhouse', 'migrations', name), 'utf8');

/** A database at schema v3 (migrations 001-003), as the previous livestats left it. */
async function v3Database(db: string): Promise<void> {
  await server.sql(`CREATE DATABASE ${db}`);
  await server.sql(`CREATE TABLE ${db}.schema_migrations (version UInt32, name String, applied_at UInt64) ENGINE = ReplacingMergeTree ORDER BY version`);
  for (const f of ['001_init.sql', '002_traffic.sql', '003_counts_bytes.sql']) {
    for (const stmt of renderMigration(migration(f), { database: db })) await server.sql(stmt);
  }
  await server.sql(`INSERT INTO ${db}.schema_migrations VALUES (1, 'init', 0), (2, 'traffic', 0), (3, 'counts_bytes', 0)`);
}

/** Random cells over 3 days, every region/isp value in play. */
function randomCells(count: number, seed: number): CountRow[] {
  const rng = seeded(seed);
  return Array.from({ length: count }, () => cell(T0 - DAY + Math.floor(rng() * 3 * 1440) * MIN, [200, 206, 404, 500][Math.floor(rng() * 4)] as number,
    1 + Math.floor(rng() * 50), {
      domain: `d${Math.floor(rng() * 3)}.example`, region: REGIONS[Math.floor(rng() * REGIONS.length)] as Region,
      isp: ISPS[Math.floor(rng() * ISPS.length)] as Isp, bytes: Math.floor(rng() * 1e6),
    }));
}

const DOMAINS = ['d0.example', 'd1.example', 'd2.example', 'a.example.com'];
const filters = (): HttpCodesFilter[] => {
  const base = { project: 'p1', domains: DOMAINS, fromMinute: T0 - DAY, toMinute: T0 + 2 * DAY };
  return [
    { ...base, regions: [], isps: [] },
    { ...base, regions: ['GD', 'SH'], isps: [] },
    { ...base, regions: [], isps: ['CMCC'] },
    { ...base, regions: ['GD'], isps: ['CMCC', 'CTCC'] },
    { ...base, regions: [...REGIONS], isps: [] },
  ];
};

/** What a filter must answer, summed in JavaScript from the cells written. */
function expected(rows: readonly CountRow[], f: HttpCodesFilter): Array<{ minute: number; code: number; count: number }> {
  const sums = new Map<string, { minute: number; code: number; count: number }>();
  for (const r of rows) {
    if (!f.domains.includes(r.domain) || r.minute < f.fromMinute || r.minute >= f.toMinute) continue;
    if (f.regions.length > 0 && !f.regions.includes(r.region)) continue;
    if (f.isps.length > 0 && !f.isps.includes(r.isp)) continue;
    const k = `${r.minute} ${r.code}`;
    const e = sums.get(k);
    if (e) e.count += r.count;
    else sums.set(k, { minute: r.minute, code: r.code, count: r.count });
  }
  return [...sums.values()].sort((a, b) => a.minute - b.minute || a.code - b.code);
}

async function expectAnswers(store: ClickHouseStore, rows: readonly CountRow[]): Promise<void> {
  for (const f of filters()) expect(await store.queryHttpCodes(f)).toEqual(expected(rows, f));
}

const sumOf = async (db: string, table: string, col = 'count'): Promise<number> =>
  Number(await server.sql(`SELECT sum(${col}) FROM ${db}.${table} WHERE code > 0`));

describe('ClickHouse rollups', () => {
  it('fresh database: every write reaches every level, and each filter reads its level', async () => {
    const db = `rollups_${++n}`;
    const store = new ClickHouseStore({ url: server.url(db) });
    await store.init();
    const rows = randomCells(3_000, 1);
    await store.write(batch({ counts: rows.slice(0, 1_000) }));
    await store.write(batch({ counts: rows.slice(1_000) }));
    const total = rows.reduce((s, r) => s + r.count, 0);
    for (const t of ['http_counts_bytes', ...LEVEL_TABLES]) expect(await sumOf(db, t)).toBe(total);
    expect(await sumOf(db, 'http_counts_all', 'bytes')).toBe(rows.reduce((s, r) => s + (r.bytes ?? 0), 0));
    await expectAnswers(store, rows);
    // A level answers from its own table: rows placed in it alone show up in its filter only.
    await server.sql(`INSERT INTO ${db}.http_counts_isp (project, domain, isp, minute, code, batch, count, markers, bytes) VALUES ('p1', 'd0.example', 'CMCC', ${M}, 299, '', 1, 0, 0)`);
    const isp = filters()[2] as HttpCodesFilter;
    expect((await store.queryHttpCodes(isp)).filter((c) => c.code === 299)).toEqual([{ minute: T0, code: 299, count: 1 }]);
    expect((await store.queryHttpCodes(filters()[0] as HttpCodesFilter)).filter((c) => c.code === 299)).toEqual([]);
    await store.close();
  });

  it('upgrades a v3 database: backfills every level from both detail tables, once, one part per day', async () => {
    const db = `rollups_${++n}`;
    await v3Database(db);
    const old = randomCells(2_000, 2);
    // As the previous version wrote them: v1 rows without bytes, v3 rows with bytes and write markers.
    const v1 = old.slice(0, 500);
    await server.sql(`INSERT INTO ${db}.http_counts (project, domain, minute, region, isp, code, batch, count, markers) VALUES ` +
      v1.map((r) => `('p1', '${r.domain}', ${r.minute / MIN}, '${r.region}', '${r.isp}', ${r.code}, '', ${r.count}, 0)`).join(', '));
    await server.sql(`INSERT INTO ${db}.http_counts_bytes (project, domain, minute, region, isp, code, batch, count, markers, bytes) VALUES ` +
      old.slice(500).map((r) => `('p1', '${r.domain}', ${r.minute / MIN}, '${r.region}', '${r.isp}', ${r.code}, '', ${r.count}, 0, ${r.bytes ?? 0})`).join(', ') +
      `, ('p1', 'd0.example', ${M}, '', '', 0, 'old#0', 0, 1, 0)`);

    const store = new ClickHouseStore({ url: server.url(db) });
    await store.init();
    expect((await server.sql(`SELECT version FROM ${db}.schema_migrations ORDER BY version FORMAT CSV`)).trim()).toBe(loadMigrations('clickhouse').map((m) => m.version).join('\n'));
    const total = old.reduce((s, r) => s + r.count, 0);
    for (const t of LEVEL_TABLES) expect(await sumOf(db, t)).toBe(total);
    expect(await sumOf(db, 'http_counts_all', 'bytes')).toBe(old.slice(500).reduce((s, r) => s + (r.bytes ?? 0), 0));
    // Each backfilled day is one part holding its marker (committed together).
    const parts = (await server.sql(`SELECT table, partition, count() FROM system.parts WHERE database = '${db}' AND active
      AND table IN ('http_counts_all', 'http_counts_region', 'http_counts_isp') GROUP BY table, partition ORDER BY table, partition FORMAT CSV`)).trim().split('\n');
    expect(parts).toHaveLength(9);
    for (const p of parts) expect(p.endsWith(',1')).toBe(true);
    await expectAnswers(store, old);

    // New writes, and an older node still writing v1 rows, reach the levels through the views.
    const fresh = randomCells(700, 3);
    await store.write(batch({ counts: fresh }));
    const late = cell(T0, 200, 11, { domain: 'd1.example', region: 'SH', isp: 'CUCC' });
    await server.sql(`INSERT INTO ${db}.http_counts (project, domain, minute, region, isp, code, batch, count, markers) VALUES ('p1', 'd1.example', ${M}, 'SH', 'CUCC', 200, '', 11, 0)`);
    const all = [...old, ...fresh, late];
    await expectAnswers(store, all);
    await store.close();

    // A backfill cut short before its record (the process died) runs again: days already copied are skipped.
    await server.sql(`DROP TABLE ${db}.schema_migrations`);
    await server.sql(`CREATE TABLE ${db}.schema_migrations (version UInt32, name String, applied_at UInt64) ENGINE = ReplacingMergeTree ORDER BY version`);
    await server.sql(`INSERT INTO ${db}.schema_migrations VALUES (1, 'init', 0), (2, 'traffic', 0), (3, 'counts_bytes', 0)`);
    await server.sql(`ALTER TABLE ${db}.http_counts_region DROP PARTITION ${Math.floor(M / 1440)}`);
    const again = new ClickHouseStore({ url: server.url(db) });
    await again.init();
    for (const t of ['http_counts_all', 'http_counts_isp']) expect(await sumOf(db, t)).toBe(all.reduce((s, r) => s + r.count, 0));
    // The dropped day was copied again from the detail tables (what they hold now), the others kept.
    expect(await sumOf(db, 'http_counts_region')).toBe(all.reduce((s, r) => s + r.count, 0));
    await expectAnswers(again, all);
    await again.close();
  });

  it('a retried write is counted once at every level, also when a view failed after the detail rows landed', async () => {
    const db = `rollups_${++n}`;
    const store = new ClickHouseStore({ url: server.url(db) });
    await store.init();
    // A view that fails on one domain's rows, run after some of the real ones (views run in name
    // order): the INSERT fails with the detail parts committed and some levels without the rows.
    await server.sql(`CREATE MATERIALIZED VIEW ${db}.http_counts_b_boom TO ${db}.http_counts_all AS
      SELECT project, domain, minute, code, batch, count, markers, bytes FROM ${db}.http_counts_bytes WHERE throwIf(domain = 'boom.example') = 0`);
    const rows = [...randomCells(1_500, 4), cell(T0, 200, 9, { domain: 'boom.example' })];
    const b = batch({ counts: rows });
    await expect(store.write(b)).rejects.toThrow();
    expect(await sumOf(db, 'http_counts_bytes')).toBe(rows.reduce((s, r) => s + r.count, 0));
    const partial = await Promise.all(LEVEL_TABLES.map((t) => sumOf(db, t)));
    expect(partial.filter((s) => s === rows.reduce((a, r) => a + r.count, 0)).length).toBeLessThan(3);
    await server.sql(`DROP TABLE ${db}.http_counts_b_boom`);
    await store.write(b);
    const total = rows.reduce((s, r) => s + r.count, 0);
    for (const t of ['http_counts_bytes', ...LEVEL_TABLES]) expect(await sumOf(db, t)).toBe(total);
    await expectAnswers(store, rows);
    await store.write(batch({ counts: [cell(T0, 200, 1, { domain: 'd0.example' })] }));
    for (const t of ['http_counts_bytes', ...LEVEL_TABLES]) expect(await sumOf(db, t)).toBe(total + 1);
    await store.close();
  });

  it('a retried write whose INSERT landed with its views but whose answer was lost is not added again', async () => {
    const db = `rollups_${++n}`;
    const store = new ClickHouseStore({ url: `${proxy.url.replace('http://', 'http://default:@')}/${db}` });
    proxy.policy = () => 'pass';
    await store.init();
    const rows = randomCells(800, 5);
    const b = batch({ counts: rows });
    proxy.policy = (body) => (body.startsWith('INSERT') && body.includes('http_counts_bytes') ? 'drop-response' : 'pass');
    await expect(store.write(b)).rejects.toThrow();
    proxy.policy = () => 'pass';
    await store.write(b);
    const total = rows.reduce((s, r) => s + r.count, 0);
    for (const t of ['http_counts_bytes', ...LEVEL_TABLES]) expect(await sumOf(db, t)).toBe(total);
    await expectAnswers(store, rows);
    await store.close();
  });

  it('retention drops old day partitions of every level', async () => {
    const db = `rollups_${++n}`;
    const store = new ClickHouseStore({ url: server.url(db) });
    await store.init();
    const rows = randomCells(600, 6);
    await store.write(batch({ counts: rows }));
    await store.deleteBefore(T0 + DAY);
    const kept = rows.filter((r) => r.minute >= T0 + DAY);
    for (const t of ['http_counts_bytes', ...LEVEL_TABLES]) expect(await sumOf(db, t)).toBe(kept.reduce((s, r) => s + r.count, 0));
    await expectAnswers(store, kept);
    await store.close();
  });
});
