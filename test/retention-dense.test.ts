import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { DENSE, generateDense } from '../bench/query/dense.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { totalRequests } from '../src/store/sqlite/reads.js';
import { SAMPLES } from '../src/store/sqlite/layout.js';
import { cliPath } from './ingest-helpers.js';
import { spawnNode, type Spawned } from './helpers/spawn.js';
import { freePort } from './harness/ports.js';
import { tempDir } from './helpers/tmp.js';

let proc: Spawned | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  if (proc && proc.child.exitCode === null) {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
  tmp?.remove();
});

it('a retention pass over a full dense day runs in slices: /healthz keeps answering, the day is gone, newer data stays', async () => {
  tmp = tempDir();
  const file = join(tmp.dir, 'livestats.db');
  const store = new SqliteStore(file);
  await store.init();
  const DAY = 86_400_000;
  const today = Math.floor(Date.now() / DAY) * DAY;
  // One dense day (10 head domains, every province x carrier, 3 carousel tasks) 10 days old, and one recent day.
  const noTraffic = { ...DENSE.traffic, days: 0, streamDays: 0 };
  const old = generateDense(store, { ...DENSE, project: 'old', days: 1, domains: 10, tasks: 3, traffic: noTraffic }, today - 9 * DAY);
  generateDense(store, { ...DENSE, project: 'new', days: 1, domains: 2, tasks: 1, traffic: noTraffic }, today);
  await store.close();
  expect(old.headCellsPerMinute).toBeGreaterThanOrEqual(300);
  expect(old.cells).toBeGreaterThan(4_000_000);

  // The pass starts as soon as the server listens, before it prints its banner (and a busy machine
  // may show the banner late): poll /healthz from the spawn on, on a port chosen here, so the answers
  // counted cover the whole pass, not just whatever was left of it when the banner was read.
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  proc = spawnNode([cliPath(), 'serve', '--port', String(port), '--data', tmp.dir, '--retention-days', '8', '--log-level', 'info']);
  let answered = 0;
  let failed = 0;
  while (!/retention: deleted older data/.test(proc.output())) {
    expect(proc.child.exitCode).toBeNull();
    const r = await fetch(`${url}/healthz`).catch(() => undefined);
    if (r?.status === 200) answered++;
    else if (answered > 0) failed++; // not listening yet is not a failure; refused once up is
    else await new Promise((resolve) => setTimeout(resolve, 20));
    await r?.text();
  }
  // Retention ran between health answers (slices yield), not as one long block before them.
  expect(failed).toBe(0);
  expect(answered).toBeGreaterThanOrEqual(5);
  proc.child.kill('SIGTERM');
  expect(await proc.exited).toBe(0);
  const db = new Database(file, { readonly: true });
  expect(totalRequests(db, 'old')).toBe(0);
  expect(totalRequests(db, 'new')).toBeGreaterThan(0);
  const oldTasks = new Set(db.prepare('SELECT id FROM carousel_tasks WHERE project = ?').pluck().all('old'));
  expect(oldTasks.size).toBeGreaterThan(0);
  expect([...SAMPLES.all(db)].filter((b) => oldTasks.has(b.series))).toEqual([]);
  db.close();
}, 120_000);
