import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { sampleValue } from '../../test/helpers/exposition.js';
import { tempDir } from '../../test/helpers/tmp.js';
import { StoreHealth } from '../health/store-health.js';
import { Aggregator, type AccessRecord } from '../ingest/aggregator.js';
import { SqliteStore } from '../store/sqlite/store.js';
import type { Store, WriteBatch } from '../store/types.js';
import { Metrics } from './registry.js';

const T = Date.UTC(2026, 0, 1, 10, 0, 0);
const rec = (over: Partial<AccessRecord> = {}): AccessRecord => ({
  project: 'p1', domain: 'a.com', time: T, region: 'GD', isp: 'CMCC', code: 200, ...over,
});

const value = sampleValue;

let tmp: ReturnType<typeof tempDir>;
let store: SqliteStore;
beforeEach(async () => {
  tmp = tempDir();
  store = new SqliteStore(join(tmp.dir, 'x.db'));
  await store.init();
});
afterEach(async () => {
  await store.close();
  tmp.remove();
});

it('counts committed requests per domain and status class, and the newest sample per task', async () => {
  let now = T + 10_000;
  const metrics = new Metrics({ store, now: () => now, defaultMetrics: false });
  const agg = new Aggregator(store, { observer: metrics.flushObserver });
  metrics.aggregator.watch(() => agg.stats());
  agg.add(rec(), 7);
  agg.add(rec({ code: 206 }), 3);
  agg.add(rec({ code: 503, region: 'BJ' }), 2);
  agg.add(rec({ domain: 'b.com', code: 404 }), 5);
  agg.add(rec({ project: 'p2', code: 302 }), 1);
  agg.addSample({ project: 'p1', taskId: 't1', second: T + 1000, videoFps: 25, videoKbps: 1500, audioFps: 43, audioKbps: 128 });
  agg.addSample({ project: 'p1', taskId: 't1', second: T, videoFps: 24, videoKbps: 1400, audioFps: 43, audioKbps: 127 });
  let text = await metrics.text();
  expect(value(text, 'livestats_aggregator_pending_records')).toBe(20);
  expect(value(text, 'livestats_domain_requests_total{project="p1",domain="a.com",class="2xx"}')).toBeUndefined();
  await agg.flush();
  now = T + 4_500;
  text = await metrics.text();
  expect(value(text, 'livestats_aggregator_pending_records')).toBe(0);
  expect(value(text, 'livestats_domain_requests_total{project="p1",domain="a.com",class="2xx"}')).toBe(10);
  expect(value(text, 'livestats_domain_requests_total{project="p1",domain="a.com",class="5xx"}')).toBe(2);
  expect(value(text, 'livestats_domain_requests_total{project="p1",domain="a.com",class="4xx"}')).toBe(0);
  expect(value(text, 'livestats_domain_requests_total{project="p1",domain="b.com",class="4xx"}')).toBe(5);
  expect(value(text, 'livestats_domain_requests_total{project="p2",domain="a.com",class="3xx"}')).toBe(1);
  expect(value(text, 'livestats_carousel_video_kbps{project="p1",task="t1"}')).toBe(1500);
  expect(value(text, 'livestats_carousel_video_fps{project="p1",task="t1"}')).toBe(25);
  expect(value(text, 'livestats_carousel_audio_fps{project="p1",task="t1"}')).toBe(43);
  expect(value(text, 'livestats_carousel_audio_kbps{project="p1",task="t1"}')).toBe(128);
  expect(value(text, 'livestats_carousel_sample_age_seconds{project="p1",task="t1"}')).toBe(3.5);
  expect(value(text, 'livestats_aggregator_flush_duration_seconds_count{outcome="ok"}')).toBe(1);
  expect(value(text, 'livestats_aggregator_last_flush_success_timestamp_seconds')).toBe((T + 10_000) / 1000);
  expect(value(text, 'livestats_store_up{store="sqlite"}')).toBe(1);
});

it('folds domains and tasks beyond the budget and counts how many were folded', async () => {
  const metrics = new Metrics({ maxSeries: 2, defaultMetrics: false });
  const agg = new Aggregator(store, { observer: metrics.flushObserver });
  for (const d of ['a.com', 'b.com', 'c.com', 'd.com']) agg.add(rec({ domain: d }), 2);
  for (const t of ['t1', 't2', 't3']) agg.addSample({ project: 'p1', taskId: t, second: T, videoFps: 1, videoKbps: 1, audioFps: 1, audioKbps: 1 });
  await agg.flush();
  agg.add(rec({ domain: 'c.com' }), 1); // already folded: not counted as folded again
  await agg.flush();
  const text = await metrics.text();
  expect(value(text, 'livestats_domain_requests_total{project="p1",domain="a.com",class="2xx"}')).toBe(2);
  expect(value(text, 'livestats_domain_requests_total{project="p1",domain="b.com",class="2xx"}')).toBe(2);
  expect(value(text, 'livestats_domain_requests_total{project="p1",domain="_other",class="2xx"}')).toBe(5);
  expect(text).not.toContain('domain="c.com"');
  expect(value(text, 'livestats_metrics_folded_series_total{project="p1",kind="domain"}')).toBe(2);
  expect(value(text, 'livestats_metrics_folded_series_total{project="p1",kind="task"}')).toBe(1);
  expect(text).toContain('task="t2"');
  expect(text).not.toContain('task="t3"');
});

it('counts a refused write as a failure and never counts its batch (SQLite: nothing of it was applied)', async () => {
  let down = true;
  const flaky: Store = Object.assign(Object.create(store) as Store, {
    write: async (b: WriteBatch) => {
      if (down) throw new Error('store down');
      await store.write(b);
    },
  });
  const metrics = new Metrics({ defaultMetrics: false });
  const agg = new Aggregator(flaky, { observer: metrics.flushObserver });
  metrics.aggregator.watch(() => agg.stats());
  agg.add(rec({ code: 500, domain: 'refused.com' }), 4);
  await expect(agg.flush()).rejects.toThrow('store down');
  let text = await metrics.text();
  expect(value(text, 'livestats_aggregator_flush_failures_total')).toBe(1);
  expect(value(text, 'livestats_aggregator_flush_retries_total')).toBe(0);
  expect(value(text, 'livestats_aggregator_pending_batches')).toBe(0);
  expect(value(text, 'livestats_aggregator_flush_duration_seconds_count{outcome="failed"}')).toBe(1);
  down = false;
  agg.add(rec({ code: 500, domain: 'landed.com' }), 2);
  await agg.flush();
  text = await metrics.text();
  expect(text).not.toContain('domain="refused.com"');
  expect(value(text, 'livestats_domain_requests_total{project="p1",domain="landed.com",class="5xx"}')).toBe(2);
  await agg.stop();
});

it('counts retries of a write in doubt, and the batch is counted once when it finally lands', async () => {
  let down = true;
  // A store that may have applied part of a failed write (as ClickHouse may): the batch is kept and retried as-is.
  const inDoubt: Store = Object.assign(Object.create(store) as Store, {
    kind: 'clickhouse',
    write: async (b: WriteBatch) => {
      if (down) throw new Error('store down');
      await store.write(b);
    },
  });
  const metrics = new Metrics({ defaultMetrics: false });
  const agg = new Aggregator(inDoubt, { observer: metrics.flushObserver });
  metrics.aggregator.watch(() => agg.stats());
  agg.add(rec({ code: 500 }), 4);
  await expect(agg.flush()).rejects.toThrow('store down');
  await expect(agg.flush()).rejects.toThrow('store down');
  let text = await metrics.text();
  expect(value(text, 'livestats_aggregator_flush_failures_total')).toBe(2);
  expect(value(text, 'livestats_aggregator_flush_retries_total')).toBe(1);
  expect(value(text, 'livestats_aggregator_pending_batches')).toBe(1);
  expect(value(text, 'livestats_aggregator_flush_duration_seconds_count{outcome="failed"}')).toBe(2);
  expect(text).not.toContain('domain="a.com"');
  down = false;
  await agg.flush();
  text = await metrics.text();
  expect(value(text, 'livestats_aggregator_flush_retries_total')).toBe(2);
  expect(value(text, 'livestats_aggregator_pending_batches')).toBe(0);
  expect(value(text, 'livestats_domain_requests_total{project="p1",domain="a.com",class="5xx"}')).toBe(4);
  await agg.stop();
});

it('adds recorded runs and tracked running totals of ingest lines per source and reason', async () => {
  const metrics = new Metrics({ defaultMetrics: false });
  metrics.ingest.record('http', { lines: 5, accepted: 4, dropped: { parse: 1 } });
  const running = { lines: 3, accepted: 2, dropped: { future: 1 } };
  metrics.ingest.track('syslog', () => running);
  let text = await metrics.text();
  expect(value(text, 'livestats_ingest_lines_accepted_total{source="http"}')).toBe(4);
  expect(value(text, 'livestats_ingest_lines_dropped_total{source="http",reason="parse"}')).toBe(1);
  expect(value(text, 'livestats_ingest_lines_dropped_total{source="http",reason="too_old"}')).toBe(0);
  expect(value(text, 'livestats_ingest_lines_accepted_total{source="syslog"}')).toBe(2);
  expect(value(text, 'livestats_ingest_lines_accepted_total{source="batch"}')).toBe(0);
  running.accepted = 10;
  running.dropped.future = 3;
  text = await metrics.text();
  text = await metrics.text(); // a second scrape adds nothing new
  expect(value(text, 'livestats_ingest_lines_accepted_total{source="syslog"}')).toBe(10);
  expect(value(text, 'livestats_ingest_lines_dropped_total{source="syslog",reason="future"}')).toBe(3);
});

it('counts stream lines whose audience part was cut or left out, per source and reason, recorded and tracked', async () => {
  const metrics = new Metrics({ defaultMetrics: false });
  metrics.ingest.record('batch', { lines: 3, accepted: 3, dropped: {}, audience: { no_request_time: 2, span_cut: 1 } });
  const running = { lines: 4, accepted: 4, dropped: {}, audience: { no_client_ip: 1 } };
  metrics.ingest.track('follow', () => running);
  let text = await metrics.text();
  expect(value(text, 'livestats_ingest_audience_dropped_total{source="batch",reason="no_request_time"}')).toBe(2);
  expect(value(text, 'livestats_ingest_audience_dropped_total{source="batch",reason="span_cut"}')).toBe(1);
  expect(value(text, 'livestats_ingest_audience_dropped_total{source="http",reason="bad_request_time"}')).toBe(0);
  expect(value(text, 'livestats_ingest_audience_dropped_total{source="follow",reason="no_client_ip"}')).toBe(1);
  running.audience.no_client_ip = 5;
  text = await metrics.text();
  text = await metrics.text(); // a second scrape adds nothing new
  expect(value(text, 'livestats_ingest_audience_dropped_total{source="follow",reason="no_client_ip"}')).toBe(5);
  // Capped: one series per source and reason, whatever the input.
  expect(text.split('\n').filter((l) => l.startsWith('livestats_ingest_audience_dropped_total{')).length).toBe(4 * 4);
});

it('escapes label values per the exposition format', async () => {
  const metrics = new Metrics({ defaultMetrics: false });
  const agg = new Aggregator(store, { observer: metrics.flushObserver });
  agg.addSample({ project: 'p1', taskId: 'cam:1@edge-7', second: T, videoFps: 25, videoKbps: 900, audioFps: 43, audioKbps: 96 });
  agg.add(rec({ domain: 'xn--fsqu00a.com' }), 1);
  // Not a name ingest or the API would accept: checks prom-client's escaping of \, " and newline.
  agg.add(rec({ domain: 'we"ird\\name\nx' }), 1);
  await agg.flush();
  const text = await metrics.text();
  expect(value(text, 'livestats_carousel_video_kbps{project="p1",task="cam:1@edge-7"}')).toBe(900);
  expect(value(text, 'livestats_domain_requests_total{project="p1",domain="xn--fsqu00a.com",class="2xx"}')).toBe(1);
  expect(value(text, 'livestats_domain_requests_total{project="p1",domain="we\\"ird\\\\name\\nx",class="2xx"}')).toBe(1);
});

it('livestats_store_up is 0 while the store health is degraded, though its reads answer (as /healthz says)', async () => {
  const health = new StoreHealth();
  const metrics = new Metrics({ store, health, defaultMetrics: false });
  expect(value(await metrics.registry.metrics(), 'livestats_store_up{store="sqlite"}')).toBe(1);
  health.writeFailed(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
  expect(value(await metrics.registry.metrics(), 'livestats_store_up{store="sqlite"}')).toBe(0);
  health.writeSucceeded();
  expect(value(await metrics.registry.metrics(), 'livestats_store_up{store="sqlite"}')).toBe(1);
});
