import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { carouselJson } from '../src/contract/carousel.js';
import { httpCodesJson } from '../src/contract/httpcodes.js';
import { ReadPool } from '../src/store/sqlite/read-pool.js';
import { InlineReader } from '../src/store/sqlite/reader.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { QueryTimeoutError, type CountRow } from '../src/store/types.js';
import { projectRoot } from '../src/paths.js';
import { tempDir } from './helpers/tmp.js';

/** The pool runs the compiled worker (npm test builds first), reading files written by the real store. */
const workerUrl = new URL(`file://${join(projectRoot(), 'dist', 'src', 'store', 'sqlite', 'read-worker.js')}`);
const T0 = Date.UTC(2026, 10, 20, 0, 0, 0);
const MIN = 60_000;
let tmp: ReturnType<typeof tempDir>;
const open: Array<{ close: () => Promise<void> }> = [];
beforeAll(() => {
  if (!existsSync(workerUrl)) throw new Error('run `npm run build` before this test');
});
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
  tmp?.remove();
});

async function storeWithData(keepOpen = false): Promise<{ store: SqliteStore; file: string }> {
  tmp = tempDir();
  const file = join(tmp.dir, 'livestats.db');
  const store = new SqliteStore(file);
  await store.init();
  open.push(store);
  const counts: CountRow[] = [];
  for (let m = 0; m < 180; m++) {
    for (const region of ['GD', 'BJ', 'SH'] as const) {
      counts.push({ project: 'a', domain: 'x.com', minute: T0 + m * MIN, region, isp: 'CMCC', code: 200 + (m % 3), count: m + 1, bytes: m });
      counts.push({ project: 'b', domain: 'y.com', minute: T0 + m * MIN, region, isp: 'CTCC', code: 404, count: 2 });
    }
  }
  const samples = Array.from({ length: 900 }, (_, s) => ({ project: 'a', taskId: 't', second: T0 + s * 1000, videoFps: 25, videoKbps: s, audioFps: 43, audioKbps: 128 }));
  await store.write({ id: '1', counts, samples, tasks: [], checkpoints: [] });
  if (!keepOpen) await store.close();
  return { store, file };
}

const filter = (project: string, domain: string, more: object = {}) => ({
  project, domains: [domain], regions: [], isps: [], fromMinute: T0, toMinute: T0 + 180 * MIN, ...more,
});

it('answers exactly as the inline reader does, from read-only connections that see new commits', async () => {
  const { store, file } = await storeWithData(true);
  const pool = new ReadPool(file, { size: 2, workerUrl });
  open.push(pool);
  const inline = new InlineReader(new Database(file, { readonly: true }));
  for (const f of [filter('a', 'x.com'), filter('a', 'x.com', { regions: ['GD'] }), filter('a', 'x.com', { isps: ['CMCC'] }), filter('b', 'y.com', { regions: ['SH'], isps: ['CTCC'] })]) {
    expect(await pool.httpCodes(f)).toEqual(await inline.httpCodes(f));
  }
  const sf = { project: 'a', taskId: 't', from: T0, to: T0 + 3_600_000 };
  expect(await pool.samples(sf)).toEqual(await inline.samples(sf));
  const before = (await pool.httpCodes(filter('b', 'y.com'))).counts.reduce((a, b) => a + b, 0);
  await store.write({ id: '2', samples: [], tasks: [], checkpoints: [], counts: [{ project: 'b', domain: 'y.com', minute: T0, region: 'GD', isp: 'CMCC', code: 404, count: 5 }] });
  expect((await pool.httpCodes(filter('b', 'y.com'))).counts.reduce((a, b) => a + b, 0)).toBe(before + 5);
  // Many at once, more than workers: all answered.
  const many = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.httpCodes(filter(i % 2 ? 'a' : 'b', i % 2 ? 'x.com' : 'y.com'))));
  expect(many.every((r) => r.codes.length > 0)).toBe(true);
});

/** Holds an exclusive lock (no other connection open) so that readers block in SQLite's busy handler until released. */
function lockExclusively(file: string): () => void {
  const db = new Database(file);
  db.pragma('locking_mode = EXCLUSIVE');
  db.exec('BEGIN EXCLUSIVE');
  db.prepare('SELECT count(*) FROM meta').get();
  return () => {
    db.exec('COMMIT');
    db.close();
  };
}

it('fails a query that runs over the timeout with QueryTimeoutError, replaces its worker and serves the next query', async () => {
  const { file } = await storeWithData();
  const release = lockExclusively(file);
  // The timeout also bounds the next query, which starts a fresh worker: leave room for that on a loaded
  // machine (a worker start at the default nice 10 beside a CPU hog took over 1.5 s), so as long as the
  // lock test allows (the worker's busy_timeout, 5 s, must not end the first query first), and at nice 0.
  const pool = new ReadPool(file, { size: 1, timeoutMs: 4000, workerUrl, nice: 0 });
  open.push(pool);
  const err = await pool.httpCodes(filter('a', 'x.com')).catch((e: unknown) => e);
  release();
  expect(err).toBeInstanceOf(QueryTimeoutError);
  expect((err as Error).message).toBe('query timed out after 4000 ms');
  expect((await pool.httpCodes(filter('a', 'x.com'))).codes.length).toBe(3);
});

it('queues fairly: round-robin across projects, in order within one', async () => {
  const { file } = await storeWithData();
  const pool = new ReadPool(file, { size: 1, timeoutMs: 20_000, workerUrl });
  open.push(pool);
  // Submitted in one tick: the first goes to the only worker, the others queue.
  const done: string[] = [];
  const ask = (name: string, project: string, domain: string): Promise<void> => pool.httpCodes(filter(project, domain)).then(() => void done.push(name));
  const all = [ask('a1', 'a', 'x.com'), ask('a2', 'a', 'x.com'), ask('a3', 'a', 'x.com'), ask('a4', 'a', 'x.com'), ask('b1', 'b', 'y.com'), ask('b2', 'b', 'y.com')];
  expect(pool.queued).toBe(5);
  await Promise.all(all);
  expect(done).toEqual(['a1', 'a2', 'b1', 'a3', 'b2', 'a4']);
});

it('an aborted query settles at once and frees its place: queued ones leave the queue, a running one has its answer dropped', async () => {
  const { file } = await storeWithData();
  const pool = new ReadPool(file, { size: 1, timeoutMs: 20_000, workerUrl });
  open.push(pool);
  const running = new AbortController();
  const queued = new AbortController();
  const r1 = pool.httpCodes(filter('a', 'x.com'), running.signal).catch((e: unknown) => e);
  const r2 = pool.httpCodes(filter('a', 'x.com'), queued.signal).catch((e: unknown) => e);
  const r3 = pool.httpCodes(filter('b', 'y.com'));
  expect(pool.queued).toBe(2);
  queued.abort(new Error('client went away'));
  expect(pool.queued).toBe(1);
  expect(((await r2) as Error).message).toBe('client went away');
  running.abort();
  expect(((await r1) as Error).name).toBe('AbortError');
  expect((await r3).codes).toEqual(Int32Array.of(404));
  const pre = new AbortController();
  pre.abort(new Error('already'));
  await expect(pool.httpCodes(filter('a', 'x.com'), pre.signal)).rejects.toThrow('already');
});

it('renders answers in the workers byte for byte as the main-thread renderers do over the same cells', async () => {
  const { store, file } = await storeWithData(true);
  const pool = new ReadPool(file, { size: 2, workerUrl });
  open.push(pool);
  const cases: Array<[ReturnType<typeof filter>, number[]]> = [
    [filter('a', 'x.com'), []], [filter('a', 'x.com', { regions: ['GD'] }), [200, 404]],
    [filter('a', 'x.com', { isps: ['CMCC'], fromMinute: T0 + 7 * MIN, toMinute: T0 + 300 * MIN }), []],
    [filter('b', 'y.com', { regions: ['SH'], isps: ['CTCC'] }), [404]], [filter('a', 'nowhere.com'), []],
  ];
  for (const [f, codes] of cases) {
    const q = { domains: f.domains, codes, regions: f.regions, isps: f.isps, fromMinute: f.fromMinute, toMinute: f.toMinute };
    const body = Buffer.from(await pool.httpCodesBody(f, codes)).toString();
    expect(body).toBe(httpCodesJson(q, await store.queryHttpCodes(f)));
    expect(body.length).toBeGreaterThan(100);
  }
  for (const sf of [{ project: 'a', taskId: 't', from: T0 - 5000, to: T0 + 3_600_000 }, { project: 'a', taskId: 'none', from: T0, to: T0 + 60_000 }]) {
    const q = { taskId: sf.taskId, start: sf.from, end: sf.to };
    expect(Buffer.from(await pool.samplesBody(sf)).toString()).toBe(carouselJson(q, await store.querySamples(sf)));
  }
});

it('reuses the buffers of sent answers without changing any later answer', async () => {
  const { file } = await storeWithData();
  const pool = new ReadPool(file, { size: 1, workerUrl });
  open.push(pool);
  const a = filter('a', 'x.com');
  const b = filter('a', 'x.com', { regions: ['GD'], toMinute: T0 + 30 * MIN });
  const first = { a: Buffer.from(await pool.httpCodesBody(a, [])).toString(), b: Buffer.from(await pool.httpCodesBody(b, [200])).toString() };
  for (let i = 0; i < 6; i++) {
    const [fa, fb] = [await pool.httpCodesBody(a, []), await pool.httpCodesBody(b, [200])];
    expect([Buffer.from(fa).toString(), Buffer.from(fb).toString()]).toEqual([first.a, first.b]);
    pool.release(fa);
    pool.release(fb);
    // Given back: the buffer now belongs to the worker (detached here).
    expect(fa.byteLength).toBe(0);
  }
});
