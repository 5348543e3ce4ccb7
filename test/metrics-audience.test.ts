import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Metrics } from '../src/metrics/registry.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import type { WriteBatch } from '../src/store/types.js';
import { audienceOf, D, FORMAT, LINES } from './fixtures/audience-log.js';
import { batch } from './store-conformance.js';
import { tempDir } from './helpers/tmp.js';

/**
 * livestats_domain_online_viewers over a real SQLite audience cube holding the known log of
 * test/fixtures/audience-log.ts, scraped at 10:01:30 on its day (the last complete minute is 10:00):
 * d.example.com has 2 HTTP-FLV sessions and 2 HLS viewers then, a.example.com 4 HLS viewers (one IP,
 * four streams). With one series per project, the second domain folds into domain="_other".
 */
const tmp = tempDir();
let store: SqliteStore;
let written: WriteBatch;
beforeAll(async () => {
  store = new SqliteStore(join(tmp.dir, 'livestats.db'));
  await store.init();
  written = batch({ audience: audienceOf(FORMAT, LINES).audience });
  await store.write(written);
});
afterAll(async () => {
  await store.close();
  tmp.remove();
});

const now = (): number => D + 10 * 3_600_000 + 90_000;
const gauge = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('livestats_domain_online_viewers{')).sort();

it('per domain and protocol, for the projects whose audience data was committed', async () => {
  const metrics = new Metrics({ store, now, defaultMetrics: false });
  expect(gauge(await metrics.text())).toEqual([]);
  metrics.flushObserver.written(written, 0.01, 1);
  expect(gauge(await metrics.text())).toEqual([
    'livestats_domain_online_viewers{project="p1",domain="a.example.com",protocol="hls"} 4',
    'livestats_domain_online_viewers{project="p1",domain="d.example.com",protocol="flv"} 2',
    'livestats_domain_online_viewers{project="p1",domain="d.example.com",protocol="hls"} 2',
  ]);
});

it('capped like the other per-domain series: beyond --metrics-max-series, domain="_other"', async () => {
  const metrics = new Metrics({ store, now, defaultMetrics: false, maxSeries: 1 });
  metrics.flushObserver.written(written, 0.01, 1);
  const text = await metrics.text();
  expect(gauge(text)).toEqual([
    'livestats_domain_online_viewers{project="p1",domain="_other",protocol="flv"} 2',
    'livestats_domain_online_viewers{project="p1",domain="_other",protocol="hls"} 2',
    'livestats_domain_online_viewers{project="p1",domain="a.example.com",protocol="hls"} 4',
  ]);
  // The folded domain is counted while the gauge is collected, after the counter was written: the next scrape shows it.
  expect(await metrics.text()).toContain('livestats_metrics_folded_series_total{project="p1",kind="domain"} 1');
});
