import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { accessLine, runCli, tempDir } from './ingest-helpers.js';
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
