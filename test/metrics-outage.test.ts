import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { allowAll } from '../src/api/auth.js';
import { resolveServeConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { startFaultyProxy, type FaultyProxy } from './harness/faulty-proxy.js';
import { sampleValue } from './helpers/exposition.js';
import { accessLine, tempDir, waitFor } from './ingest-helpers.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('clickhouse-server');

/** A real clickhouse-server behind a real proxy that refuses connections: the store "goes away". */
let ch: ClickHouseServer;
let proxy: FaultyProxy;
let server: RunningServer;
const dir = tempDir('metrics-outage');

beforeAll(async () => {
  ch = await startClickHouse();
  proxy = await startFaultyProxy(ch.httpPort);
  const url = `${proxy.url.replace('http://', 'http://default:@')}/metrics_outage`;
  server = await startServer(resolveServeConfig({
    port: '0', data: join(dir, 'data'), 'log-level': 'silent', store: 'clickhouse', 'clickhouse-url': url,
  }, {}), { authenticate: allowAll });
});
afterAll(async () => {
  proxy.policy = () => 'pass';
  await server?.close();
  await proxy?.close();
  await ch?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const scrape = async (): Promise<string> => {
  const res = await fetch(`${server.url}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
};
const ingest = (lines: string[]): Promise<Response> => fetch(`${server.url}/ingest/v1/p1/access-logs?format=combined_host`, {
  method: 'POST', body: lines.join('\n'), headers: { 'content-type': 'text/plain' },
});
const requests5xx = (text: string): number | undefined =>
  sampleValue(text, 'livestats_domain_requests_total{project="p1",domain="play.example.com",class="5xx"}');

it('answers a scrape during a store outage, shows the outage, and shows the recovery', async () => {
  const t = Date.now() - 60_000;
  expect((await ingest([accessLine(t, { status: 500 })])).status).toBe(200);
  let text = await scrape();
  expect(sampleValue(text, 'livestats_store_up{store="clickhouse"}')).toBe(1);
  expect(requests5xx(text)).toBe(1);

  proxy.policy = () => 'refuse';
  // The proxy takes the insert and cuts the connection: the write may have landed (in doubt), so the
  // aggregator keeps the batch and retries it as-is, and the request waits for its outcome.
  const pending = ingest([accessLine(t, { status: 502 }), accessLine(t, { status: 503 })]);
  expect(await waitFor(async () => (sampleValue(await scrape(), 'livestats_aggregator_flush_failures_total') ?? 0) >= 1, 20_000, 200)).toBe(true);
  text = await scrape();
  expect(sampleValue(text, 'livestats_store_up{store="clickhouse"}')).toBe(0);
  expect(sampleValue(text, 'livestats_aggregator_pending_batches')).toBe(1);
  expect(sampleValue(text, 'livestats_aggregator_pending_records')).toBeGreaterThanOrEqual(1);
  expect(sampleValue(text, 'livestats_aggregator_flush_duration_seconds_count{outcome="failed"}')).toBeGreaterThanOrEqual(1);
  expect(requests5xx(text)).toBe(1); // not stored yet: not counted yet

  proxy.policy = () => 'pass';
  // Once the kept batch lands it is counted, once, and the waiting request is acknowledged.
  expect((await pending).status).toBe(200);
  expect(await waitFor(async () => requests5xx(await scrape()) === 3, 20_000, 200)).toBe(true);
  text = await scrape();
  expect(sampleValue(text, 'livestats_store_up{store="clickhouse"}')).toBe(1);
  expect(sampleValue(text, 'livestats_aggregator_pending_batches')).toBe(0);
  expect(sampleValue(text, 'livestats_aggregator_flush_retries_total')).toBeGreaterThanOrEqual(1);
});
