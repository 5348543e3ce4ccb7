import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { resolveServeConfig } from '../src/config.js';
import { allowAll } from '../src/api/auth.js';
import { startServer, type RunningServer } from '../src/server.js';
import { accessLine, freePort, storedTotal, tempDir, waitFor } from './ingest-helpers.js';

const dir = tempDir('syslog');
let server: RunningServer;

beforeAll(async () => {
  const port = await freePort();
  server = await startServer(resolveServeConfig({
    port: '0', data: join(dir, 'data'), 'log-level': 'silent', 'flush-interval-ms': '50',
    syslog: [`udp://127.0.0.1:${port}`, `tcp://127.0.0.1:${port}`], 'syslog-project': 'sl',
  }, {}), { authenticate: allowAll });
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

it('receives RFC 3164 over UDP, and RFC 5424 octet-counted plus newline framing over TCP', async () => {
  const [udp, tcp] = server.syslog?.bound ?? [];
  const t = Date.now() - 60_000;
  const sock = createSocket('udp4');
  for (const status of [200, 404]) {
    await new Promise<void>((r) => sock.send(`<190>Nov 23 10:00:00 edge nginx: ${accessLine(t, { status })}`, udp?.port, '127.0.0.1', () => r()));
  }
  await new Promise<void>((r) => sock.send('not syslog at all', udp?.port, '127.0.0.1', () => r()));
  sock.close();
  const m5424 = `<165>1 2026-01-01T00:00:00Z edge nginx - - - ${accessLine(t, { status: 500 })}`;
  const framed = `${Buffer.byteLength(m5424)} ${m5424}<190>Nov 23 10:00:00 edge nginx: ${accessLine(t, { status: 301 })}\n`;
  const c = connect(tcp?.port ?? 0, '127.0.0.1');
  await new Promise<void>((r) => c.on('connect', () => r()));
  c.write(framed.slice(0, 50));
  c.end(framed.slice(50));
  const ok = await waitFor(() => storedTotal(join(dir, 'data'), 'sl') === 4, 5000);
  expect(storedTotal(join(dir, 'data'), 'sl')).toBe(4);
  expect(ok).toBe(true);
  expect(server.syslog?.stats()).toMatchObject({ lines: 5, accepted: 4, dropped: { parse: 1 } });
});
