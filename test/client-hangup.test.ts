import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { requireTools } from './helpers/system-tools.js';
import { hangUpAfter, rawRequest, sendWithoutReading } from './helpers/raw-clients.js';
import { spawnNode, type Spawned } from './helpers/spawn.js';
import { accessLine, cliPath, runCli, tempDir, waitFor } from './ingest-helpers.js';

requireTools('clickhouse-server');

/**
 * Clients that hang up mid-request (issue 11), against the built `livestats serve` with
 * `--max-concurrent-queries 4` on both stores, over real sockets. A query is kept in flight
 * without any sleep in the server: its 24 h answer (~1440 minutes x 100 codes, several MB) is
 * more than the socket buffers hold, and the client does not read it, so the server is still
 * sending when the client hangs up (or until it does). Queries over short windows reach the
 * store while clients hang up (ClickHouse answers in milliseconds, over its own HTTP request).
 */
const MIN = 60_000;
const CODES = 100;
const BIG = 'big.example.com';
const now = Math.floor(Date.now() / MIN) * MIN;
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const bigQuery = `/v2/p1/stats/httpcodes?play_domains=${BIG}&start_time=${iso(now - 1440 * MIN)}&end_time=${iso(now)}`;
const smallQuery = (i: number): string =>
  `/v2/p1/stats/httpcodes?play_domains=${BIG}&start_time=${iso(now - (60 + i) * MIN)}&end_time=${iso(now - i * MIN)}`;
const gap = (i: number): number => 1 + ((i * 7) % 20); // 1..20 ms

interface Health { queries_in_flight: number; queries_waiting: number; ingest_batches_pending: number; pending_records: number }

describe.each(['sqlite', 'clickhouse'] as const)('clients hanging up, %s store', (kind) => {
  const dir = tempDir(`hangup-${kind}`);
  let clickhouse: ClickHouseServer | undefined;
  let serve: Spawned;
  let port = 0;
  let token = '';
  const headers = (): Record<string, string> => ({ 'X-Auth-Token': token });
  const health = async (): Promise<Health> => (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as Health;
  const until = async (what: string, check: (h: Health) => boolean): Promise<Health> => {
    let last: Health | undefined;
    const ok = await waitFor(async () => check((last = await health())), 20_000);
    if (!ok) throw new Error(`${what}: /healthz stayed ${JSON.stringify(last)}`);
    return last as Health;
  };
  const get = async (path: string): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: headers() });
    return { status: res.status, body: await res.json() };
  };
  /**
   * The paths asked all at once until every answer is a 200 (20 s at most), and the last round's answers.
   * Why more than one round: /healthz can show every slot free while some of the hung-up requests have not
   * even been read by the server yet (a busy machine). Such a request takes a slot for the moment until its
   * closed socket is seen, so a round asked just then can find every slot and waiting place taken and get
   * LIVE.100011007, rightly. A leaked slot or waiting place never comes back, so every round fails then.
   */
  const allAnswered = async (paths: string[]): Promise<Array<{ status: number; body: unknown }>> => {
    let answers: Array<{ status: number; body: unknown }> = [];
    await waitFor(async () => {
      answers = await Promise.all(paths.map(get));
      return answers.every((a) => a.status === 200);
    }, 20_000, 200);
    return answers;
  };

  beforeAll(async () => {
    const storeArgs: string[] = [];
    if (kind === 'clickhouse') {
      clickhouse = await startClickHouse();
      storeArgs.push('--store', 'clickhouse', '--clickhouse-url', clickhouse.url('hangup'));
    }
    const lines: string[] = [];
    for (let m = 1; m <= 1440; m++) {
      for (let c = 0; c < CODES; c++) lines.push(accessLine(now - m * MIN + 1000, { status: 200 + c, host: BIG }));
    }
    const file = join(dir, 'big.log');
    writeFileSync(file, lines.join('\n') + '\n');
    const ingested = await runCli(['ingest', '--project', 'p1', '--format', 'combined_host', '--data', dir, ...storeArgs, '--json', file]);
    expect(JSON.parse(ingested.stdout)).toMatchObject({ accepted: 1440 * CODES });
    const keys = await runCli(['keys', 'create', '--project', 'p1', '--json', '--data', dir]);
    token = (JSON.parse(keys.stdout) as { token: string }).token;
    serve = spawnNode([cliPath(), 'serve', '--port', '0', '--data', dir, ...storeArgs, '--max-concurrent-queries', '4',
      '--query-wait-ms', '60000', '--query-timeout-ms', '120000', '--log-level', 'warn']);
    const [, url] = await serve.waitFor(/listening on (http:\/\/[\d.:]+)/, 60_000);
    port = Number(new URL(url ?? '').port);
  }, 120_000);

  // SIGTERM must end the server within its shutdown grace (10 s) plus the final flush, whatever the
  // clients above left behind; stop() kills it after 60 s and fails with the tail of its output (its
  // warn lines name a shutdown step that takes long), and ClickHouse is torn down either way.
  afterAll(async () => {
    try {
      if (serve) expect(await serve.stop('SIGTERM', 60_000)).toBe(0);
    } finally {
      await clickhouse?.destroy();
    }
  }, 150_000);

  // Limits are hang catchers (--query-wait-ms 60 s, --query-timeout-ms 120 s): at load, four 24 h answers of
  // several MB at once on ClickHouse, while their hour blocks are still being built, can take longer than the
  // default 10 s query timeout (CI saw the four big answers fail with 500 once; the assertion now shows the body).
  it('40 queries hanging up 1-20 ms after sending leave no slot taken', async () => {
    // The 24 h answer is rendered once and then served from the response cache (1 s), so on the
    // SQLite store too the hang-ups land while answers are being sent, not while the loop is busy.
    expect((await get(bigQuery)).status).toBe(200);
    await Promise.all(Array.from({ length: 40 }, (_, i) =>
      hangUpAfter(port, rawRequest('GET', i % 2 === 0 ? bigQuery : smallQuery(i), headers()), gap(i))));
    expect(await until('slots back', (h) => h.queries_in_flight === 0 && h.queries_waiting === 0))
      .toMatchObject({ queries_in_flight: 0, queries_waiting: 0 });
    // Every slot is usable again: 8 at once (4 run, 4 wait), all answered in full.
    const answers = await allAnswered(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? bigQuery : smallQuery(i))));
    // A failed answer shows its body (the error envelope) in the assertion.
    expect(answers.map((a) => (a.status === 200 ? 200 : `${a.status} ${JSON.stringify(a.body)}`))).toEqual(new Array(8).fill(200));
    const big = answers[0]?.body as { data_series: Array<{ http_codes: Array<{ count: number }> }> };
    expect(big.data_series).toHaveLength(1440);
    expect(big.data_series.flatMap((e) => e.http_codes).reduce((n, c) => n + c.count, 0)).toBe(1440 * CODES);
    expect(await health()).toMatchObject({ queries_in_flight: 0, queries_waiting: 0 });
  });

  it('a client that hangs up while waiting for a slot never takes one', async () => {
    const holders: Socket[] = [];
    for (let i = 0; i < 4; i++) holders.push(await sendWithoutReading(port, rawRequest('GET', bigQuery, headers())));
    await until('4 slots held', (h) => h.queries_in_flight === 4);
    const waiter = await sendWithoutReading(port, rawRequest('GET', smallQuery(3), headers()));
    await until('1 waiting', (h) => h.queries_waiting === 1);
    waiter.destroy();
    expect(await until('waiter gone', (h) => h.queries_waiting === 0)).toMatchObject({ queries_in_flight: 4, queries_waiting: 0 });
    // A freed slot is not handed to the client that left.
    holders[0]?.destroy();
    expect(await until('one slot freed', (h) => h.queries_in_flight < 4)).toMatchObject({ queries_in_flight: 3, queries_waiting: 0 });
    for (const h of holders) h.destroy();
    expect(await until('all freed', (h) => h.queries_in_flight === 0)).toMatchObject({ queries_in_flight: 0, queries_waiting: 0 });
    expect((await get(smallQuery(3))).status).toBe(200);
  });

  it('40 queries hanging up while 4 slow answers hold every slot take no slot later', async () => {
    const holders: Socket[] = [];
    for (let i = 0; i < 4; i++) holders.push(await sendWithoutReading(port, rawRequest('GET', bigQuery, headers())));
    await until('4 slots held', (h) => h.queries_in_flight === 4);
    // 4 of them wait for a slot, the others are refused; all hang up within 20 ms.
    await Promise.all(Array.from({ length: 40 }, (_, i) => hangUpAfter(port, rawRequest('GET', smallQuery(i), headers()), gap(i))));
    expect(await until('waiters gone', (h) => h.queries_waiting === 0)).toMatchObject({ queries_in_flight: 4 });
    for (const h of holders) h.destroy();
    expect(await until('all freed', (h) => h.queries_in_flight === 0)).toMatchObject({ queries_in_flight: 0, queries_waiting: 0 });
    const answers = await allAnswered(Array.from({ length: 8 }, (_, i) => smallQuery(i)));
    expect(answers.map((a) => (a.status === 200 ? 200 : `${a.status} ${JSON.stringify(a.body)}`))).toEqual(new Array(8).fill(200));
  });

  it('40 ingest posts hanging up before their ack, retried with their X-Batch-Id, count once', async () => {
    const at = now - 30 * MIN + 5000;
    const domain = `ingest-${kind}.example.com`;
    const body = (i: number): string =>
      Array.from({ length: 10 + i }, (_, j) => accessLine(at, { status: j % 2 === 0 ? 200 : 404, host: domain })).join('\n') + '\n';
    const post = (i: number): string => rawRequest('POST', '/ingest/v1/p1/access-logs?format=combined_host',
      { ...headers(), 'Content-Type': 'text/plain', 'X-Batch-Id': `hangup-${kind}-${i}` }, body(i));
    await Promise.all(Array.from({ length: 40 }, (_, i) => hangUpAfter(port, post(i), gap(i))));
    await until('ingest settled', (h) => h.ingest_batches_pending === 0 && h.pending_records === 0);
    const retried = await Promise.all(Array.from({ length: 40 }, async (_, i) => {
      const res = await fetch(`http://127.0.0.1:${port}/ingest/v1/p1/access-logs?format=combined_host`, {
        method: 'POST', headers: { ...headers(), 'Content-Type': 'text/plain', 'X-Batch-Id': `hangup-${kind}-${i}` }, body: body(i),
      });
      return { status: res.status, body: (await res.json()) as { accepted: number; duplicate?: boolean } };
    }));
    expect(retried.map((r) => r.status)).toEqual(new Array(40).fill(200));
    expect(retried.map((r) => r.body.accepted)).toEqual(Array.from({ length: 40 }, (_, i) => 10 + i));
    const expected = Array.from({ length: 40 }, (_, i) => 10 + i).reduce((a, b) => a + b, 0);
    const q = await get(`/v2/p1/stats/httpcodes?play_domains=${domain}&start_time=${iso(at - 5000)}&end_time=${iso(at + 55_000)}`);
    const counts = (q.body as { data_series: Array<{ http_codes: Array<{ code: number; count: number }> }> }).data_series[0]?.http_codes;
    const twice = Array.from({ length: 40 }, (_, i) => Math.floor((10 + i) / 2)).reduce((a, b) => a + b, 0);
    expect(counts?.map(({ code, count }) => ({ code, count }))).toEqual([{ code: 200, count: expected - twice }, { code: 404, count: twice }]);
    expect(await health()).toMatchObject({ ingest_batches_pending: 0, queries_in_flight: 0 });
    // Some of the first posts were gone before their batch committed; the retries said which.
    console.log(`${kind}: ${retried.filter((r) => r.body.duplicate === true).length}/40 retries were duplicates`);
  });

  // The store really refuses the write: another connection holds SQLite's write lock (the
  // server's busy timeout, 5 s, runs out). The claim's read still works in WAL mode.
  it.runIf(kind === 'sqlite')('a batch whose commit was refused frees its id at once; the retry is counted once', async () => {
    const at = now - 20 * MIN + 5000;
    const domain = 'retry.example.com';
    const send = async (): Promise<{ status: number; body: unknown }> => {
      const res = await fetch(`http://127.0.0.1:${port}/ingest/v1/p1/access-logs?format=combined_host`, {
        method: 'POST', headers: { ...headers(), 'Content-Type': 'text/plain', 'X-Batch-Id': 'retry-1' },
        body: Array.from({ length: 7 }, () => accessLine(at, { host: domain })).join('\n'),
      });
      return { status: res.status, body: await res.json() };
    };
    const locker = new Database(join(dir, 'livestats.db'));
    try {
      locker.exec('BEGIN IMMEDIATE');
      expect(await send()).toEqual({ status: 503, body: {
        error_code: 'LIVE.100011005',
        error_msg: 'Service unavailable: the store cannot accept writes (store_busy); nothing of this request was counted, retry later',
      } });
      // Refused, not queued: nothing pending, the id is free again.
      expect(await health()).toMatchObject({ status: 'degraded', reason: 'store_busy', ingest_batches_pending: 0, pending_records: 0 });
      locker.exec('ROLLBACK');
    } finally {
      locker.close();
    }
    await until('store healthy again', (h) => (h as { status?: string }).status === 'ok');
    expect(await send()).toEqual({ status: 200, body: { accepted: 7, dropped: {}, errors: [] } });
    expect(await send()).toEqual({ status: 200, body: { accepted: 7, dropped: {}, errors: [], duplicate: true } });
    const q = await get(`/v2/p1/stats/httpcodes?play_domains=${domain}&start_time=${iso(at - 5000)}&end_time=${iso(at + 55_000)}`);
    expect((q.body as { data_series: Array<{ http_codes: unknown[] }> }).data_series[0]?.http_codes)
      .toEqual([{ code: 200, count: 7, proportion: 1 }]);
  }, 120_000);
});
