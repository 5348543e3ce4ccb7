import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { resolveServeConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { accessLine, storedTotal, tempDir } from './ingest-helpers.js';

/**
 * --body-timeout-ms is the longest silence while a request arrives or its answer is sent. A
 * handler that works longer than that on a body it has fully received (here: 60 MiB of log lines,
 * gzipped to a small upload, against a 300 ms limit; counting them takes far longer on any machine) answers; its connection
 * used to be closed under it, unanswered ("other side closed").
 */
const dir = tempDir('long-handler');
let server: RunningServer;
let token = '';

beforeAll(async () => {
  server = await startServer(resolveServeConfig({ port: '0', data: dir, 'log-level': 'silent', 'body-timeout-ms': '300', 'ingest-commit-timeout-ms': '225' }, {}));
  token = server.auth.issued?.token ?? '';
  expect(token).not.toBe('');
});
afterAll(async () => {
  await server?.close();
});

it('an ingest body that takes longer to count than --body-timeout-ms is answered, and counted once', async () => {
  const line = accessLine(Date.now() - 60_000, { host: 'long.example.com' }) + '\n';
  const n = Math.floor((60 << 20) / line.length);
  const res = await fetch(`${server.url}/ingest/v1/default/access-logs?format=combined_host`, {
    method: 'POST', body: gzipSync(line.repeat(n)), headers: { 'content-type': 'text/plain', 'content-encoding': 'gzip', 'x-auth-token': token },
  });
  // 200 with every line, or 503 when the store itself took longer than its deadline: never a closed connection.
  expect([200, 503]).toContain(res.status);
  if (res.status === 200) {
    expect(((await res.json()) as { accepted: number }).accepted).toBe(n);
    expect(storedTotal(dir)).toBe(n);
  }
}, 180_000);
