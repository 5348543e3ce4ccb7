import { appendFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { accessLine, startCli, storedTotal, storedTraffic, tempDir, waitFor } from './ingest-helpers.js';

const dir = tempDir('kill9');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

it('kill -9 at random moments while a writer appends: restart after restart, exact totals in both cubes', async () => {
  const log = join(dir, 'access.log');
  const data = join(dir, 'data');
  writeFileSync(log, '');
  const args = ['ingest', '--follow', '--project', 'k9', '--format', 'combined_host', '--data', data,
    '--flush-interval-ms', '30', '--poll-ms', '15', log];
  let seed = 12345;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  let written = 0;
  let streamLines = 0;
  let writing = true;
  let kills = 0;
  const writer = (async () => {
    const t0 = Date.now();
    // 4 s and at least 5 kills: on a busy machine 4 s may hold fewer kill-restart cycles.
    while (Date.now() - t0 < 4000 || kills < 5) {
      const n = 1 + Math.floor(rand() * 200);
      let chunk = '';
      for (let i = 0; i < n; i++) chunk += accessLine(Date.now() - 30_000, { status: 200 + (i % 5), path: i % 4 === 0 ? `/w/${written + i}` : `/live/s${i % 3}.flv?n=${written + i}` }) + '\n';
      appendFileSync(log, chunk);
      streamLines += n - Math.ceil(n / 4);
      written += n;
      await new Promise((r) => setTimeout(r, 5 + rand() * 20));
    }
    writing = false;
  })();
  let child = startCli(args);
  while (writing) {
    await new Promise((r) => setTimeout(r, 80 + rand() * 300));
    child.kill('SIGKILL');
    await exited(child);
    kills++;
    child = startCli(args);
  }
  await writer;
  const done = await waitFor(() => storedTotal(data, 'k9') >= written, 20_000, 100);
  await new Promise((r) => setTimeout(r, 300)); // nothing more may arrive
  child.kill('SIGTERM');
  await exited(child);
  expect(done).toBe(true);
  expect(kills).toBeGreaterThanOrEqual(5);
  expect(storedTotal(data, 'k9')).toBe(written);
  // The traffic cube, written in the same transactions: exact too (every line sends 123 body bytes).
  expect(storedTraffic(data, 'k9')).toEqual({ requests: written, bytes: 123 * written, streamRequests: streamLines });
}, 120_000);
