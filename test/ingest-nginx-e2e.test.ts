import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { resolveServeConfig } from '../src/config.js';
import { allowAll } from '../src/api/auth.js';
import { startServer, type RunningServer } from '../src/server.js';
import { freePort, runCli, tempDir, waitFor } from './ingest-helpers.js';
import { startNginx } from './helpers/nginx.js';
import { requireTools, toolPath } from './helpers/system-tools.js';

requireTools('nginx', 'curl');

/**
 * Real nginx (Debian package) logs the same requests to a file and to syslog (UDP). The file is
 * read with `livestats ingest`, syslog by `livestats serve --syslog`; the stats API must report
 * exactly the requests sent with curl.
 */
const dir = tempDir('nginx');
const data = join(dir, 'data');
const geo = join(dir, 'geo.csv');
const LOG_FORMAT =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $host';
let nginx: ChildProcess | undefined;
let server: RunningServer;
let port = 0;

beforeAll(async () => {
  writeFileSync(geo, '127.0.0.1/32,GD,CMCC\n');
  const syslogPort = await freePort();
  server = await startServer(resolveServeConfig({
    port: '0', data, 'log-level': 'silent', 'flush-interval-ms': '50', syslog: [`udp://127.0.0.1:${syslogPort}`],
    'syslog-project': 'viasyslog', 'syslog-format': `'${LOG_FORMAT}'`, 'geo-overrides': geo,
  }, {}), { authenticate: allowAll });
  port = await freePort();
  nginx = startNginx(dir, `  log_format livestats '${LOG_FORMAT}';
  server {
    listen 127.0.0.1:${port};
    server_name _;
    access_log ${dir}/access.log livestats;
    access_log syslog:server=127.0.0.1:${syslogPort},tag=nginx livestats;
    location /ok { return 200 "ok\\n"; }
    location /missing { return 404; }
    location /fail { return 503; }
    location /moved { return 302 /ok; }
  }`);
  const up = await waitFor(() => spawnSync(toolPath('curl'), ['-s', '-o', '/dev/null', `http://127.0.0.1:${port}/ok`]).status === 0, 60_000, 100);
  if (!up) throw new Error(`nginx did not start: ${readFileSync(join(dir, 'error.log'), 'utf8')}`);
});

afterAll(async () => {
  nginx?.kill('SIGQUIT');
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function codes(project: string, domains: string, extra = ''): Promise<Record<number, number>> {
  const res = await fetch(`${server.url}/v2/${project}/stats/httpcodes?play_domains=${domains}${extra}`);
  const body = (await res.json()) as { data_series: Array<{ http_codes: Array<{ code: number; count: number }> }> };
  const out: Record<number, number> = {};
  for (const s of body.data_series) for (const c of s.http_codes) if (c.count > 0) out[c.code] = (out[c.code] ?? 0) + c.count;
  return out;
}

it('file and syslog access logs of real nginx give exactly the requests sent', async () => {
  // The warm-up request of beforeAll (Host 127.0.0.1) is counted under domain 127.0.0.1.
  const sent: Array<[string, string, number]> = [
    ['a.example.com', '/ok', 3], ['a.example.com', '/missing', 2], ['A.Example.com:' + port, '/fail', 1],
    ['b.example.com', '/moved', 2], ['b.example.com', '/ok', 1],
  ];
  for (const [host, path, n] of sent) {
    for (let i = 0; i < n; i++) {
      const r = spawnSync(toolPath('curl'), ['-s', '-o', '/dev/null', '-H', `Host: ${host}`, `http://127.0.0.1:${port}${path}`]);
      expect(r.status).toBe(0);
    }
  }
  const expectedA = { 200: 3, 404: 2, 503: 1 };
  const expectedB = { 200: 1, 302: 2 };
  // syslog: arrives over UDP while we wait.
  const viaSyslog = await waitFor(async () => JSON.stringify(await codes('viasyslog', 'a.example.com')) === JSON.stringify(expectedA) &&
    JSON.stringify(await codes('viasyslog', 'b.example.com')) === JSON.stringify(expectedB), 30_000, 100);
  expect(await codes('viasyslog', 'a.example.com')).toEqual(expectedA);
  expect(viaSyslog).toBe(true);

  // file: nginx buffers nothing by default, but writes a line after its answer: wait until all 10 are there
  // (the warm-up request and the 9 above), then ingest them with the CLI into the same store.
  const logLines = (): number => readFileSync(join(dir, 'access.log'), 'utf8').split('\n').filter(Boolean).length;
  expect(await waitFor(() => logLines() >= 10, 30_000, 20)).toBe(true);
  const res = await runCli(['ingest', '--project', 'viafile', '--format', `'${LOG_FORMAT}'`, '--data', data, '--geo-overrides', geo, '--json',
    join(dir, 'access.log')]);
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  expect(JSON.parse(res.stdout)).toEqual({ lines: 10, accepted: 10, dropped: {} });
  expect(await codes('viafile', '127.0.0.1')).toEqual({ 200: 1 });
  expect(await codes('viafile', 'a.example.com')).toEqual(expectedA);
  expect(await codes('viafile', 'b.example.com')).toEqual(expectedB);
  expect(await codes('viafile', 'a.example.com,b.example.com')).toEqual({ 200: 4, 302: 2, 404: 2, 503: 1 });
  expect(await codes('viafile', 'a.example.com', '&region=GD&isp=CMCC')).toEqual(expectedA);
  expect(await codes('viafile', 'a.example.com', '&region=SH')).toEqual({});
  expect(await codes('viasyslog', 'b.example.com', '&region=GD&isp=CMCC&code=302')).toEqual({ 302: 2 });
});
