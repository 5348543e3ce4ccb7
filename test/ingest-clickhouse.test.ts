import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { accessLine, cliPath, runCli, tempDir, waitFor } from './ingest-helpers.js';
import { spawnNode } from './helpers/spawn.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('clickhouse-server');

/** `livestats ingest` writes into the configured store: here a real clickhouse-server. */
let server: ClickHouseServer;
const dir = tempDir('ingest-ch');
beforeAll(async () => {
  server = await startClickHouse();
});
afterAll(async () => {
  await server?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

it('ingests a file into ClickHouse (batch, 2 workers) with the same counts', async () => {
  const t = Date.now() - 5 * 60_000;
  const file = join(dir, 'a.log');
  const lines: string[] = [];
  for (let i = 0; i < 3000; i++) lines.push(accessLine(t, { status: i % 3 === 0 ? 404 : 200, host: 'ch.example.com', ip: `1.${i % 200}.3.4` }));
  writeFileSync(file, lines.join('\n') + '\n');
  const url = server.url('ingest_cli');
  const res = await runCli(['ingest', '--project', 'pch', '--format', 'combined_host', '--store', 'clickhouse', '--clickhouse-url', url,
    '--workers', '2', '--json', file]);
  expect(res.stderr).toBe('');
  expect(JSON.parse(res.stdout)).toEqual({ lines: 3000, accepted: 3000, dropped: {} });
  const store = new ClickHouseStore({ url });
  await store.init();
  try {
    const minute = Math.floor(t / 60_000) * 60_000;
    const counts = await store.queryHttpCodes({ project: 'pch', domains: ['ch.example.com'], regions: [], isps: [], fromMinute: minute, toMinute: minute + 60_000 });
    expect(counts).toEqual([{ minute, code: 200, count: 2000 }, { minute, code: 404, count: 1000 }]);
  } finally {
    await store.close();
  }
});

it('two ingest --follow of one file into ClickHouse (one --data): the second is refused naming the first; 1,000 lines counted 1,000', async () => {
  const t = Date.now() - 5 * 60_000;
  const file = join(dir, 'follow.log');
  writeFileSync(file, Array.from({ length: 1000 }, () => accessLine(t, { host: 'chf.example.com' })).join('\n') + '\n');
  const url = server.url('ingest_follow');
  const args = ['ingest', '--follow', '--project', 'pchf', '--format', 'combined_host', '--store', 'clickhouse', '--clickhouse-url', url,
    '--data', join(dir, 'follow-data'), '--flush-interval-ms', '50', '--poll-ms', '20', file];
  const minute = Math.floor(t / 60_000) * 60_000;
  const store = new ClickHouseStore({ url });
  const first = spawnNode([cliPath(), ...args]);
  let second: ReturnType<typeof spawnNode> | undefined;
  try {
    await first.waitFor(/following /, 30_000);
    await store.init();
    const total = async (): Promise<number> => (await store.queryHttpCodes({
      project: 'pchf', domains: ['chf.example.com'], regions: [], isps: [], fromMinute: minute, toMinute: minute + 60_000,
    })).reduce((n, c) => n + c.count, 0);
    expect(await waitFor(async () => (await total()) >= 1000, 30_000, 100)).toBe(true);
    second = spawnNode([cliPath(), ...args]);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([second.exited, new Promise<'running'>((resolve) => (timer = setTimeout(() => resolve('running'), 30_000)))]);
    clearTimeout(timer);
    expect(code).toBe(1);
    expect(second.output()).toContain(`followed file ${file} is in use by livestats ingest --follow (pid ${first.child.pid}, started 20`);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(await total()).toBe(1000);
  } finally {
    for (const p of [first, second]) if (p && p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await store.close();
  }
}, 90_000);

// The write path's extreme input (issue 24: the packed cells and TsvBytes rows): two `livestats ingest`
// processes at once into one ClickHouse database, each file holding a cell of 2^53 - 1 bytes twice over
// (its sum is past 2^53), 20,000 distinct stream names with quotes and backslashes, and ordinary lines on
// another domain. Neither the poison nor the names nor the other process fail a line of the ordinary domain.
it('two ingest processes at once, with 2^53 bytes and 20,000 odd stream names: the ordinary domain counted exactly in each project', async () => {
  const t = Date.now() - 6 * 60_000;
  const minute = Math.floor(t / 60_000) * 60_000;
  const url = server.url('ingest_extreme');
  const file = (project: string): string => {
    const lines: string[] = [];
    const poison = accessLine(t, { host: 'poison.example.com', path: '/live/p.flv' }).replace(' 123 "-"', ` ${Number.MAX_SAFE_INTEGER} "-"`);
    lines.push(poison, poison);
    for (let i = 0; i < 20_000; i++) lines.push(accessLine(t, { host: 'names.example.com', path: `/live/o'k\\${project}-${i}.flv` }));
    for (let i = 0; i < 3000; i++) lines.push(accessLine(t, { status: i % 3 === 0 ? 404 : 200, host: 'ok.example.com', ip: `1.${i % 200}.3.4` }));
    const f = join(dir, `extreme-${project}.log`);
    writeFileSync(f, lines.join('\n') + '\n');
    return f;
  };
  const files = { px: file('px'), py: file('py') };
  const runs = await Promise.all((['px', 'py'] as const).map((p) => runCli(['ingest', '--project', p, '--format', 'combined_host',
    '--store', 'clickhouse', '--clickhouse-url', url, '--data', join(dir, `data-${p}`), '--workers', '2', '--json', files[p]])));
  for (const r of runs) {
    expect(r.stderr).not.toMatch(/uncaught|StoreUnavailableError|at .*\.js:\d+/);
    expect(JSON.parse(r.stdout)).toMatchObject({ lines: 23_002 });
  }
  const store = new ClickHouseStore({ url });
  await store.init();
  try {
    for (const project of ['px', 'py']) {
      const counts = await store.queryHttpCodes({ project, domains: ['ok.example.com'], regions: [], isps: [], fromMinute: minute, toMinute: minute + 60_000 });
      expect(counts).toEqual([{ minute, code: 200, count: 2000 }, { minute, code: 404, count: 1000 }]);
      const names = await store.queryHttpCodes({ project, domains: ['names.example.com'], regions: [], isps: [], fromMinute: minute, toMinute: minute + 60_000 });
      expect(names).toEqual([{ minute, code: 200, count: 20_000 }]);
    }
  } finally {
    await store.close();
  }
}, 120_000);
