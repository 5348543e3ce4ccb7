// The benches' query log switch (test/harness/clickhouse.ts setQueryLog) and their SELECT counts from system.events
// (bench/lib/ch-events.ts): the loads run with system.query_log off, and that is checked here on a real
// clickhouse-server, not assumed from its documentation.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chSelects, readChEvents } from '../bench/lib/ch-events.js';
import { allocate, launch, type ClickHouseServer } from './harness/clickhouse.js';
import { requireTools } from './helpers/system-tools.js';

let server: ClickHouseServer;
beforeAll(async () => {
  requireTools('clickhouse-server');
  server = launch(mkdtempSync(join(tmpdir(), 'livestats-ch-')), await allocate(), undefined, { queryLog: true });
  await server.start();
  await server.sql('CREATE TABLE t (a UInt32) ENGINE = MergeTree ORDER BY a');
  await server.sql('INSERT INTO t SELECT number FROM numbers(100000)');
}, 180_000);
afterAll(async () => {
  await server?.destroy();
});

/** How many times a query carrying `marker` was logged as finished (now). */
async function logged(marker: string): Promise<number> {
  await server.sql('SYSTEM FLUSH LOGS');
  return Number(await server.sql(`SELECT count() FROM system.query_log WHERE type = 2 AND query LIKE '%${marker}%' AND query NOT LIKE '%system.query_log%'`));
}

/**
 * Waits until a query carrying `marker` was logged as finished (the server logs a query's end after its answer is
 * sent, so a flush right after the answer can miss it), at most 30 s.
 */
async function untilLogged(marker: string): Promise<number> {
  const deadline = Date.now() + 30_000;
  let n = await logged(marker);
  while (n === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    n = await logged(marker);
  }
  return n;
}

it('setQueryLog(false) stops system.query_log for new queries, setQueryLog(true) starts it again', async () => {
  await server.sql("SELECT 'marker_on_1'");
  expect(await untilLogged('marker_on_1')).toBe(1);
  await server.setQueryLog(false);
  await server.sql("SELECT 'marker_off_1'");
  await server.setQueryLog(true);
  await server.sql("SELECT 'marker_on_2'");
  // Once the later query is in the log, the earlier one would be too, had it been logged.
  expect(await untilLogged('marker_on_2')).toBe(1);
  expect(await logged('marker_off_1')).toBe(0);
}, 120_000);

it('system.events counts the SELECTs and the marks they read with the query log off', async () => {
  await server.setQueryLog(false);
  const before = await readChEvents((q) => server.sql(q));
  for (let i = 0; i < 5; i++) await server.sql(`SELECT sum(a) FROM t WHERE a < ${10 + i}`);
  const after = await readChEvents((q) => server.sql(q));
  const d = chSelects(before, after);
  expect(d.selects).toBe(5);
  // Each read one granule of the one part.
  expect(d.marks).toBe(1);
  expect(d.parts).toBe(1);
  expect(d.threadMs).toBeGreaterThan(0);
  await server.setQueryLog(true);
}, 120_000);
