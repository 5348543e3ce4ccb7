import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ConfigError, resolveServeConfig } from '../src/config.js';
import { startServer } from '../src/server.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import type { Isp, Region } from '../src/contract/values.js';
import { captureLogger } from './helpers/log-capture.js';
import { spawnNode } from './helpers/spawn.js';
import { accessLine, cliPath, runCli, tempDir } from './ingest-helpers.js';

// Issue 20, items 10 and 13: the data directory is private (real stat() modes), and a damaged
// store file (real damaged files) stops the start with an error naming it.

const dir = tempDir('datafiles');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mode = (path: string): string => `0${(statSync(path).mode & 0o777).toString(8)}`;
const serveConfig = (data: string): ReturnType<typeof resolveServeConfig> =>
  resolveServeConfig({ port: '0', data, 'log-level': 'silent', 'flush-interval-ms': '20' }, {});

/** A store with data in several pages, checkpointed into the main file and closed. */
async function storeWithData(data: string): Promise<string> {
  const store = new SqliteStore(join(data, 'livestats.db'));
  await store.init();
  const t0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 24 * 3_600_000;
  for (let h = 0; h < 24; h++) {
    const counts = [];
    for (let d = 0; d < 20; d++) {
      for (let m = 0; m < 60; m += 5) {
        counts.push({ project: 'p1', domain: `d${d}.example.com`, minute: t0 + h * 3_600_000 + m * 60_000, region: 'GD' as Region, isp: 'CTCC' as Isp, code: 200, count: 1 + m });
      }
    }
    await store.write({ id: `b${h}`, counts, samples: [], tasks: [], checkpoints: [] });
  }
  await store.close(); // the last connection checkpoints the WAL into the file and removes it
  return join(data, 'livestats.db');
}

describe('data files are private', () => {
  it('a new data dir is 0700; livestats.db, -wal, -shm, credentials.json and the locks are 0600', async () => {
    const data = join(dir, 'fresh', 'nested', 'data');
    const server = await startServer(serveConfig(data), { logger: pino({ level: 'silent' }) });
    try {
      expect(server.auth.issued).toBeDefined(); // credentials.json written on this first start
      const res = await fetch(`${server.url}/ingest/v1/default/access-logs?format=combined_host`, {
        method: 'POST', body: accessLine(Date.now() - 60_000) + '\n',
        headers: { 'content-type': 'text/plain', 'x-auth-token': server.auth.issued?.token ?? '' },
      });
      expect(res.status).toBe(200);
      expect(mode(data)).toBe('0700');
      expect(mode(join(dir, 'fresh'))).toBe('0700');
      for (const f of ['livestats.db', 'livestats.db-wal', 'livestats.db-shm', 'credentials.json']) expect([f, mode(join(data, f))]).toEqual([f, '0600']);
      expect(mode(join(data, 'locks'))).toBe('0700');
      for (const f of readdirSync(join(data, 'locks'))) expect([f, mode(join(data, 'locks', f))]).toEqual([f, '0600']);
    } finally {
      await server.close();
    }
  });

  it('an older data dir (0755, files 0644) is tightened to 0700 and 0600, with a warning saying so', async () => {
    const data = join(dir, 'older');
    const db = await storeWithData(data);
    writeFileSync(join(data, 'credentials.json'), '{"version":1,"keys":[],"tokens":[]}\n', { mode: 0o644 });
    chmodSync(data, 0o755);
    chmodSync(db, 0o644);
    chmodSync(join(data, 'credentials.json'), 0o644);
    const log = captureLogger('warn');
    const server = await startServer(serveConfig(data), { logger: log.logger });
    try {
      expect(mode(data)).toBe('0700');
      for (const f of ['livestats.db', 'livestats.db-wal', 'livestats.db-shm', 'credentials.json']) expect([f, mode(join(data, f))]).toEqual([f, '0600']);
      expect(log.lines().map((l) => l.msg)).toContain(`data directory ${data} was open to other users (mode 0755); tightened to 0700`);
    } finally {
      await server.close();
    }
  });

  it('a shared directory (holding other files) is left as it is, with a warning; the store files are still 0600', async () => {
    const data = join(dir, 'shared');
    mkdirSync(data, { mode: 0o755 });
    chmodSync(data, 0o755);
    writeFileSync(join(data, 'notes.txt'), 'not ours\n');
    const log = captureLogger('warn');
    const server = await startServer(serveConfig(data), { logger: log.logger });
    try {
      expect(mode(data)).toBe('0755');
      expect(mode(join(data, 'livestats.db'))).toBe('0600');
      expect(mode(join(data, 'credentials.json'))).toBe('0600');
      expect(log.lines().map((l) => String(l.msg)).join('\n')).toContain(`data directory ${data} is open to other users (mode 0755)`);
    } finally {
      await server.close();
    }
  });
});

describe('a damaged store is found at start, naming the file', () => {
  it('a 0-byte livestats.db: serve exits 1 naming it, and the file is not turned into an empty store', async () => {
    const data = join(dir, 'empty');
    mkdirSync(data, { recursive: true });
    const db = join(data, 'livestats.db');
    writeFileSync(db, '');
    const serve = spawnNode([cliPath(), 'serve', '--data', data, '--port', '0', '--log-level', 'warn']);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([serve.exited, new Promise<'running'>((resolve) => (timer = setTimeout(() => resolve('running'), 30_000)))]);
    clearTimeout(timer);
    if (code === 'running') serve.child.kill('SIGKILL'); // the old code started on it as an empty store
    expect(code).toBe(1);
    expect(serve.output()).toContain(`livestats serve: cannot start: ${db} is empty (0 bytes)`);
    expect(serve.output()).toContain('restore the file from a backup');
    expect(serve.output()).not.toContain('listening');
    expect(statSync(db).size).toBe(0);
    // ingest refuses it the same way, counting nothing.
    const log = join(dir, 'empty.log');
    writeFileSync(log, accessLine(Date.now() - 60_000) + '\n');
    const ing = await runCli(['ingest', '--project', 'p1', '--format', 'combined_host', '--data', data, log]);
    expect(ing.code).toBe(1);
    expect(ing.stderr).toContain(`${db} is empty (0 bytes)`);
    expect(statSync(db).size).toBe(0);
  }, 60_000);

  it('3 overwritten pages: the start fails with quick_check naming the file (not /healthz ok, then 503 on every write)', async () => {
    const data = join(dir, 'pages');
    const db = await storeWithData(data);
    const pageSize = 16_384;
    const pages = statSync(db).size / pageSize;
    expect(pages).toBeGreaterThanOrEqual(8);
    let seed = 7;
    const junk = Buffer.alloc(pageSize);
    const fd = openSync(db, 'r+');
    try {
      // Data pages, away from the schema pages at the start (the schema is read before quick_check runs).
      for (const page of [Math.floor(pages / 2), Math.floor((pages * 3) / 4), pages - 1]) {
        for (let i = 0; i < pageSize; i++) junk[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
        writeSync(fd, junk, 0, pageSize, (page - 1) * pageSize);
      }
    } finally {
      closeSync(fd);
    }
    const started = startServer(serveConfig(data), { logger: pino({ level: 'silent' }) });
    started.then((s) => s.close(), () => undefined); // (the old code started)
    // quick_check finds it, or an earlier read at start (the schema, a table the start reads) meets the
    // damaged page first: either way the start fails naming the file.
    await expect(started).rejects.toThrow(new RegExp(`^${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is damaged \\((SQLite quick_check: |database disk image is malformed)`));
    // The failed start left nothing holding the data dir: a repaired file would start at once.
    expect(existsSync(join(data, 'locks', 'serve.lock.json'))).toBe(false);
  });

  it('--start-check header skips quick_check (a very large store starts quickly) but still refuses a 0-byte file', async () => {
    expect(resolveServeConfig({}, {}).startCheck).toBe('quick');
    expect(resolveServeConfig({}, { LIVESTATS_START_CHECK: 'header' }).startCheck).toBe('header');
    expect(() => resolveServeConfig({ 'start-check': 'full' }, {})).toThrow(ConfigError);
    const data = join(dir, 'header-only');
    const db = await storeWithData(data);
    const fd = openSync(db, 'r+');
    try {
      // Damage inside the file (the last page), which only quick_check reads.
      writeSync(fd, Buffer.alloc(16_384, 0xa5), 0, 16_384, statSync(db).size - 16_384);
    } finally {
      closeSync(fd);
    }
    const header = new SqliteStore(db, { startCheck: 'header' });
    await header.init();
    await header.close();
    await expect(new SqliteStore(db).init()).rejects.toThrow(`${db} is damaged (`);
    const empty = join(dir, 'header-only-empty');
    mkdirSync(empty);
    writeFileSync(join(empty, 'livestats.db'), '');
    expect(() => new SqliteStore(join(empty, 'livestats.db'), { startCheck: 'header' })).toThrow('is empty (0 bytes)');
  });

  it('a file that is not SQLite at all is named as such', async () => {
    const data = join(dir, 'text');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'livestats.db'), 'these are not the bytes you are looking for\n'.repeat(1000));
    await expect(startServer(serveConfig(data), { logger: pino({ level: 'silent' }) }))
      .rejects.toThrow(`${join(data, 'livestats.db')} is not an SQLite database`);
  });
});
