import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { allowAll } from '../src/api/auth.js';
import { resolveServeConfig } from '../src/config.js';
import { projectRoot } from '../src/paths.js';
import { startServer, type RunningServer } from '../src/server.js';
import { promtool } from './harness/prometheus.js';
import { postKnownTraffic } from './helpers/traffic.js';
import { accessLine, tempDir } from './ingest-helpers.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('promtool');

/** The shipped alert rules, checked and unit-tested with Debian's real promtool. */
const deploy = join(projectRoot(), 'deploy', 'prometheus');
const RULES = join(deploy, 'livestats.rules.yml');
const TESTS = join(deploy, 'livestats.rules.test.yml');

interface RulesFile { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> }
interface TestsFile {
  tests: Array<{
    input_series: Array<{ series: string }>;
    alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }>;
  }>;
}
const rules = (parse(readFileSync(RULES, 'utf8')) as RulesFile).groups.flatMap((g) => g.rules);
const tests = (parse(readFileSync(TESTS, 'utf8')) as TestsFile).tests;

it('promtool check rules accepts the rules', async () => {
  const r = await promtool(['check', 'rules', RULES]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(r.stdout).toContain(`SUCCESS: ${rules.length} rules found`);
});

it('promtool check config accepts the example prometheus.yml (and the rules it loads)', async () => {
  const r = await promtool(['check', 'config', join(deploy, 'prometheus.yml')]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
});

it('promtool test rules: every alert fires and resolves as its unit tests say', async () => {
  const r = await promtool(['test', 'rules', TESTS]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(r.stdout).toContain('SUCCESS');
});

it('the unit tests cover every alert: not yet firing, firing, and resolved', () => {
  expect(rules.map((r) => r.alert).sort()).toEqual([
    'LivestatsCarouselNoSamples', 'LivestatsCarouselVideoBitrateZero', 'LivestatsDomain5xxShareHigh', 'LivestatsDomainViewersHalved',
    'LivestatsDown', 'LivestatsFlushFailing', 'LivestatsIngestDropShareHigh', 'LivestatsStreamDropped', 'LivestatsStreamFpsLow',
  ]);
  for (const { alert } of rules) {
    const checks = tests.flatMap((t) => t.alert_rule_test).filter((c) => c.alertname === alert);
    const outcomes = checks.map((c) => (c.exp_alerts.length > 0 ? 'firing' : 'none'));
    expect(outcomes, alert).toContain('firing');
    // quiet before it fires and after it resolves
    expect(outcomes[0], alert).toBe('none');
    expect(outcomes[outcomes.length - 1], alert).toBe('none');
  }
});

describe('against what livestats serves', () => {
  const dir = tempDir('prom-rules');
  let server: RunningServer;
  let exposition: string;
  beforeAll(async () => {
    server = await startServer(resolveServeConfig({ port: '0', data: join(dir, 'data'), 'log-level': 'silent' }, {}), { authenticate: allowAll });
    await postKnownTraffic(server.url, 'p1', {}, Date.now() - 60_000);
    // An HLS viewer in each of the last few minutes, so livestats_domain_online_viewers (the last complete minute) has a series.
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    const hls = [-3, -2, -1, 0].map((k) => accessLine(minute + k * 60_000 + 1000, { path: '/live/cam1.m3u8', ip: '198.51.100.7' }));
    const posted = await fetch(`${server.url}/ingest/v1/p1/access-logs?format=combined_host`, { method: 'POST', body: hls.join('\n'), headers: { 'content-type': 'text/plain' } });
    expect(posted.status).toBe(200);
    await fetch(`${server.url}/v2/p1/stats/httpcodes?play_domains=play.example.com`);
    // A live publish session and a probe's measurement, as the origin intake and the prober record them.
    const t = Date.now();
    await server.store.writeOrigin({ sessions: [{
      project: 'p1', id: 's1', domain: 'push.example.com', app: 'live', stream: 'cam1', clientIp: '127.0.0.1', type: 0, region: 'OT', isp: 'OTHER',
      videoCodec: 'H264', audioCodec: 'AAC', frameRate: 25, bitrate: 1500, width: 1280, height: 720, start: t - 60_000, end: null, origin: 'o1',
      updatedAt: t, bytesIn: 0,
    }], upBytes: [] });
    server.metrics.origin?.observeQuality([{
      project: 'p1', domain: 'push.example.com', app: 'live', stream: 'cam1', second: t - 5000, videoFps: 25, videoKbps: 1400, audioFps: 43,
      audioKbps: 128, gopMs: 2000, lastVideoPtsMs: 60_000, lastAudioPtsMs: 60_000, delayMs: 30,
    }]);
    const res = await fetch(`${server.url}/metrics`);
    exposition = await res.text();
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** name -> label-name sets of its samples, as served (histograms by their _bucket/_sum/_count lines). */
  const served = (): Map<string, Set<string>> => {
    const out = new Map<string, Set<string>>();
    for (const line of exposition.split('\n')) {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /.exec(line);
      if (!m) continue;
      const labels = [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"/g)].map((l) => l[1]).sort().join(',');
      const set = out.get(m[1] as string) ?? new Set<string>();
      set.add(labels);
      out.set(m[1] as string, set);
    }
    return out;
  };

  it('promtool check metrics accepts the exposition', async () => {
    expect(exposition).toContain('livestats_carousel_video_kbps{');
    const r = await promtool(['check', 'metrics'], exposition);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toBe('');
  });

  it('serves the online viewers of the last complete minute per domain and protocol', () => {
    expect(exposition).toMatch(/^livestats_domain_online_viewers\{project="p1",domain="play\.example\.com",protocol="hls"\} 1$/m);
  });

  it('the rules and their unit tests use only metric names livestats serves', () => {
    const names = served();
    for (const { alert, expr } of rules) {
      for (const [name] of expr.matchAll(/\blivestats_[a-z_]+\b/g)) expect(names.has(name), `${alert}: ${name}`).toBe(true);
    }
  });

  it('the unit tests feed series labelled exactly as livestats labels them', () => {
    const names = served();
    for (const t of tests) {
      for (const { series } of t.input_series) {
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\}$/.exec(series);
        expect(m, series).not.toBeNull();
        const name = (m as RegExpExecArray)[1] as string;
        if (name === 'up') continue; // added by Prometheus for every scrape
        const labels = [...((m as RegExpExecArray)[2] as string).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)=/g)]
          .map((l) => l[1]).filter((l) => l !== 'job' && l !== 'instance').sort().join(',');
        expect(names.get(name), series).toBeDefined();
        expect([...(names.get(name) ?? [])], series).toContain(labels);
      }
    }
  });
});
