import { writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { projectRoot } from '../src/paths.js';
import { spawnNode, type Spawned } from './helpers/spawn.js';
import { accessLine, cliPath, runCli, storedTotal, tempDir, waitFor } from './ingest-helpers.js';

/**
 * SIGTERM while clients misbehave, against the built `livestats serve` over real sockets. Once the
 * HTTP server closes, Node no longer enforces its header and request timeouts, and a client that keeps
 * sending a byte now and then is never idle: before --shutdown-grace-ms such a client held the stop
 * for as long as it liked (a service manager then kills the server, and what it had not written is lost).
 */
const MIN = 60_000;
const BUDGET = 65_536; // --max-body-bytes and --max-inflight-body-bytes: one declared body takes all of it

let serve: Spawned | undefined;
const sockets: Socket[] = [];
const timers: NodeJS.Timeout[] = [];

afterEach(() => {
  for (const t of timers.splice(0)) clearInterval(t);
  for (const s of sockets.splice(0)) s.destroy();
  if (serve?.child.exitCode === null) serve.child.kill('SIGKILL');
  serve = undefined;
});

/** A raw connection that sends `head` now and `drip` every 100 ms, and records what it receives. */
async function dribble(port: number, head: string, drip: string): Promise<{ received: () => string; closed: Promise<void>; end: (last: string) => void }> {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let received = '';
  socket.on('data', (d: Buffer) => {
    received += d.toString();
  });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(head);
  const timer = setInterval(() => {
    if (!socket.destroyed) socket.write(drip);
  }, 100);
  timers.push(timer);
  const end = (last: string): void => {
    clearInterval(timer);
    if (!socket.destroyed) socket.write(last);
  };
  return { received: () => received, closed, end };
}

it('clients dribbling a body or headers cannot hold SIGTERM: serve exits after its grace, what was acknowledged is stored, the cut body is not counted', async () => {
  const dir = tempDir('shutdown-grace');
  const keys = await runCli(['keys', 'create', '--project', 'p1', '--json', '--data', dir]);
  const token = (JSON.parse(keys.stdout) as { token: string }).token;
  // The grace through the environment, so the same test runs (and hangs) against a server without it.
  serve = spawnNode([cliPath(), 'serve', '--port', '0', '--data', dir, '--log-level', 'info',
    '--max-body-bytes', String(BUDGET), '--max-inflight-body-bytes', String(BUDGET)], { LIVESTATS_SHUTDOWN_GRACE_MS: '1000' });
  const [, url] = await serve.waitFor(/listening on (http:\/\/[\d.:]+)/, 60_000);
  const port = Number(new URL(url ?? '').port);
  const at = Math.floor(Date.now() / MIN) * MIN - 10 * MIN;
  const lines = (n: number, host: string): string => Array.from({ length: n }, () => accessLine(at, { host })).join('\n') + '\n';
  const ingest = `/ingest/v1/p1/access-logs?format=combined_host`;
  const post = async (body: string, batch?: string): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${url}${ingest}`, {
      method: 'POST', body,
      headers: { 'X-Auth-Token': token, 'Content-Type': 'text/plain', ...(batch ? { 'X-Batch-Id': batch } : {}) },
    });
    return { status: res.status, body: await res.json() };
  };

  // Acknowledged before the signal: must be in the store after it.
  expect(await post(lines(25, 'acked.example.com'), 'acked-1')).toEqual({ status: 200, body: { accepted: 25, dropped: {}, errors: [] } });

  // A body declared at the whole in-flight budget: 5 complete lines, then a byte every 100 ms.
  const body = await dribble(port, `POST ${ingest} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: ${token}\r\n` +
    `Content-Type: text/plain\r\nContent-Length: ${BUDGET}\r\n\r\n${lines(5, 'cut.example.com')}`, 'x');
  // The server holds it: a small body does not fit beside it (503, nothing read or counted).
  expect(await waitFor(async () => (await post('x')).status === 503, 60_000)).toBe(true);
  // Headers that do not end until the server stops, a line every 100 ms.
  const headers = await dribble(port, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n`, 'X-Pad: a\r\n');

  // A hang catcher, not a timing assertion: without the grace the server never exits here.
  const stopped = serve.stop('SIGTERM', 60_000);
  // Headers that end while the server stops: a request on an open connection then gets 503 in the envelope.
  await serve.waitFor(/shutdown: HTTP stops/, 60_000);
  headers.end('\r\n');
  expect(await stopped).toBe(0);
  const out = serve.output();
  expect(out).toMatch(/HTTP connection\(s\) still busy after the 1000 ms grace: closed/);
  for (const step of ['HTTP requests in flight', 'final flush to the store', 'store close']) {
    expect(out).toMatch(new RegExp(`"step":"${step}","ms":\\d+,"msg":"shutdown: ${step} done"`));
  }
  expect(out).toMatch(/"msg":"stopped cleanly"/);
  // The body's connection was closed without an answer (its request never reached its handler).
  await Promise.all([body.closed, headers.closed]);
  expect(body.received()).toBe('');
  expect(headers.received()).toMatch(/^HTTP\/1\.1 503 /);
  expect(headers.received()).toMatch(/\r\nretry-after: 1\r\n/i);
  expect(headers.received()).toMatch(/\r\nconnection: close\r\n/i);
  expect(JSON.parse(headers.received().split('\r\n\r\n')[1] ?? '')).toEqual({ error_code: 'LIVE.100011007', error_msg: 'The server is stopping, retry later' });
  // The 25 acknowledged lines, and nothing of the 5 complete lines of the cut body.
  expect(storedTotal(dir, 'p1')).toBe(25);
}, 180_000);

// The last resort after a clean stop (src/shutdown.ts exitIfStuck): a timer or socket some part forgot
// must not keep a flushed server running until its service manager kills it.
it('a process still held by something after a clean stop exits anyway, naming what held it', async () => {
  const dir = tempDir('exit-if-stuck');
  const file = join(dir, 'held.mjs');
  writeFileSync(file, `import { exitIfStuck } from ${JSON.stringify(pathToFileURL(join(projectRoot(), 'dist', 'src', 'shutdown.js')).href)};
    setInterval(() => undefined, 1000); // what a part forgot to stop
    exitIfStuck(3, { warn: (o, msg) => console.log(msg, JSON.stringify(o)) }, 200);
    console.log('stopped cleanly');`);
  serve = spawnNode([file]);
  await serve.waitFor(/stopped cleanly/, 60_000);
  const [, resources] = await serve.waitFor(/still running 200 ms after stopping: exiting (.*)/, 60_000);
  expect(JSON.parse(resources ?? '{}')).toMatchObject({ resources: expect.arrayContaining(['Timeout']) });
  expect(await serve.exited).toBe(3);
});
