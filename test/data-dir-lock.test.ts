import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { spawnNode, type Spawned } from './helpers/spawn.js';
import { accessLine, cliPath, runCli, storedTotal, tempDir, waitFor } from './ingest-helpers.js';

// Real processes racing for one data directory (issue 20, item 6): the second writer is refused
// with a message naming the first, and a writer killed with SIGKILL never blocks a restart.

const dir = tempDir('dirlock');
const running = new Set<Spawned>();
afterEach(async () => {
  for (const p of running) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await p.exited;
  }
  running.clear();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): Spawned {
  const p = spawnNode([cliPath(), ...args]);
  running.add(p);
  return p;
}

/** The exit code, or 'running' if the process has not exited within the (generous) deadline. */
async function exitOf(p: Spawned, timeoutMs = 30_000): Promise<number | null | 'running'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'running'>((resolve) => {
    timer = setTimeout(() => resolve('running'), timeoutMs);
  });
  try {
    return await Promise.race([p.exited, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const serveArgs = (data: string): string[] => ['serve', '--data', data, '--port', '0', '--log-level', 'warn'];
const LISTENING = /listening on (http:\/\/\S+)/;

describe('one livestats serve per data directory', () => {
  it('a second serve on the same --data is refused, naming the first (pid, command, start); reads still work beside it', async () => {
    const data = join(dir, 'serve');
    const first = cli(serveArgs(data));
    await first.waitFor(LISTENING, 30_000);
    const second = cli(serveArgs(data));
    expect(await exitOf(second)).toBe(1);
    const said = second.output();
    expect(said).toContain(`data directory ${data} is in use by livestats serve (pid ${first.child.pid}, started 20`);
    expect(said).toContain('stop that process first');
    expect(said).not.toMatch(LISTENING);
    // Read-only and batch commands keep working beside the running server.
    const tasks = await runCli(['tasks', 'list', '--project', 'p1', '--data', data]);
    expect(tasks.code).toBe(0);
    const log = join(dir, 'batch.log');
    writeFileSync(log, Array.from({ length: 10 }, () => accessLine(Date.now() - 60_000)).join('\n') + '\n');
    const batch = await runCli(['ingest', '--project', 'p1', '--format', 'combined_host', '--data', data, log]);
    expect(batch.code).toBe(0);
    // The first one still runs and answers.
    const url = (await first.waitFor(LISTENING))[1] as string;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  }, 90_000);

  it('kill -9 of the server never blocks a restart: the next serve starts at once', async () => {
    const data = join(dir, 'serve-kill9');
    const first = cli(serveArgs(data));
    await first.waitFor(LISTENING, 30_000);
    first.child.kill('SIGKILL');
    await first.exited;
    const again = cli(serveArgs(data));
    await again.waitFor(LISTENING, 30_000);
    expect(again.output()).not.toContain('in use by');
  }, 90_000);
});

describe('processes starting at once on a new data directory', () => {
  it('six at once all open the new store: none sees an empty file or a half-migrated one', async () => {
    // Batch ingests, which create the store (`tasks list` only reads: it never creates one, issue 22).
    // Six files: one file is counted once (its checkpoint), whichever process gets it first.
    const logs = Array.from({ length: 6 }, (_, i) => join(dir, `fresh-${i}.log`));
    for (const log of logs) writeFileSync(log, Array.from({ length: 3 }, () => accessLine(Date.now() - 60_000)).join('\n') + '\n');
    for (let round = 0; round < 3; round++) {
      const data = join(dir, `fresh-${round}`);
      const runs = await Promise.all(logs.map((log) => runCli(['ingest', '--project', 'p1', '--format', 'combined_host', '--data', data, log])));
      for (const r of runs) expect([r.code, r.stderr]).toEqual([0, expect.not.stringMatching(/SQLITE|database|migrat|Error/)]);
      expect(storedTotal(data, 'p1')).toBe(18);
      expect((await runCli(['tasks', 'list', '--project', 'p1', '--data', data])).code).toBe(0);
    }
  }, 240_000);
});

describe('one follower per followed file', () => {
  it('two ingest --follow of one file: the second is refused naming the first; 1,000 lines counted 1,000', async () => {
    const data = join(dir, 'follow');
    const log = join(dir, 'follow.log');
    const base = Date.now() - 5 * 60_000;
    writeFileSync(log, Array.from({ length: 1000 }, (_, i) => accessLine(base + i * 100)).join('\n') + '\n');
    const args = ['ingest', '--follow', '--project', 'f1', '--format', 'combined_host', '--data', data,
      '--flush-interval-ms', '50', '--poll-ms', '20', log];
    const first = cli(args);
    await first.waitFor(/following /, 30_000);
    expect(await waitFor(() => storedTotal(data, 'f1') >= 1000, 30_000, 50)).toBe(true);
    const second = cli(args);
    expect(await exitOf(second)).toBe(1);
    expect(second.output()).toContain(`followed file ${log} is in use by livestats ingest --follow (pid ${first.child.pid}, started 20`);
    expect(second.output()).toContain('nothing was counted');
    // Another file can be followed beside it, on the same --data.
    const other = join(dir, 'follow-other.log');
    writeFileSync(other, Array.from({ length: 10 }, (_, i) => accessLine(base + i * 100)).join('\n') + '\n');
    const beside = cli(['ingest', '--follow', '--project', 'f2', '--format', 'combined_host', '--data', data, '--poll-ms', '20', other]);
    await beside.waitFor(/following /, 30_000);
    expect(await waitFor(() => storedTotal(data, 'f2') >= 10, 30_000, 50)).toBe(true);
    beside.child.kill('SIGTERM');
    first.child.kill('SIGTERM');
    expect(await exitOf(beside)).toBe(0);
    expect(await exitOf(first)).toBe(0);
    expect(storedTotal(data, 'f1')).toBe(1000);
    expect(storedTotal(data, 'f2')).toBe(10);
  }, 90_000);

  it('kill -9 of a follower never blocks its restart; the restarted one goes on from the checkpoint', async () => {
    const data = join(dir, 'follow-kill9');
    const log = join(dir, 'follow-kill9.log');
    const base = Date.now() - 5 * 60_000;
    writeFileSync(log, Array.from({ length: 500 }, (_, i) => accessLine(base + i * 100)).join('\n') + '\n');
    const args = ['ingest', '--follow', '--project', 'k1', '--format', 'combined_host', '--data', data,
      '--flush-interval-ms', '50', '--poll-ms', '20', log];
    const first = cli(args);
    expect(await waitFor(() => storedTotal(data, 'k1') >= 500, 30_000, 50)).toBe(true);
    first.child.kill('SIGKILL');
    await first.exited;
    const again = cli(args);
    await again.waitFor(/following /, 30_000);
    expect(again.output()).not.toContain('in use by');
    writeFileSync(log, Array.from({ length: 500 }, (_, i) => accessLine(base + i * 100)).join('\n') + '\n', { flag: 'a' });
    expect(await waitFor(() => storedTotal(data, 'k1') >= 1000, 30_000, 50)).toBe(true);
    again.child.kill('SIGTERM');
    expect(await exitOf(again)).toBe(0);
    expect(storedTotal(data, 'k1')).toBe(1000);
  }, 90_000);
});
