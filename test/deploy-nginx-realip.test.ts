import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { allowAll } from '../src/api/auth.js';
import { resolveServeConfig } from '../src/config.js';
import { projectRoot } from '../src/paths.js';
import { startServer, type RunningServer } from '../src/server.js';
import { startNginx as startNginxIn } from './helpers/nginx.js';
import { requireTools, toolPath } from './helpers/system-tools.js';
import { freePort, runCli, tempDir, waitFor } from './ingest-helpers.js';

requireTools('nginx', 'curl');

/**
 * Issue 22, item 4: the nginx block of docs/deploy.md ("nginx behind a proxy or load balancer"), as
 * written, in a real nginx (the edge) behind a second real nginx (the load balancer). The client's
 * address, not the proxy's, must reach the counts: its region is the one counted.
 */
const dir = tempDir('realip');
const nginxes: ChildProcess[] = [];
let server: RunningServer | undefined;

afterAll(async () => {
  for (const n of nginxes) n.kill('SIGQUIT');
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The ```nginx block of docs/deploy.md, exactly as the operator copies it. */
function deploySnippet(): string {
  const doc = readFileSync(join(projectRoot(), 'docs', 'deploy.md'), 'utf8');
  const m = /## 4\. nginx behind a proxy or load balancer[\s\S]*?```nginx\n([\s\S]*?)```/.exec(doc);
  if (!m?.[1]) throw new Error('docs/deploy.md has no nginx block under "4. nginx behind a proxy or load balancer"');
  return m[1];
}

function startNginx(name: string, http: string): ChildProcess {
  const p = startNginxIn(join(dir, name), http);
  nginxes.push(p);
  return p;
}

const curlOk = (url: string, headers: string[] = []): boolean =>
  spawnSync(toolPath('curl'), ['-s', '-f', '-o', '/dev/null', ...headers.flatMap((h) => ['-H', h]), url]).status === 0;

it('the docs/deploy.md realip block, as written, counts the client behind a load balancer, not the proxy', async () => {
  const log = join(dir, 'livestats.log');
  const edgePort = await freePort();
  const lbPort = await freePort();
  startNginx('edge', `${deploySnippet().replace('/var/log/nginx/livestats.log', log)}
  server { listen 127.0.0.1:${edgePort}; server_name _; location / { return 200 "ok\\n"; } }`);
  startNginx('lb', `  access_log off;
  server {
    listen 127.0.0.1:${lbPort}; server_name _;
    location / { proxy_pass http://127.0.0.1:${edgePort}; proxy_set_header Host $host; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; }
  }`);
  expect(await waitFor(() => curlOk(`http://127.0.0.1:${edgePort}/up`, ['Host: warmup.example.com']), 30_000, 100)).toBe(true);
  expect(await waitFor(() => curlOk(`http://127.0.0.1:${lbPort}/up`, ['Host: warmup.example.com']), 30_000, 100)).toBe(true);
  // Clients: 203.0.113.7 (public, what a CDN in front of the balancer reports) x3, and one with no header.
  for (let i = 0; i < 3; i++) expect(curlOk(`http://127.0.0.1:${lbPort}/live/a.flv`, ['Host: play.example.com', 'X-Forwarded-For: 203.0.113.7'])).toBe(true);
  const lines = (): string[] => readFileSync(log, 'utf8').split('\n').filter(Boolean);
  expect(await waitFor(() => lines().filter((l) => l.includes('play.example.com')).length >= 3, 30_000, 50)).toBe(true);
  expect(lines().filter((l) => l.includes('play.example.com')).every((l) => l.startsWith('203.0.113.7 '))).toBe(true);

  const data = join(dir, 'data');
  const geo = join(dir, 'geo.csv');
  writeFileSync(geo, '203.0.113.7/32,GD,CMCC\n127.0.0.1/32,SH,CTCC\n');
  const res = await runCli(['ingest', '--project', 'p1', '--format', 'combined_host', '--data', data, '--geo-overrides', geo, '--json', log]);
  expect(res.code).toBe(0);
  server = await startServer(resolveServeConfig({ port: '0', data, 'log-level': 'silent' }, {}), { authenticate: allowAll });
  const codes = async (extra: string): Promise<number> => {
    const r = await fetch(`${server?.url}/v2/p1/stats/httpcodes?play_domains=play.example.com${extra}`);
    const body = (await r.json()) as { data_series: Array<{ http_codes: Array<{ count: number }> }> };
    return body.data_series.flatMap((s) => s.http_codes).reduce((n, c) => n + c.count, 0);
  };
  expect(await codes('&region=GD&isp=CMCC')).toBe(3);
  expect(await codes('&region=SH')).toBe(0);
}, 120_000);
