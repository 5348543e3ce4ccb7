// The setup the ClickHouse block tests share (test/clickhouse-{hour,traffic,carousel}-blocks.test.ts): a real
// clickhouse-server and three stores on one database, as three nodes: `cached` keeps blocks, `writer`
// and `sql` do not (`sql` gives the answers the blocks must equal); a seeded random source; and the
// wait for an answer taken from the blocks (they are built in the background); and the stamp view that
// "fails" (is gone) while a batch lands.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import { projectRoot } from '../../src/paths.js';
import type { HourBlocksOptions } from '../../src/store/clickhouse/block-cache.js';
import { renderMigration } from '../../src/store/clickhouse/schema.js';
import { ClickHouseStore } from '../../src/store/clickhouse/store.js';
import { loadMigrations } from '../../src/store/migrations.js';
import { startClickHouse, type ClickHouseServer } from '../harness/clickhouse.js';
import { spawnNode } from './spawn.js';

export interface BlockStores {
  /** The database the stores use. */
  database: string;
  server: ClickHouseServer;
  /** The node with blocks. */
  cached: ClickHouseStore;
  /** Another node writing, without blocks. */
  writer: ClickHouseStore;
  /** A node without blocks: every answer by SQL. */
  sql: ClickHouseStore;
}

/**
 * Starts the server and the stores on `database` before the file's tests (closes them after); the
 * returned object is filled in then. `hourBlocks`: the cached store's block options.
 */
export function useBlockStores(database: string, hourBlocks?: HourBlocksOptions): BlockStores {
  const st: Partial<BlockStores> = { database };
  beforeAll(async () => {
    st.server = await startClickHouse();
    const url = st.server.url(database);
    st.cached = new ClickHouseStore(hourBlocks ? { url, hourBlocks } : { url });
    st.writer = new ClickHouseStore({ url, hourBlocks: false });
    st.sql = new ClickHouseStore({ url, hourBlocks: false });
    await st.cached.init();
    await st.writer.init();
    await st.sql.init();
  });
  afterAll(async () => {
    await st.cached?.close();
    await st.writer?.close();
    await st.sql?.close();
    await st.server?.destroy();
  });
  return st as BlockStores;
}

/** A seeded random source (the same numbers every run) and a pick from a list by it. */
export function seededRandom(seed: number): { rnd: () => number; pick: <T>(xs: readonly T[]) => T } {
  let s = seed;
  const rnd = (): number => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
  return { rnd, pick: <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T };
}

/**
 * Asks (`ask`) until an answer comes from the blocks (their fromBlocks counter went up), polling for at
 * most 60 s; returns it. `what`: the blocks' name in the errors.
 */
export async function untilFromBlocks<T>(stats: { readonly fromBlocks: number } | undefined, ask: () => Promise<T>, what: string): Promise<T> {
  const deadline = Date.now() + 60_000;
  if (!stats) throw new Error(`the store has no ${what}`);
  for (;;) {
    const before = stats.fromBlocks;
    const out = await ask();
    if (stats.fromBlocks > before) return out;
    if (Date.now() > deadline) throw new Error(`no answer from the ${what} within 60 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Runs `during` while the stamp view `view` of ClickHouse migration `version` is gone (the view
 * "failed": what lands meanwhile changes no stamp), then creates the view again.
 */
export async function withoutStampView(st: BlockStores, version: number, view: string, during: () => Promise<void>): Promise<void> {
  const create = renderMigration(loadMigrations('clickhouse').find((m) => m.version === version)?.sql ?? '', { database: st.database })
    .find((stmt) => stmt.includes(view));
  if (!create) throw new Error(`no stamp view in migration ${String(version).padStart(3, '0')}`);
  await st.server.sql(`DROP TABLE ${st.database}.${view}`);
  try {
    await during();
  } finally {
    await st.server.sql(create);
  }
}

/** Makes the next write of batch `id` by `store` a retry (as if the answer to the first attempt was lost). */
export function markUnacknowledged(store: ClickHouseStore, id: string): void {
  (store as unknown as { pending: Map<string, bigint> }).pending.set(id, 1n);
}

/** The built hour-block worker (dist/), which the hour-block tests' stores run. */
export const hourBlockWorkerUrl = pathToFileURL(join(projectRoot(), 'dist', 'src', 'store', 'clickhouse', 'hour-block-worker.js'));

/** Fails the file's tests at once, saying why, when the worker was not built. */
export function requireBuiltHourBlockWorker(): void {
  beforeAll(() => {
    if (!existsSync(hourBlockWorkerUrl)) throw new Error('run `npm run build` before this test');
  });
}

/** The built store module (dist/), for a child process's script to import. */
export const builtStoreUrl = pathToFileURL(join(projectRoot(), 'dist', 'src', 'store', 'clickhouse', 'store.js')).href;

/**
 * Runs `script` (an ES module) in a node process of its own: it must print a line `built N` with N > 0
 * (each stage of it prints a line, so a child that never reports names the stage it stopped in), then
 * exit by itself with code 0, though its store is left open: a block worker must never keep a process
 * alive by itself, nor let it exit while an answer is awaited from it (code 13: an unsettled await).
 */
export async function expectChildReportsAndExits(script: string): Promise<void> {
  // A file, not --eval: a worker inherits the process's execArgv (--input-type would stop it).
  const dir = mkdtempSync(join(tmpdir(), 'livestats-worker-exit-'));
  const file = join(dir, 'node.mjs');
  writeFileSync(file, script);
  const child = spawnNode([file]);
  const early = child.exited.then((code) => {
    throw new Error(`the child exited (${code}) before it reported; its output:\n${child.output()}`);
  });
  early.catch(() => undefined); // raced below; its rejection after a report is not an error
  const [line] = await Promise.race([child.waitFor(/built \d+/, 120_000), early]); // a hang catcher, past the child's own 60 s
  expect(line, child.output()).not.toBe('built 0');
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([child.exited, new Promise<'alive'>((r) => {
    timer = setTimeout(() => r('alive'), 60_000); // a hang catcher: it exits as soon as its sockets are idle
  })]);
  clearTimeout(timer);
  if (outcome === 'alive') child.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  expect(outcome, child.output()).toBe(0);
}

/**
 * A database `db` with the schema an earlier build made: every ClickHouse migration below `version`
 * applied and recorded (the upgrade tests then run the store's own migration on it).
 */
export async function schemaBefore(server: ClickHouseServer, db: string, version: number): Promise<void> {
  await server.sql(`CREATE DATABASE ${db}`);
  await server.sql(`CREATE TABLE ${db}.schema_migrations (version UInt32, name String, applied_at UInt64) ENGINE = ReplacingMergeTree ORDER BY version`);
  for (const m of loadMigrations('clickhouse').filter((x) => x.version < version)) {
    for (const stmt of renderMigration(m.sql, { database: db })) await server.sql(stmt);
    await server.sql(`INSERT INTO ${db}.schema_migrations VALUES (${m.version}, '${m.name}', 0)`);
  }
}


/**
 * The stamps of an hour stamps table summed per (`by`, UTC day), and those of its day stamps table per
 * (`by`, day), as CSV rows in the same order: equal when each day's stamp is the sum of its hours' (rows,
 * and tags mod 2^64), as migrations 015, 017 and 018 keep them.
 */
export async function daySums(server: ClickHouseServer, db: string, hourTable: string, dayTable: string, by: 'domain' | 'project'):
  Promise<{ fromHours: string; days: string }> {
  const csv = (q: string): Promise<string> => server.sql(`${q} FORMAT CSV`);
  const [fromHours, days] = await Promise.all([
    csv(`SELECT ${by}, intDiv(hour, 24) AS day, sum(rows), sum(tags) FROM ${db}.${hourTable} GROUP BY ${by}, day ORDER BY ${by}, day`),
    csv(`SELECT ${by}, day, sum(rows), sum(tags) FROM ${db}.${dayTable} GROUP BY ${by}, day ORDER BY ${by}, day`),
  ]);
  return { fromHours, days };
}
