import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowAll } from '../src/api/auth.js';
import { resolveServeConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { recordFault } from './helpers/fault-report.js';
import { captureLogger } from './helpers/log-capture.js';
import { requireTools } from './helpers/system-tools.js';
import { accessLine, tempDir, waitFor } from './ingest-helpers.js';

requireTools('clickhouse-server');

const LINES = 500;
const body = (domain: string): string => Array.from({ length: LINES }, (_, j) =>
  accessLine(Date.now() - 120_000 - (j % 30) * 60_000, { host: domain, status: 200 + (j % 5), ip: `1.${j % 250}.${j % 11}.9` })).join('\n') + '\n';

const post = (server: RunningServer, project: string, domain: string, batchId?: string): Promise<Response> =>
  fetch(`${server.url}/ingest/v1/${project}/access-logs?format=combined_host`, {
    method: 'POST', body: body(domain), headers: { 'content-type': 'text/plain', ...(batchId ? { 'x-batch-id': batchId } : {}) },
    signal: AbortSignal.timeout(60_000),
  });

async function stored(server: RunningServer, project: string, domain: string): Promise<number> {
  const res = await fetch(`${server.url}/v2/${project}/stats/httpcodes?play_domains=${domain}`);
  expect(res.status).toBe(200);
  const b = (await res.json()) as { data_series: Array<{ http_codes: Array<{ count: number }> }> };
  return b.data_series.reduce((n, s) => n + s.http_codes.reduce((m, c) => m + c.count, 0), 0);
}

const UNAVAILABLE = (reason: string): object => ({
  error_code: 'LIVE.100011005',
  error_msg: `Service unavailable: the store cannot accept writes (${reason}); nothing of this request was counted, retry later`,
});

describe('SQLite locked by another process beyond the busy timeout', () => {
  const dir = tempDir('busy');
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(resolveServeConfig({ port: '0', data: join(dir, 'data'), 'query-cache-ms': '0', 'log-level': 'silent' }, {}),
      { authenticate: allowAll });
  });
  afterAll(async () => {
    await server?.close().catch(() => undefined);
  });

  it('answers 503 store_busy while the write lock is held, ok again after; nothing refused is counted', async () => {
    expect((await post(server, 'busy', 'before.busy.example')).status).toBe(200);
    // A real second process takes SQLite's write lock and keeps it until told to let go.
    const holder = spawn(process.execPath, ['-e', `
      const db = new (require('better-sqlite3'))(process.argv[1]);
      db.exec('BEGIN IMMEDIATE');
      console.log('locked');
      process.stdin.once('data', () => { db.exec('COMMIT'); db.close(); process.exit(0); });
    `, join(dir, 'data', 'livestats.db')], { cwd: process.cwd(), stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((r) => holder.stdout.once('data', () => r()));
    const refused = await post(server, 'busy', 'during.busy.example', 'busy-1');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.json()).toEqual(UNAVAILABLE('store_busy'));
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'degraded', reason: 'store_busy' });
    expect(await stored(server, 'busy', 'before.busy.example')).toBe(LINES); // reads still answer
    holder.stdin.write('release\n');
    await new Promise((r) => holder.once('exit', r));
    expect(await waitFor(async () => (await fetch(`${server.url}/healthz`)).status === 200, 15_000, 100)).toBe(true);
    expect(await stored(server, 'busy', 'during.busy.example')).toBe(0);
    expect((await post(server, 'busy', 'during.busy.example', 'busy-1')).status).toBe(200);
    expect(await stored(server, 'busy', 'during.busy.example')).toBe(LINES);
    recordFault({
      fault: 'SQLite write lock held by another process beyond the 5 s busy timeout',
      behaviour: '503 store_busy + Retry-After, /healthz degraded (store_busy) then ok by itself, reads answered; the retry with the same X-Batch-Id counted once',
      acknowledged: 2 * LINES, refused: LINES, lost: 0, doubleCounted: (await stored(server, 'busy', 'during.busy.example')) - LINES,
    });
  }, 120_000);
});

describe('ClickHouse stopped and restarted under HTTP ingest', () => {
  let ch: ClickHouseServer;
  let server: RunningServer;
  const log = captureLogger();
  beforeAll(async () => {
    ch = await startClickHouse();
    server = await startServer(resolveServeConfig({
      port: '0', data: tempDir('chfault'), store: 'clickhouse', 'clickhouse-url': ch.url('faults'), 'query-cache-ms': '0',
    }, {}), { authenticate: allowAll, logger: log.logger });
  });
  afterAll(async () => {
    await server?.close().catch(() => undefined);
    await ch?.destroy();
  });

  it('refuses with 503 while it is down (or holds a batch in doubt until it lands), counts every retry once', async () => {
    const acked = new Set<number>();
    for (let i = 0; i < 5; i++) {
      expect((await post(server, 'ch', `b${i}.ch.example`, i % 2 ? undefined : `ch-${i}`)).status).toBe(200);
      acked.add(i);
    }
    await ch.stop(true);
    const refused = new Set<number>();
    const inDoubt: Array<Promise<void>> = [];
    for (let i = 5; i < 15; i++) {
      const res = post(server, 'ch', `b${i}.ch.example`, i % 2 ? undefined : `ch-${i}`);
      // Normally refused at once; a batch whose insert may have reached the server waits until it lands.
      const first = await Promise.race([res, new Promise<'waiting'>((r) => setTimeout(() => r('waiting'), 3000))]);
      if (first === 'waiting') {
        inDoubt.push(res.then(async (r) => {
          // Acknowledged once it lands, or (ClickHouse back after --ingest-commit-timeout-ms) told it
          // may still be counted: either way the kept batch lands once (checked below).
          if (r.status === 503) expect(((await r.json()) as { error_msg: string }).error_msg).toContain('may still be counted');
          else expect(r.status).toBe(200);
          acked.add(i);
        }));
        continue;
      }
      expect(first.status).toBe(503);
      expect(await first.json()).toEqual(UNAVAILABLE('store_unreachable'));
      refused.add(i);
    }
    expect(refused.size).toBeGreaterThan(5);
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'degraded', reason: 'store_unreachable', store: 'clickhouse' });
    await ch.start();
    expect(await waitFor(async () => (await fetch(`${server.url}/healthz`)).status === 200, 20_000, 200)).toBe(true);
    await Promise.all(inDoubt);
    for (const i of refused) {
      expect(await stored(server, 'ch', `b${i}.ch.example`)).toBe(0);
      expect((await post(server, 'ch', `b${i}.ch.example`, i % 2 ? undefined : `ch-${i}`)).status).toBe(200);
    }
    for (let i = 0; i < 15; i++) expect(await stored(server, 'ch', `b${i}.ch.example`), `b${i}`).toBe(LINES);
    expect(log.lines().filter((l) => l.msg === 'store unavailable: writes fail; new data is refused until a write succeeds')).toHaveLength(1);
    recordFault({
      fault: 'ClickHouse killed (SIGKILL) and restarted under HTTP ingest',
      behaviour: `503 store_unreachable for ${refused.size} batches (${inDoubt.length} held in doubt and applied once), /healthz degraded then ok by itself; retries counted once`,
      acknowledged: 15 * LINES, refused: refused.size * LINES, lost: 0, doubleCounted: 0,
    });
  }, 120_000);
});
