import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../src/paths.js';
import { ConfigError, resolveServeConfig } from '../src/config.js';
import { kernelThreadId, lowerThreadPriority, READ_THREAD_NICE } from '../src/store/thread-priority.js';
import { spawnNode, type Spawned } from './helpers/spawn.js';
import { accessLine, cliPath, runCli, tempDir } from './ingest-helpers.js';

/** The thread-priority module compiled (npm test builds first): worker threads load it from dist/. */
const compiled = join(projectRoot(), 'dist', 'src', 'store', 'thread-priority.js');
const linux = process.platform === 'linux' && existsSync('/proc/thread-self');

/** A thread's nice value as the kernel reports it (field 19 of /proc/<pid>/task/<tid>/stat). */
function niceOf(pid: number, tid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

/** Runs `calls` (nice values, in order) through lowerThreadPriority in a fresh worker; the worker stays up until `finish()`. */
async function inWorker(calls: number[]): Promise<{ tid: number; results: Array<number | null>; finish: () => Promise<void> }> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.module).then((m) => {
      const results = workerData.calls.map((n) => m.lowerThreadPriority(n) ?? null);
      parentPort.postMessage({ tid: m.kernelThreadId(), results });
      parentPort.once('message', () => process.exit(0));
    });`;
  const w = new Worker(code, { eval: true, workerData: { module: `file://${compiled}`, calls } });
  const reply = await new Promise<{ tid: number; results: Array<number | null> }>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  return {
    ...reply,
    finish: async () => {
      w.postMessage('bye');
      await new Promise((r) => w.once('exit', r));
    },
  };
}

beforeAll(() => {
  if (!existsSync(compiled)) throw new Error('run `npm run build` before this test');
});

describe.runIf(linux)('thread priority (Linux)', () => {
  it('lowers only the calling thread, never raises a priority again', async () => {
    const before = niceOf(process.pid, process.pid);
    if (before > 16) return; // a runner niced this far leaves nothing to lower
    const a = await inWorker([before + 3, before + 1]);
    try {
      expect(a.tid).not.toBe(process.pid);
      expect(niceOf(process.pid, a.tid)).toBe(before + 3);
      // before + 1 would be a higher priority than the one it has: kept.
      expect(a.results).toEqual([before + 3, before + 3]);
      // The process's main thread (this one) is untouched.
      expect(niceOf(process.pid, process.pid)).toBe(before);
    } finally {
      await a.finish();
    }
    // A new thread starts from its creator's priority, not from the last worker's.
    const b = await inWorker([]);
    try {
      expect(niceOf(process.pid, b.tid)).toBe(before);
    } finally {
      await b.finish();
    }
  });

  it('finds the thread id of the calling thread', () => {
    expect(kernelThreadId()).toBe(process.pid);
  });

  describe('livestats serve', () => {
    const dir = tempDir('thread-priority');
    let serve: Spawned | undefined;
    afterAll(async () => {
      if (serve && serve.child.exitCode === null) {
        serve.child.kill('SIGTERM');
        await serve.exited;
      }
    });

    it('runs its read workers below the main and write threads', async () => {
      const keys = await runCli(['keys', 'create', '--project', 'p1', '--json', '--data', dir]);
      const token = (JSON.parse(keys.stdout) as { token: string }).token;
      serve = spawnNode([cliPath(), 'serve', '--port', '0', '--data', dir, '--query-threads', '2', '--query-cache-ms', '0', '--log-level', 'warn']);
      const [, url] = await serve.waitFor(/listening on (http:\/\/[\d.:]+)/, 60_000);
      const headers = { 'x-auth-token': token };
      const pid = serve.child.pid as number;
      const tasks = (): string[] => readdirSync(`/proc/${pid}/task`);
      // Before any query: the main thread, the write thread (started with the store), Node's own threads.
      const now = Date.now();
      const post = await fetch(`${url}/ingest/v1/p1/access-logs?format=combined_host`, {
        method: 'POST', headers: { ...headers, 'content-type': 'text/plain' }, body: accessLine(now - 60_000, { host: 'a.example.com' }) + '\n',
      });
      expect(post.status).toBe(200);
      const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
      // Two queries at once: both read workers exist.
      const q = `${url}/v2/p1/stats/httpcodes?play_domains=a.example.com&start_time=${iso(now - 3_600_000)}&end_time=${iso(now)}`;
      const answers = await Promise.all([fetch(q, { headers }), fetch(q, { headers })]);
      expect(answers.map((a) => a.status)).toEqual([200, 200]);
      const nice = new Map(tasks().map((t) => [t, niceOf(pid, Number(t))]));
      // The server inherits this runner's priority; its read workers go below it.
      const base = niceOf(process.pid, process.pid);
      const low = Math.max(base, READ_THREAD_NICE);
      if (low === base) return; // a runner niced to the read workers' value leaves nothing to compare
      expect(nice.get(String(pid))).toBe(base);
      // The two read workers below it (started by the queries, or earlier by the origin prober's reads); every
      // other thread, the write thread among them, at its priority.
      expect([...nice.values()].filter((n) => n === low)).toHaveLength(2);
      expect([...nice.values()].filter((n) => n !== low && n !== base)).toEqual([]);
    }, 120_000);
  });
});

describe('where it cannot be done', () => {
  it('keeps the priority and says so when /proc/thread-self is missing', () => {
    const fake = tempDir('no-proc');
    expect(kernelThreadId(fake)).toBeUndefined();
    expect(lowerThreadPriority(5, fake)).toBeUndefined();
  });

  it('refuses a thread id it cannot read', () => {
    const fake = tempDir('odd-proc');
    mkdirSync(join(fake, 'x'));
    symlinkSync(join(fake, 'x'), join(fake, 'thread-self'));
    expect(kernelThreadId(fake)).toBeUndefined();
  });

  it('takes the nice value from --query-thread-nice / LIVESTATS_QUERY_THREAD_NICE (0..19), else the default', () => {
    expect(resolveServeConfig({}, {}).queryThreadNice).toBe(READ_THREAD_NICE);
    expect(resolveServeConfig({}, { LIVESTATS_QUERY_THREAD_NICE: '0' }).queryThreadNice).toBe(0);
    expect(resolveServeConfig({ 'query-thread-nice': '4' }, { LIVESTATS_QUERY_THREAD_NICE: '0' }).queryThreadNice).toBe(4);
    expect(() => resolveServeConfig({}, { LIVESTATS_QUERY_THREAD_NICE: '40' })).toThrow(ConfigError);
    expect(() => resolveServeConfig({ 'query-thread-nice': '-5' }, {})).toThrow(ConfigError);
  });
});
