import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { spawnNode, type Spawned } from './helpers/spawn.js';
import { requireTools } from './helpers/system-tools.js';
import { tempDir } from './helpers/tmp.js';

requireTools('curl');

// These run the built CLI (dist/, produced by `npm run build`, which `npm test` runs first).
const root = join(import.meta.dirname, '..');
const exec = promisify(execFile);
let proc: Spawned | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  if (proc && proc.child.exitCode === null) {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
  tmp?.remove();
  proc = undefined;
  tmp = undefined;
});

it('SIGTERM flushes records that were only in memory, then exits 0', async () => {
  tmp = tempDir();
  proc = spawnNode([join(root, 'test/fixtures/feed-then-serve.mjs'), tmp.dir, '10000']);
  const fed = await proc.waitFor(/fed (\{.*\})/, 60_000);
  expect(JSON.parse(fed[1] ?? '{}')).toMatchObject({ pendingRecords: 10001, flushes: 0 });
  proc.child.kill('SIGTERM');
  expect(await proc.exited).toBe(0);

  const store = new SqliteStore(join(tmp.dir, 'livestats.db'));
  await store.init();
  const domains = Array.from({ length: 7 }, (_, i) => `d${i}.com`);
  const from = Date.UTC(2026, 0, 1);
  const cells = await store.queryHttpCodes({ project: 'p', domains, regions: [], isps: [], fromMinute: from, toMinute: from + 5 * 60_000 });
  expect(cells.reduce((n, c) => n + c.count, 0)).toBe(10000);
  expect(cells.filter((c) => c.code === 201).reduce((n, c) => n + c.count, 0)).toBe(3333);
  expect(await store.querySamples({ project: 'p', taskId: 't', from, to: from + 1000 })).toHaveLength(1);
  await store.close();
}, 120_000); // a hang catcher: feeding 10,000 records and the final flush take many seconds on a busy machine

// The first data must not wait for the 24 h backfill (that takes seconds even on an idle machine, where the
// live edge answers in about a second): the live edge is committed first. Checked by order (non-zero answers
// before the server logs the end of the backfill), not by a wall-clock limit: on a busy 2-core machine the
// start alone has taken 9 s. The deadlines below only catch hangs.
it('demo mode: both endpoints return non-zero data at once, before the 24 h backfill has finished', async () => {
  tmp = tempDir();
  const started = Date.now();
  proc = spawnNode([join(root, 'bin/livestats.js'), 'serve', '--demo', '--port', '0', '--data', tmp.dir, '--log-level', 'info']);
  const [, url] = await proc.waitFor(/listening on (http:\/\/[\d.:]+)/, 60_000);
  const listening = Date.now() - started;
  // The two printed commands, run exactly as a user would paste them.
  const curls = [...proc.output().matchAll(/^ {2}(curl -s .*)$/gm)].map((m) => m[1] ?? '');
  expect(curls).toHaveLength(2);
  expect(curls[0]).toContain(`${url}/v2/demo/stats/httpcodes?play_domains=`);
  expect(curls[1]).toContain(`${url}/v2/demo/stats/carousel-task/detail?carousel_task_id=demo-carousel`);
  const sh = async (cmd: string): Promise<unknown> => JSON.parse((await exec('sh', ['-c', cmd])).stdout);
  const backfilled = (): boolean => /demo backfill: \d+ requests/.test(proc?.output() ?? '');
  let codes = 0;
  let fps = 0;
  while (Date.now() - started < 60_000 && (codes === 0 || fps === 0)) {
    const hc = (await sh(curls[0] ?? '')) as { data_series?: Array<{ http_codes: Array<{ count: number }> }> };
    codes = (hc.data_series ?? []).flatMap((e) => e.http_codes).reduce((n, c) => n + c.count, 0);
    const ct = (await sh(curls[1] ?? '')) as { video_framerate_list?: number[] };
    fps = (ct.video_framerate_list ?? []).reduce((n, v) => n + v, 0);
    if (codes === 0 || fps === 0) await new Promise((r) => setTimeout(r, 200));
  }
  const before = !backfilled();
  console.log(`demo: listening after ${listening} ms, non-zero data after ${Date.now() - started} ms`);
  expect(codes).toBeGreaterThan(0);
  expect(fps).toBeGreaterThan(0);
  expect(before).toBe(true);
  proc.child.kill('SIGINT');
  expect(await proc.exited).toBe(0);
  expect(backfilled()).toBe(true); // a stopped backfill logs what it did too: the order check above is not vacuous
}, 150_000);
