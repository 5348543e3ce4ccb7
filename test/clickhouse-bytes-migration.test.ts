import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { renderMigration } from '../src/store/clickhouse/schema.js';
import { loadMigrations } from '../src/store/migrations.js';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { batch, cell } from './store-conformance.js';
import type { TrafficRow } from '../src/store/traffic.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('clickhouse-server');

/**
 * A schema v1 ClickHouse database (migration 001 only, counts in http_counts without bytes, as
 * livestats wrote them before) opened by this version: every stored count is still answered,
 * new counts carry bytes (summed by merges), and an older node writing v1 rows meanwhile loses nothing.
 */
let server: ClickHouseServer;
beforeAll(async () => {
  server = await startClickHouse();
});
afterAll(async () => {
  await server?.destroy();
});

const T0 = Date.UTC(2026, 10, 20);
const M = T0 / 60_000;

it('upgrades a v1 database to counts with bytes, keeping every count, including ones an older node writes meanwhile', async () => {
  const db = 'upgrade_v1';
  await server.sql(`CREATE DATABASE ${db}`);
  await server.sql(`CREATE TABLE ${db}.schema_migrations (version UInt32, name String, applied_at UInt64) ENGINE = ReplacingMergeTree ORDER BY version`);
  const v1 = readFileSync(join(import.meta.dirname, '..', 'src', 'store', 'clickhouse', 'migrations', '001_init.sql'), 'utf8');
  for (const stmt of renderMigration(v1, { database: db })) await server.sql(stmt);
  await server.sql(`INSERT INTO ${db}.schema_migrations VALUES (1, 'init', 0)`);
  const v1Insert = (rows: string): Promise<string> =>
    server.sql(`INSERT INTO ${db}.http_counts (project, domain, minute, region, isp, code, batch, count, markers) VALUES ${rows}`);
  await v1Insert(`('p1', 'a.example.com', ${M}, 'GD', 'CTCC', 200, '', 7, 0), ('p1', 'a.example.com', ${M + 1}, 'GD', 'CTCC', 404, '', 2, 0)`);

  const store = new ClickHouseStore({ url: server.url(db) });
  await store.init();
  expect((await server.sql(`SELECT version FROM ${db}.schema_migrations ORDER BY version FORMAT CSV`)).trim()).toBe(loadMigrations('clickhouse').map((m) => m.version).join('\n'));
  await store.write(batch({ counts: [cell(T0, 200, 3, { bytes: 3000 }), cell(T0 + 120_000, 500, 1, { bytes: 10 })] }));
  // An older node still running writes v1 rows into http_counts: they count too.
  await v1Insert(`('p1', 'a.example.com', ${M}, 'GD', 'CTCC', 200, '', 5, 0)`);
  const filter = { project: 'p1', domains: ['a.example.com'], regions: [], isps: [], fromMinute: T0, toMinute: T0 + 180_000 };
  const expected = [
    { minute: T0, code: 200, count: 15 }, { minute: T0 + 60_000, code: 404, count: 2 }, { minute: T0 + 120_000, code: 500, count: 1 },
  ];
  expect(await store.queryHttpCodes(filter)).toEqual(expected);
  expect(await store.queryHttpCodes({ ...filter, regions: ['SH'] })).toEqual([]);
  for (const t of ['http_counts', 'http_counts_bytes']) await server.sql(`OPTIMIZE TABLE ${db}.${t} FINAL`);
  expect(await store.queryHttpCodes(filter)).toEqual(expected);
  expect(await server.sql(`SELECT code, count, bytes FROM ${db}.http_counts_bytes WHERE code > 0 ORDER BY code FORMAT CSV`)).toBe('200,3,3000\n500,1,10\n');
  // Retention drops the day partitions of both tables.
  await store.deleteBefore(T0 + 86_400_000);
  expect(await store.queryHttpCodes(filter)).toEqual([]);
  await store.close();
  // A second start applies nothing again.
  const again = new ClickHouseStore({ url: server.url(db) });
  await again.init();
  expect((await server.sql(`SELECT count() FROM ${db}.schema_migrations WHERE version = 3`)).trim()).toBe('1');
  await again.close();
});

const migrationFile = (name: string): string =>
  readFileSync(join(import.meta.dirname, '..', 'src', 'store', 'clickhouse', 'migrations', name), 'utf8');

const trafficRow: TrafficRow = {
  project: 'p1', domain: 'a.example.com', app: 'live', stream: 's1', protocol: 'flv', region: 'GD', isp: 'CTCC', ipType: 'v4',
  slot: T0, requests: 4, bytes: 4096,
};
const trafficFilter = {
  project: 'p1', domains: ['a.example.com'], app: undefined, stream: undefined, protocol: undefined, regions: [], isps: [], ipType: undefined,
  slotMs: 300_000, from: T0, to: T0 + 600_000,
};

/**
 * Two builds once both numbered a migration 2 (traffic; counts with bytes): a database made by
 * either records a version 2 that may be the other one. Both upgrade to every table.
 */
for (const [label, file, name] of [['traffic (002_traffic)', '002_traffic.sql', 'traffic'], ['counts with bytes numbered 2', '003_counts_bytes.sql', 'counts_bytes']] as const) {
  it(`upgrades a database whose version 2 is ${label}: both migrations applied, stored rows kept`, async () => {
    const db = `upgrade_v2_${name}`;
    await server.sql(`CREATE DATABASE ${db}`);
    await server.sql(`CREATE TABLE ${db}.schema_migrations (version UInt32, name String, applied_at UInt64) ENGINE = ReplacingMergeTree ORDER BY version`);
    for (const stmt of [...renderMigration(migrationFile('001_init.sql'), { database: db }), ...renderMigration(migrationFile(file), { database: db })]) {
      await server.sql(stmt);
    }
    await server.sql(`INSERT INTO ${db}.schema_migrations VALUES (1, 'init', 0), (2, '${name}', 0)`);
    const first = new ClickHouseStore({ url: server.url(db) });
    await first.init();
    const tables = (await server.sql(`SELECT name FROM system.tables WHERE database = '${db}' ORDER BY name FORMAT CSV`)).trim().split('\n');
    for (const t of ['http_counts', 'http_counts_bytes', 'traffic_domains', 'traffic_streams']) expect(tables).toContain(`"${t}"`);
    await first.write(batch({ counts: [cell(T0, 200, 3, { bytes: 3000 })], traffic: [trafficRow] }));
    await first.close();
    const again = new ClickHouseStore({ url: server.url(db) });
    await again.init();
    const filter = { project: 'p1', domains: ['a.example.com'], regions: [], isps: [], fromMinute: T0, toMinute: T0 + 60_000 };
    expect(await again.queryHttpCodes(filter)).toEqual([{ minute: T0, code: 200, count: 3 }]);
    expect([...await again.trafficSeries(trafficFilter)]).toEqual([4096, 0]);
    await again.close();
  });
}
