import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { allowAll } from '../src/api/auth.js';
import { MetricsAccess } from '../src/api/metrics/access.js';
import { resolveServeConfig } from '../src/config.js';
import { Metrics } from '../src/metrics/registry.js';
import { startServer, type RunningServer } from '../src/server.js';
import type { Store } from '../src/store/types.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { sampleValue } from './helpers/exposition.js';
import { accessLine, tempDir, waitFor } from './ingest-helpers.js';

const TEXT_FORMAT = 'text/plain; version=0.0.4; charset=utf-8';

describe('GET /metrics on a loopback server', () => {
  const dir = tempDir('metrics');
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(resolveServeConfig({ port: '0', data: join(dir, 'data'), 'log-level': 'silent' }, {}), { authenticate: allowAll });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const scrape = async (headers: Record<string, string> = {}): Promise<string> => {
    const res = await fetch(`${server.url}/metrics`, { headers });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(TEXT_FORMAT);
    return res.text();
  };

  it('serves the text exposition with the process and Node.js metrics, without a credential', async () => {
    const text = await scrape();
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(sampleValue(text, 'livestats_store_up{store="sqlite"}')).toBe(1);
  });

  it('answers the text exposition whatever the Accept header asks for', async () => {
    for (const accept of ['application/x-unknown', 'application/json', 'text/html;q=0.9, */*;q=0.1', 'application/openmetrics-text; version=1.0.0', '%%garbage']) {
      const text = await scrape({ accept });
      expect(text, accept).toContain('# TYPE livestats_ingest_lines_accepted_total counter');
    }
  });

  it('answers other methods with LIVE.100011011', async () => {
    const res = await fetch(`${server.url}/metrics`, { method: 'POST', body: 'x' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error_code: 'LIVE.100011011', error_msg: 'The HTTP method is not supported for this API' });
  });

  it('counts HTTP-ingested lines per reason, replays, and stored requests per domain and class', async () => {
    const t = Date.now() - 60_000;
    const lines = [
      accessLine(t, { status: 200 }), accessLine(t, { status: 200 }), accessLine(t, { status: 503 }),
      accessLine(t, { status: 404, host: 'xn--fsqu00a.com' }), 'garbage line', accessLine(t, { status: 999 }),
    ].join('\n');
    const post = (): Promise<Response> => fetch(`${server.url}/ingest/v1/p1/access-logs?format=combined_host`, {
      method: 'POST', body: lines, headers: { 'content-type': 'text/plain', 'x-batch-id': 'metrics-1' },
    });
    expect((await post()).status).toBe(200);
    expect((await post()).status).toBe(200); // the same batch again: acknowledged, not counted
    const q = await fetch(`${server.url}/v2/p1/stats/httpcodes?play_domains=play.example.com`);
    expect(q.status).toBe(200);
    const text = await scrape();
    expect(sampleValue(text, 'livestats_ingest_lines_accepted_total{source="http"}')).toBe(4);
    expect(sampleValue(text, 'livestats_ingest_lines_dropped_total{source="http",reason="parse"}')).toBe(1);
    expect(sampleValue(text, 'livestats_ingest_lines_dropped_total{source="http",reason="bad_status"}')).toBe(1);
    expect(sampleValue(text, 'livestats_ingest_batch_replays_total')).toBe(1);
    expect(sampleValue(text, 'livestats_domain_requests_total{project="p1",domain="play.example.com",class="2xx"}')).toBe(2);
    expect(sampleValue(text, 'livestats_domain_requests_total{project="p1",domain="play.example.com",class="5xx"}')).toBe(1);
    expect(sampleValue(text, 'livestats_domain_requests_total{project="p1",domain="xn--fsqu00a.com",class="4xx"}')).toBe(1);
    // request durations by route pattern and status, never by raw URL
    expect(sampleValue(text, 'livestats_http_request_duration_seconds_count{method="POST",route="/ingest/v1/:project_id/access-logs",status="200"}')).toBe(2);
    expect(sampleValue(text, 'livestats_http_request_duration_seconds_count{method="GET",route="/v2/:project_id/stats/httpcodes",status="200"}')).toBe(1);
    expect(text).not.toContain('play_domains');
    expect(text).not.toContain('/v2/p1/');
    expect(sampleValue(text, 'livestats_store_query_duration_seconds_count{operation="queryHttpCodes",outcome="ok"}')).toBe(1);
  });

  it('labels unknown paths as one route', async () => {
    expect((await fetch(`${server.url}/no/such/path/123`)).status).toBe(404);
    const text = await scrape();
    expect(sampleValue(text, 'livestats_http_request_duration_seconds_count{method="GET",route="_unmatched",status="404"}')).toBe(1);
    expect(text).not.toContain('/no/such/path');
  });
});

describe('GET /metrics access', () => {
  const dir = tempDir('metrics-access');
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const start = async (flags: Record<string, string>): Promise<string[]> => {
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) });
    server = await startServer(resolveServeConfig({ port: '0', data: join(dir, 'data'), ...flags }, {}), { authenticate: allowAll, logger });
    return warnings;
  };
  const unauthorized = async (res: Response): Promise<void> => {
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="livestats metrics"');
    expect(await res.json()).toEqual({ error_code: 'LIVE.100011002', error_msg: 'Authentication failed' });
  };

  it('needs the bearer token when one is set', async () => {
    const warnings = await start({ 'metrics-token': 'scrape-s3cret' });
    expect(warnings.filter((w) => w.includes('/metrics'))).toEqual([]);
    const url = `${server?.url}/metrics`;
    await unauthorized(await fetch(url));
    await unauthorized(await fetch(url, { headers: { authorization: 'Bearer wrong' } }));
    await unauthorized(await fetch(url, { headers: { 'x-auth-token': 'scrape-s3cret' } }));
    const ok = await fetch(url, { headers: { authorization: 'Bearer scrape-s3cret' } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('livestats_store_up');
  });

  it('answers 401 and warns at startup when listening beyond loopback without a token', async () => {
    const warnings = await start({ host: '0.0.0.0' });
    expect(warnings).toContain('GET /metrics answers 401 to every scrape: the server listens on 0.0.0.0 (not loopback) and no --metrics-token (LIVESTATS_METRICS_TOKEN) is set');
    await unauthorized(await fetch(`${server?.url}/metrics`));
    expect((await fetch(`${server?.url}/healthz`)).status).toBe(200);
  });

  it('answers beyond loopback with the token', async () => {
    const warnings = await start({ host: '0.0.0.0', 'metrics-token': 'tok' });
    expect(warnings.filter((w) => w.includes('/metrics'))).toEqual([]);
    expect((await fetch(`${server?.url}/metrics`, { headers: { authorization: 'Bearer tok' } })).status).toBe(200);
  });
});

describe('LIVE.100011007 refusals', () => {
  let app: TestApp | undefined;
  afterAll(async () => app?.close());

  it('are counted', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const metrics = new Metrics({ defaultMetrics: false });
    const base = await startTestApp();
    // The real SQLite store with its query held open (no real part can wait on demand).
    let held = 0;
    const store: Store = new Proxy(base.store, {
      get(target, prop, receiver) {
        if (prop === 'queryHttpCodes') return async (f: Parameters<Store['queryHttpCodes']>[0]) => (held++, await gate, base.store.queryHttpCodes(f));
        // The rendered-body read the route prefers, held the same way.
        if (prop === 'httpCodesBody' && base.store.httpCodesBody) {
          const read = base.store.httpCodesBody.bind(base.store);
          return async (...args: Parameters<NonNullable<Store['httpCodesBody']>>) => (held++, await gate, read(...args));
        }
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    app = await startTestApp({ store, maxConcurrentQueries: 1, metrics: { registry: metrics, access: new MetricsAccess({ host: '127.0.0.1' }) } });
    const slow = app.request('/v2/p/stats/httpcodes?play_domains=a.com');
    // It holds the one slot (it reached the store) before the others are asked: a condition, not a sleep.
    expect(await waitFor(() => held === 1, 30_000, 5)).toBe(true);
    expect((await app.request('/v2/p/stats/httpcodes?play_domains=b.com')).status).toBe(500);
    expect((await app.request('/v2/p/stats/httpcodes?play_domains=c.com')).status).toBe(500);
    release();
    expect((await slow).status).toBe(200);
    const text = (await app.request('/metrics')).text;
    expect(sampleValue(text, 'livestats_api_queries_rejected_total')).toBe(2);
    expect(sampleValue(text, 'livestats_http_request_duration_seconds_count{method="GET",route="/v2/:project_id/stats/httpcodes",status="500"}')).toBe(2);
    await base.close();
  });
});
