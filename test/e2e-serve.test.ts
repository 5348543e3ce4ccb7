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
  const fed = await proc.waitFor(/fed (\{.*\})/);
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
});

it('demo mode: both endpoints return non-zero data within 5 seconds of start', async () => {
  tmp = tempDir();
  const started = Date.now();
  proc = spawnNode([join(root, 'bin/livestats.js'), 'serve', '--demo', '--port', '0', '--data', tmp.dir, '--log-level', 'warn']);
  const [, url] = await proc.waitFor(/listening on (http:\/\/[\d.:]+)/, 5000);
  // The two printed commands, run exactly as a user would paste them.
  const curls = [...proc.output().matchAll(/^ {2}(curl -s .*)$/gm)].map((m) => m[1] ?? '');
  expect(curls).toHaveLength(2);
  expect(curls[0]).toContain(`${url}/v2/demo/stats/httpcodes?play_domains=`);
  expect(curls[1]).toContain(`${url}/v2/demo/stats/carousel-task/detail?carousel_task_id=demo-carousel`);
  const sh = async (cmd: string): Promise<unknown> => JSON.parse((await exec('sh', ['-c', cmd])).stdout);
  let codes = 0;
  let fps = 0;
  while (Date.now() - started < 5000 && (codes === 0 || fps === 0)) {
    const hc = (await sh(curls[0] ?? '')) as { data_series?: Array<{ http_codes: Array<{ count: number }> }> };
    codes = (hc.data_series ?? []).flatMap((e) => e.http_codes).reduce((n, c) => n + c.count, 0);
    const ct = (await sh(curls[1] ?? '')) as { video_framerate_list?: number[] };
    fps = (ct.video_framerate_list ?? []).reduce((n, v) => n + v, 0);
    if (codes === 0 || fps === 0) await new Promise((r) => setTimeout(r, 200));
  }
  expect(Date.now() - started).toBeLessThan(5000);
  expect(codes).toBeGreaterThan(0);
  expect(fps).toBeGreaterThan(0);
  proc.child.kill('SIGINT');
  expect(await proc.exited).toBe(0);
});
