import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { allowAll } from '../src/api/auth.js';
import { resolveServeConfig } from '../src/config.js';
import { startServer } from '../src/server.js';
import { accessLine, runCli, storedTotal, tempDir } from './ingest-helpers.js';

const dir = tempDir('concurrent');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('livestats ingest and livestats serve writing the same cells of one data dir at once: exact totals', async () => {
  const data = join(dir, 'data');
  const base = Date.now() - 30 * 60_000;
  const domains = ['a.example.com', 'b.example.com', 'c.example.com'];
  const ips = ['1.0.1.1', '36.1.2.3', '58.16.0.1', '101.4.0.1', '127.0.0.1'];
  // Both writers hit the same (domain, minute, region, isp, code) cells, so both rewrite the same blocks.
  const line = (i: number): string => accessLine(base + (i % 1200) * 1000, {
    host: domains[i % 3], status: [200, 404, 206][i % 3 === 0 ? 0 : i % 2 ? 1 : 2], ip: ips[i % ips.length],
  });
  const fileLines = 60_000;
  writeFileSync(join(dir, 'access.log'), Array.from({ length: fileLines }, (_, i) => line(i)).join('\n') + '\n');
  const config = resolveServeConfig({ port: '0', data, 'log-level': 'silent', 'flush-interval-ms': '20', 'query-cache-ms': '0' }, {});
  const server = await startServer(config, { authenticate: allowAll });
  let posted = 0;
  const poster = (async () => {
    for (let b = 0; b < 40; b++) {
      const body = Array.from({ length: 250 }, (_, i) => line(b * 250 + i)).join('\n') + '\n';
      const r = await fetch(`${server.url}/ingest/v1/cc/access-logs?format=combined_host`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
      expect(r.status).toBe(200);
      posted += ((await r.json()) as { accepted: number }).accepted;
    }
  })();
  const cli = runCli(['ingest', '--project', 'cc', '--format', 'combined_host', '--data', data, '--flush-interval-ms', '20', '--workers', '2', join(dir, 'access.log')]);
  const [done] = await Promise.all([cli, poster]);
  expect(done.stderr).toBe('');
  expect(done.code).toBe(0);
  expect(posted).toBe(40 * 250);
  // Both writers are done and each acknowledged only what it committed (200 = committed): the server's
  // reads see the other process's commits at once, no wait needed.
  const res = await fetch(`${server.url}/v2/cc/stats/httpcodes?play_domains=${domains.join(',')}&start_time=${new Date(Math.floor(base / 60_000) * 60_000).toISOString().slice(0, 19)}Z`);
  const body = (await res.json()) as { data_series: Array<{ http_codes: Array<{ count: number }> }> };
  await server.close();
  const viaApi = body.data_series.flatMap((s) => s.http_codes).reduce((n, c) => n + c.count, 0);
  expect(storedTotal(data, 'cc')).toBe(fileLines + posted);
  expect(viaApi).toBe(fileLines + posted);
}, 120_000);
