import { createSocket } from 'node:dgram';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allowAll } from '../src/api/auth.js';
import { resolveServeConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { requireTools } from './helpers/system-tools.js';
import { spawnNode } from './helpers/spawn.js';
import { accessLine, cliPath, freePort, storedTotal, tempDir, waitFor } from './ingest-helpers.js';

/**
 * Issue 20, item 1: bytes past 2^53 in one cell made the shared write fail, and with it every
 * tenant's intake. Each way in is driven here as the red-team run did it: over real sockets, real
 * syslog UDP, a real `livestats ingest --follow` process and a real clickhouse-server. Tenant A (or
 * an unauthenticated syslog sender) sends 2 lines of 2^53 - 1 bytes in one cell with every batch of
 * tenant B; B's ordinary batches must all be accepted and counted exactly.
 */

const POISON_BYTES = Number.MAX_SAFE_INTEGER;
const at = (): number => Date.now() - 60_000;
/** A combined_host line sending `bytes` ($body_bytes_sent). */
const lineWith = (ms: number, bytes: number, host: string, path = '/live/x.flv'): string =>
  accessLine(ms, { host, path }).replace(' 123 "-"', ` ${bytes} "-"`);
/** Tenant A's poison: two such lines in one (domain, minute, geo, code) cell and one stream. */
const poison = (ms: number): string => [lineWith(ms, POISON_BYTES, 'a.example.com'), lineWith(ms, POISON_BYTES, 'a.example.com')].join('\n');
const B_LINES = 10;
const ordinary = (ms: number, i: number): string =>
  Array.from({ length: B_LINES }, (_, j) => lineWith(ms, 1000 + j, 'b.example.com', `/live/b${i}.flv`)).join('\n');

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function post(server: RunningServer, project: string, body: string): Promise<Response> {
  return fetch(`${server.url}/ingest/v1/${project}/access-logs?format=combined_host`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
}

async function sendUdp(port: number, messages: string[]): Promise<void> {
  const sock = createSocket('udp4');
  for (const m of messages) await new Promise<void>((r) => sock.send(m, port, '127.0.0.1', () => r()));
  sock.close();
}

interface Run {
  statuses: number[];
  poisonAnswers: unknown[];
}

/**
 * `batches` rounds: tenant A's poison (HTTP), optionally two poison syslog datagrams, and one batch
 * of tenant B, all at once, so they share the aggregator's flushes.
 */
async function poisonRounds(server: RunningServer, batches: number, syslogPort?: number): Promise<Run> {
  const statuses: number[] = [];
  const poisonAnswers: unknown[] = [];
  for (let i = 0; i < batches; i++) {
    const t = at();
    const udp = syslogPort === undefined ? Promise.resolve()
      : sendUdp(syslogPort, [0, 1].map(() => `<190>Nov 23 10:00:00 edge nginx: ${lineWith(t, POISON_BYTES, 's.example.com')}`));
    const [a, b] = await Promise.all([post(server, 'a', poison(t)), post(server, 'b', ordinary(t, i)), udp]);
    poisonAnswers.push({ status: a.status, body: await a.json() });
    statuses.push(b.status);
    await b.arrayBuffer();
  }
  return { statuses, poisonAnswers };
}

async function bCount(server: RunningServer): Promise<number> {
  const res = await fetch(`${server.url}/v2/b/stats/httpcodes?play_domains=b.example.com`);
  const body = (await res.json()) as { data_series?: Array<{ http_codes: Array<{ count: number }> }> };
  let n = 0;
  for (const s of body.data_series ?? []) for (const c of s.http_codes) n += c.count;
  return n;
}

describe('bytes past 2^53 stop no one else (SQLite)', () => {
  it('HTTP and unauthenticated syslog UDP: every batch of tenant B is accepted and counted exactly; health and metrics agree', async () => {
    const dir = tempDir('blast');
    dirs.push(dir);
    const data = join(dir, 'data');
    const port = await freePort();
    const server = await startServer(resolveServeConfig({
      port: '0', data, 'log-level': 'silent', 'flush-interval-ms': '50', 'query-cache-ms': '0',
      syslog: [`udp://127.0.0.1:${port}`], 'syslog-project': 'sl',
    }, {}), { authenticate: allowAll });
    try {
      const batches = 43;
      const run = await poisonRounds(server, batches, port);
      expect(run.statuses.filter((s) => s !== 200)).toEqual([]);
      expect(storedTotal(data, 'b')).toBe(batches * B_LINES);
      expect(await bCount(server)).toBe(batches * B_LINES);
      // A's lines claim more than one request can send: dropped with a reason, the answer says so.
      expect(run.poisonAnswers[0]).toEqual({ status: 200, body: { accepted: 0, dropped: { bad_bytes: 2 }, errors: [{ line: 1, reason: 'bad_bytes' }, { line: 2, reason: 'bad_bytes' }] } });
      expect(storedTotal(data, 'a')).toBe(0);
      // A later legitimate syslog line is stored.
      await sendUdp(port, [`<190>Nov 23 10:00:00 edge nginx: ${lineWith(at(), 500, 's.example.com')}`]);
      expect(await waitFor(() => storedTotal(data, 'sl') === 1, 20_000)).toBe(true);
      expect(await waitFor(() => (server.syslog?.stats().dropped.bad_bytes ?? 0) === 2 * batches, 20_000)).toBe(true);
      expect(server.syslog?.stats()).toMatchObject({ accepted: 1, buffered: 0 });
      // /healthz and /metrics tell the same story: the store is up.
      const health = await fetch(`${server.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok' });
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toMatch(/^livestats_store_up\{store="sqlite"\} 1$/m);
      expect(metrics).toMatch(/^livestats_ingest_lines_dropped_total\{source="http",reason="bad_bytes"\} 86$/m);
    } finally {
      await server.close();
    }
  }, 120_000);

  it('follow: a line of 2^53 - 1 bytes never stalls the file, and SIGTERM exits cleanly', async () => {
    const dir = tempDir('blast-follow');
    dirs.push(dir);
    const data = join(dir, 'data');
    const log = join(dir, 'access.log');
    const t = at();
    const lines = [lineWith(t, POISON_BYTES, 'f.example.com'), ...Array.from({ length: 100 }, () => lineWith(t, POISON_BYTES, 'f.example.com').replace(` ${POISON_BYTES} `, ' 1000 '))];
    writeFileSync(log, lines.join('\n') + '\n');
    const child = spawnNode([cliPath(), 'ingest', '--follow', '--project', 'pf', '--format', 'combined_host', '--data', data, '--poll-ms', '50', log]);
    try {
      expect(await waitFor(() => storedTotal(data, 'pf') === 100, 30_000, 100)).toBe(true);
      child.child.kill('SIGTERM');
      expect(await child.exited).toBe(0);
      expect(child.output()).not.toMatch(/StoreUnavailableError|uncaught|at .*\.js:\d+/);
      expect(storedTotal(data, 'pf')).toBe(100);
    } finally {
      if (child.child.exitCode === null) child.child.kill('SIGKILL');
    }
  }, 60_000);
});

describe('bytes past 2^53 stop no one else (ClickHouse)', () => {
  requireTools('clickhouse-server');
  let ch: ClickHouseServer | undefined;
  afterAll(async () => {
    await ch?.destroy();
  });

  it('tenant A\'s poison is never retried in doubt: every batch of tenant B is accepted and counted exactly', async () => {
    ch = await startClickHouse();
    const dir = tempDir('blast-ch');
    dirs.push(dir);
    const server = await startServer(resolveServeConfig({
      port: '0', data: join(dir, 'data'), 'log-level': 'silent', 'flush-interval-ms': '50', 'query-cache-ms': '0',
      store: 'clickhouse', 'clickhouse-url': ch.url('blast'),
    }, {}), { authenticate: allowAll });
    try {
      const batches = 15;
      const run = await poisonRounds(server, batches);
      expect(run.statuses.filter((s) => s !== 200)).toEqual([]);
      expect(await bCount(server)).toBe(batches * B_LINES);
      const health = await fetch(`${server.url}/healthz`);
      expect(await health.json()).toMatchObject({ status: 'ok', pending_records: 0 });
      // The same class of poison by another value: a JSON \ud800 escape made a stream name ClickHouse
      // text cannot hold (UTF-8), so the traffic insert failed in doubt for every tenant of the flush.
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = at();
        const json = JSON.stringify({ ip: '127.0.0.1', time: new Date(t).toISOString(), domain: 'a.example.com', status: 200, bytes: 5 })
          .replace(/}$/, ',"uri":"/live/\\ud800.flv"}');
        const [a, b] = await Promise.all([
          fetch(`${server.url}/ingest/v1/a/access-logs?format=json`, { method: 'POST', body: json, headers: { 'content-type': 'text/plain' } }),
          post(server, 'b', ordinary(t, 100 + i)),
        ]);
        expect(await a.json()).toEqual({ accepted: 1, dropped: {}, errors: [] });
        statuses.push(b.status);
        await b.arrayBuffer();
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200]);
      expect(await bCount(server)).toBe((batches + 5) * B_LINES);
    } finally {
      await server.close();
    }
  }, 180_000);
});
