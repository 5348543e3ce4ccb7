import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { STATUS_CLASSES } from '../src/metrics/domains.js';
import { resolveServeConfig } from '../src/config.js';
import { projectRoot } from '../src/paths.js';
import { startServer, type RunningServer } from '../src/server.js';
import { startPrometheus, type PrometheusServer } from './harness/prometheus.js';
import { postKnownTraffic, TASK } from './helpers/traffic.js';
import { tempDir, waitFor } from './ingest-helpers.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('prometheus');

/**
 * A real Prometheus (Debian's package, own port and TSDB) scrapes a real `livestats serve`
 * (real credentials, real SQLite) every second and evaluates the shipped rules; after known log
 * lines are ingested, Prometheus' HTTP API answers the same per-domain counts as the stats API.
 */
const dir = tempDir('prom-e2e');
let server: RunningServer;
let prometheus: PrometheusServer;
let token: string;
/** The project of the first-start credentials. */
const P = 'default';
const METRICS_TOKEN = 'e2e-scrape-token';

beforeAll(async () => {
  // with a metrics token, which Prometheus sends as its bearer credentials
  server = await startServer(resolveServeConfig({ port: '0', data: join(dir, 'data') }, { LIVESTATS_METRICS_TOKEN: METRICS_TOKEN }), { logger: pino({ level: 'silent' }) });
  token = server.auth.issued?.token ?? '';
  expect(token).not.toBe('');
  prometheus = await startPrometheus({
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: [join(projectRoot(), 'deploy', 'prometheus', 'livestats.rules.yml')],
    scrape_configs: [{
      job_name: 'livestats', static_configs: [{ targets: [server.url.replace('http://', '')] }],
      authorization: { type: 'Bearer', credentials: METRICS_TOKEN },
    }],
  });
});
afterAll(async () => {
  await prometheus?.stop();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Requests per domain and status class, summed over the window, as the stats API answers them. */
async function statsApiCounts(project: string, domains: string[], from: number, to: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const domain of domains) {
    const q = new URLSearchParams({
      play_domains: domain, start_time: new Date(from).toISOString().slice(0, 19) + 'Z', end_time: new Date(to).toISOString().slice(0, 19) + 'Z',
    });
    const res = await fetch(`${server.url}/v2/${project}/stats/httpcodes?${q}`, { headers: { 'x-auth-token': token } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data_series: Array<{ http_codes: Array<{ code: number; count: number }> }> };
    for (const s of body.data_series) {
      for (const c of s.http_codes) {
        const key = `${domain} ${STATUS_CLASSES[Math.floor(c.code / 100) - 1]}`;
        out[key] = (out[key] ?? 0) + c.count;
      }
    }
  }
  return out;
}

async function prometheusCounts(project: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const r of await prometheus.query(`sum by (domain, class) (livestats_domain_requests_total{project="${project}"})`)) {
    const n = Number(r.value[1]);
    if (n > 0) out[`${r.metric.domain} ${r.metric.class}`] = n;
  }
  return out;
}

it('Prometheus answers the same per-domain counts as the stats API', async () => {
  expect((await fetch(`${server.url}/metrics`)).status).toBe(401); // the token is required
  expect(await waitFor(async () => (await prometheus.targets()).some((t) => t.health === 'up'), 20_000, 200)).toBe(true);
  const t = Date.now() - 60_000;
  await postKnownTraffic(server.url, P, { 'x-auth-token': token }, t);

  // the IDNA domain is stored, queried and labelled in its ASCII form
  const domains = ['play.example.com', 'xn--fsqu00a.com', 'hls.example.com'];
  const api = await statsApiCounts(P, domains, t - 3600_000, Date.now());
  expect(api).toEqual({
    'play.example.com 2xx': 54, 'play.example.com 4xx': 7, 'play.example.com 5xx': 3,
    'xn--fsqu00a.com 2xx': 20, 'xn--fsqu00a.com 5xx': 5, 'hls.example.com 3xx': 2,
  });
  let seen: Record<string, number> = {};
  const same = await waitFor(async () => {
    seen = await prometheusCounts(P);
    return JSON.stringify(Object.entries(seen).sort()) === JSON.stringify(Object.entries(api).sort());
  }, 30_000, 250);
  expect(seen).toEqual(api);
  expect(same).toBe(true);

  // lines per source and reason, and a task id with ':' and '@' intact through the exposition
  expect((await prometheus.query('livestats_ingest_lines_accepted_total{source="http"}')).map((r) => r.value[1])).toEqual(['91']);
  expect((await prometheus.query('livestats_ingest_lines_dropped_total{source="http",reason="parse"}')).map((r) => r.value[1])).toEqual(['1']);
  expect(await waitFor(async () => (await prometheus.query('livestats_carousel_video_kbps')).length > 0, 10_000, 250)).toBe(true);
  const kbps = await prometheus.query('livestats_carousel_video_kbps');
  expect(kbps.map((r) => [r.metric.project, r.metric.task, r.value[1]])).toEqual([[P, TASK, '1502']]);
});

it('Prometheus loads and evaluates the shipped rules', async () => {
  const SHIPPED_RULES = (readFileSync(join(projectRoot(), 'deploy', 'prometheus', 'livestats.rules.yml'), 'utf8').match(/^\s+- (alert|record):/gm) ?? []).length;
  expect(SHIPPED_RULES).toBeGreaterThanOrEqual(9);
  const ok = await waitFor(async () => {
    const res = await fetch(`${prometheus.url}/api/v1/rules`);
    const body = (await res.json()) as { data: { groups: Array<{ rules: Array<{ name: string; health: string; lastEvaluation: string }> }> } };
    const all = body.data.groups.flatMap((g) => g.rules);
    return all.length === SHIPPED_RULES && all.every((r) => r.health === 'ok' && !r.lastEvaluation.startsWith('0001'));
  }, 60_000, 250);
  expect(ok).toBe(true);
});
