// The test harness's port choice (test/harness/ports.ts) and clickhouse-server's start on ports taken
// meanwhile (test/harness/clickhouse.ts): a CI run once failed when a server's port was bound by
// someone else between its pick and the server's bind ("Address already in use").
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { allocate, startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { freePort } from './harness/ports.js';
import { requireTools } from './helpers/system-tools.js';

const held: Server[] = [];
const conns = new Set<Socket>();
afterAll(async () => {
  // The server's readiness check connected to the blocker (which never answers): its sockets go first.
  for (const c of conns) c.destroy();
  await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
});

it('freePort never hands out a port twice in one process (500 picks among 12,768 ports would repeat one by chance)', async () => {
  const ports = [];
  for (let i = 0; i < 500; i++) ports.push(await freePort());
  expect(new Set(ports).size).toBe(500);
});

it('a clickhouse-server whose port was taken before it bound it starts again on new ports', async () => {
  requireTools('clickhouse-server');
  const taken = await freePort();
  const blocker = createServer((c) => conns.add(c));
  held.push(blocker);
  await new Promise<void>((resolve) => blocker.listen(taken, '127.0.0.1', resolve));
  let calls = 0;
  let server: ClickHouseServer | undefined;
  try {
    server = await startClickHouse(async () => (++calls === 1 ? { http: taken, tcp: await freePort() } : allocate()));
    expect(calls).toBe(2);
    expect(server.httpPort).not.toBe(taken);
    expect((await server.sql('SELECT 1')).trim()).toBe('1');
  } finally {
    await server?.destroy();
  }
}, 180_000);
