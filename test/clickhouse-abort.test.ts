import { afterAll, beforeAll, expect, it } from 'vitest';
import { ChEndpoint } from '../src/store/clickhouse/client.js';
import { parseClickHouseUrls, type Endpoint } from '../src/store/clickhouse/url.js';
import { QueryTimeoutError } from '../src/store/types.js';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { requireTools } from './helpers/system-tools.js';
import { waitFor } from './ingest-helpers.js';

requireTools('clickhouse-server');

/** A read for a client that has gone stops in ClickHouse too (a real clickhouse-server). */
let server: ClickHouseServer;
let endpoint: ChEndpoint;
beforeAll(async () => {
  server = await startClickHouse();
  endpoint = new ChEndpoint(parseClickHouseUrls(server.url('default')).endpoints[0] as Endpoint);
});
afterAll(async () => {
  await endpoint?.close();
  await server?.destroy();
});

const running = async (): Promise<number> =>
  Number((await server.sql("SELECT count() FROM system.processes WHERE query_id LIKE 'livestats-read-%'")).trim());

it('aborting a read rejects with the signal\'s reason and kills the query on the server', async () => {
  const controller = new AbortController();
  // Runs for minutes unless killed: ClickHouse 18.16 keeps going after its HTTP client left.
  const read = endpoint.rows('SELECT count() AS n FROM system.numbers WHERE number % 1000003 = 7', controller.signal);
  expect(await waitFor(async () => (await running()) === 1, 10_000)).toBe(true);
  const reason = new Error('client gone');
  controller.abort(reason);
  await expect(read).rejects.toBe(reason);
  expect(await waitFor(async () => (await running()) === 0, 10_000)).toBe(true);
  // The endpoint's connections are still usable.
  expect(await endpoint.rows('SELECT 1 AS one', new AbortController().signal)).toEqual([{ one: 1 }]);
});

it('a signal aborted before the read starts sends nothing', async () => {
  const controller = new AbortController();
  const reason = new Error('gone already');
  controller.abort(reason);
  await expect(endpoint.rows('SELECT 1 AS one', controller.signal)).rejects.toBe(reason);
});

it('a read over the query timeout rejects with QueryTimeoutError and is stopped on the server', async () => {
  const quick = new ChEndpoint(parseClickHouseUrls(server.url('default')).endpoints[0] as Endpoint, { queryTimeoutMs: 1000 });
  try {
    await expect(quick.rows('SELECT count() AS n FROM system.numbers WHERE number % 1000003 = 7')).rejects.toBeInstanceOf(QueryTimeoutError);
    expect(await waitFor(async () => (await running()) === 0, 10_000)).toBe(true);
    expect(await quick.rows('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  } finally {
    await quick.close();
  }
});

it('ClickHouse itself stops a query at max_execution_time (the server-side half of the timeout)', async () => {
  // The same URL setting the client sends; 18.16 answers TIMEOUT_EXCEEDED (code 159).
  const res = await fetch(`http://127.0.0.1:${server.httpPort}/?max_execution_time=1`, {
    method: 'POST', body: 'SELECT count() FROM system.numbers WHERE number % 1000003 = 7', signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  expect(res.ok).toBe(false);
  expect(text).toMatch(/Code: 159\b/);
});
