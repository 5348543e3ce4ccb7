import { mkdirSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredentials } from '../src/auth/credentials.js';
import { resolveServeConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { tempDir } from './helpers/tmp.js';

/**
 * Extreme input at the audience side's ways in (issue 21) and at the query parameters of the
 * eleven GETs issues 21 and 23 added, over real HTTP on a real SQLite store: $request_time and
 * $msec negative, NaN, 1e308, near 2^53, spanning years, in the future; HLS viewers with many
 * distinct IPs and streams; page numbers and limits near 2^53, 10,000 domains, 100 KB query strings,
 * unicode. Every refusal is the registry's exact envelope naming the parameter (never a 500), every
 * dropped or cut line is counted by reason, nothing else moves. LIVESTATS_EXTREME_FULL=1 makes the
 * volume variants big (a million distinct HLS client IPs; see package.json: test:extreme).
 */
const FULL = process.env.LIVESTATS_EXTREME_FULL === '1';
const NOW = Date.UTC(2028, 2, 1, 12, 0, 30, 250);
const invalid = (name: string): unknown => ({ error_code: 'LIVE.100011001', error_msg: `Invalid request parameter: ${name}` });
const FORMAT = "'$remote_addr $msec $request_time $status $bytes_sent $host \"$request\"'";

const tmp = tempDir('extreme-audience');
const tokens = new Map<string, string>();
let server: RunningServer;
beforeAll(async () => {
  const data = `${tmp.dir}/data`;
  mkdirSync(data, { recursive: true });
  for (const p of ['p1', 'p2', 'p3']) tokens.set(p, createCredentials(data, p).token);
  server = await startServer(resolveServeConfig({ port: '0', data, 'log-level': 'silent', 'query-cache-ms': '0', 'probe-max-streams': '0' }, {}),
    { logger: pino({ level: 'silent' }), now: () => NOW });
}, 60_000);
afterAll(async () => {
  await server?.close();
  tmp.remove();
});

/** A request over a real socket with the token of the path's project. */
const app = {
  async request(path: string, init: RequestInit = {}): Promise<{ status: number; json: unknown; text: string }> {
    const project = /^\/(?:v\d|ingest\/v1)\/([^/]+)\//.exec(path)?.[1] ?? '';
    const res = await fetch(server.url + path, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), 'X-Auth-Token': tokens.get(project) ?? '' } });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json, text };
  },
};

/** livestats_ingest_audience_dropped_total of HTTP ingest by reason, from /metrics. */
async function notes(): Promise<Record<string, number>> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^livestats_ingest_audience_dropped_total\{source="http",reason="([a-z_]+)"\} (\d+)$/gm)) out[m[1] as string] = Number(m[2]);
  return out;
}

interface Report { accepted: number; dropped?: Record<string, number>; notes?: Record<string, unknown> }
async function ingest(project: string, lines: string[]): Promise<Report> {
  const res = await app.request(`/ingest/v1/${project}/access-logs?format=${encodeURIComponent(FORMAT)}`, {
    method: 'POST', body: `${lines.join('\n')}\n`, headers: { 'content-type': 'text/plain' },
  });
  expect(res.status, res.text).toBe(200);
  return res.json as Report;
}
async function json(path: string): Promise<{ status: number; body: unknown }> {
  const r = await app.request(path);
  return { status: r.status, body: r.json };
}

const at = (iso: string): string => (Date.parse(iso) / 1000).toFixed(3);
const flv = (ip: string, msec: string, requestTime: string, stream = 'cam1', domain = 'x.example.com'): string =>
  `${ip} ${msec} ${requestTime} 200 1000 ${domain} "GET /live/${stream}.flv HTTP/1.1"`;

describe('ingest: $request_time and $msec at the extremes', () => {
  it('negative, NaN, 1e308, near 2^53 and years-long request times: each line counted once, spans cut at the retention (counted), answers exact', async () => {
    const end = at('2028-03-01T11:00:00Z');
    const before = await notes();
    const report = await ingest('p1', [
      flv('203.0.113.1', end, '60.000'), // 10:59-11:00: the reference viewer
      flv('203.0.113.2', end, '-5'), // bad: its end minute only
      flv('203.0.113.3', end, 'NaN'),
      flv('203.0.113.4', end, '1e308'), // cut at the retention
      flv('203.0.113.5', end, '9007199254740993'),
      flv('203.0.113.6', end, String(3 * 365 * 86_400)), // a session spanning 3 years
      flv('203.0.113.7', end, 'Infinity'),
      flv('203.0.113.8', end, '-'),
    ]);
    expect(report.accepted).toBe(8);
    const users = await json('/v2/p1/stats/user?play_domain=x.example.com&start_time=2028-03-01T10:58:00Z&end_time=2028-03-01T11:01:00Z');
    expect(users.status).toBe(200);
    const values = (users.body as { data_list: Array<{ value: number }> }).data_list.map((d) => d.value);
    // 10:58 and 10:59: the three cut sessions (1e308, 2^53, 3 years) run through them; 10:59 adds the reference viewer.
    expect(values[0]).toBe(3);
    expect(values[1]).toBe(4);
    // 11:00: the lines without a usable request time count in their end minute only.
    expect(values[2]).toBe(4);
    const after = await notes();
    const grew = (note: string): number => (after[note] ?? 0) - (before[note] ?? 0);
    expect({ span_cut: grew('span_cut'), bad_request_time: grew('bad_request_time'), no_request_time: grew('no_request_time') })
      .toEqual({ span_cut: 3, bad_request_time: 2, no_request_time: 2 }); // -5 and Infinity are bad; NaN and '-' are no request time
    // A month back (the retention's edge): only the cut sessions.
    const early = await json('/v2/p1/stats/user?play_domain=x.example.com&interval=300&start_time=2028-02-01T00:00:00Z&end_time=2028-03-01T12:00:00Z');
    expect(early.status).toBe(200);
    const list = (early.body as { data_list: Array<{ value: number }> }).data_list;
    expect(Math.max(...list.map((d) => d.value))).toBeLessThanOrEqual(4);
  });

  it('$msec in the future, near 2^53, negative or not a number: the line is dropped with a reason, the batch\'s other lines are counted', async () => {
    const report = await ingest('p2', [
      flv('198.51.100.1', at('2028-03-01T11:30:00Z'), '30', 'ok'),
      flv('198.51.100.2', '9007199254740.993', '30', 'f1'),
      flv('198.51.100.3', '1e308', '30', 'f2'),
      flv('198.51.100.4', at('2029-03-01T11:30:00Z'), '30', 'f3'),
      flv('198.51.100.5', '-1700000000.000', '30', 'f4'),
      flv('198.51.100.6', 'NaN', '30', 'f5'),
      flv('198.51.100.7', '0.000', '30', 'f6'),
    ]);
    expect(report.accepted).toBe(1);
    const dropped = Object.values(report.dropped ?? {}).reduce((x, y) => x + y, 0);
    expect(dropped).toBe(6);
    const info = await json('/v2/p2/stats/stream/play-info?time=2028-03-01T11:29:00Z');
    expect(info.status).toBe(200);
    expect((info.body as { data_list: Array<{ stream: string }> }).data_list.map((s) => s.stream)).toEqual(['ok']);
  });
});

describe('ingest: many distinct HLS viewers and streams', () => {
  it('distinct client IPs are counted exactly (user_count), streams each listed, across batches and retried batches', async () => {
    const ips = FULL ? 1_000_000 : 20_000;
    const streams = FULL ? 50_000 : 2000;
    const minute = Date.UTC(2028, 1, 29, 10, 0, 0) / 1000;
    const ip = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const batch = 50_000;
    for (let from = 0; from < ips; from += batch) {
      const lines: string[] = [];
      for (let i = from; i < Math.min(ips, from + batch); i++) {
        lines.push(`${ip(i)} ${(minute + (i % 60)).toFixed(3)} 0.100 200 100 h.example.com "GET /live/s${i % streams}/seg${i}.ts HTTP/1.1"`);
      }
      const headers = { 'content-type': 'text/plain', 'X-Batch-Id': `hls-${from}` };
      const path = `/ingest/v1/p3/access-logs?format=${encodeURIComponent(FORMAT)}`;
      const first = await app.request(path, { method: 'POST', body: `${lines.join('\n')}\n`, headers });
      expect(first.status, first.text).toBe(200);
      // The same batch retried: acknowledged, counted once.
      const retry = await app.request(path, { method: 'POST', body: `${lines.join('\n')}\n`, headers });
      expect(retry.status, retry.text).toBe(200);
    }
    const portrait = await json('/v2/p3/stats/stream-portraits?play_domain=h.example.com&time=20280229');
    expect(portrait.status).toBe(200);
    expect(JSON.stringify(portrait.body)).toContain(`"user_count":${ips}`);
    const info = await json('/v2/p3/stats/stream/play-info?time=2028-02-29T10:00:00Z');
    expect(info.status).toBe(200);
    const entries = (info.body as { data_list: Array<{ stream: string; online: number }> }).data_list;
    expect(new Set(entries.map((e) => e.stream)).size).toBe(streams);
  }, 600_000);
});

const BIG = 9007199254740993n.toString();
const NEAR = Number.MAX_SAFE_INTEGER.toString();
const many = (name: string, n: number): string => Array.from({ length: n }, (_, i) => `${name}=d${i}.example.com`).join('&');

/** [path with a valid query, the parameter mutated, values that must each be a 400 naming it]. */
const CASES: Array<[string, string, string[]]> = [
  ['/v2/p1/stats/user?interval=60', 'play_domain', ['', 'x'.repeat(254), 'a b.com', 'a\u0000b.com', '..', 'a/b']],
  ['/v2/p1/stats/user?play_domain=x.example.com', 'stream', ['x'.repeat(257), 'a/b', 'a\u0001b', 'y'.repeat(14_000)]],
  ['/v2/p1/stats/user?play_domain=x.example.com', 'interval', [BIG, NEAR, '-60', '0', '60.0', '6e1', '１２０', 'NaN']],
  ['/v2/p1/stats/user?play_domain=x.example.com', 'start_time', ['9999-12-31T23:59:59Z', '0000-01-01T00:00:00Z', '2028-02-30T00:00:00Z', '+275760-09-13T00:00:00Z', NEAR, '1e308']],
  ['/v2/p1/stats/user?play_domain=x.example.com', 'end_time', ['2028-03-01T12:00:00.000000001Z', '１']],
  ['/v2/p1/stats/user?play_domain=x.example.com', 'protocol', ['FLV\u0000', 'ｆｌｖ', 'x'.repeat(10_000)]],
  ['/v2/p1/stats/stream/play-info?time=2028-03-01T11:00:00Z', 'time', [NEAR, '2028-03-01T11:00:00.5Z', '9999-12-31T23:59:00Z', '-2028-03-01T11:00:00Z']],
  ['/v2/p1/stats/stream-portraits?play_domain=x.example.com', 'time', [NEAR, '99999999', '00000000', '20280230', '２０２８０２２９', '-2028022']],
  ['/v1/p1/realtime/streams?publish_domain=x.example.com', 'offset', [BIG, NEAR, '-1', '1e3', '0x10', '１', '99999999999999999999999']],
  ['/v1/p1/realtime/streams?publish_domain=x.example.com', 'limit', ['0', '-1', '101', BIG, NEAR, '1.5', '１０']],
  ['/v2/p1/stats/history/streams?domain=x.example.com', 'offset', [BIG, NEAR, '-1']],
  ['/v2/p1/stats/history/streams?domain=x.example.com', 'limit', ['0', BIG, '-5']],
  ['/v2/p1/stats/up-bandwidth/detail?publish_domains=x.example.com', 'interval', [BIG, NEAR, '0', '-300', '300.0']],
  ['/v2/p1/stats/up-bandwidth/detail?publish_domains=x.example.com', 'type', ['relay\u0000', 'x'.repeat(10_000)]],
  ['/v2/p1/stats/stream/bitrate?domain=x.example.com&app=live&stream=s', 'type', ['VIDEO\u0000', 'ｖｉｄｅｏ']],
  ['/v2/p1/stats/stream/framerate?domain=x.example.com&app=live', 'stream', ['x'.repeat(257), 'a/b']],
  ['/v2/p1/stats/stream-detail?publish_domain=x.example.com&stream=s', 'app', ['x'.repeat(257), '\u0000']],
  ['/v2/p1/stats/up-stream/detail?publish_domain=x.example.com&app=live&stream=s', 'start_time', [NEAR, '1e308', '0000-00-00T00:00:00Z']],
  ['/v2/p1/stats/stream-count?publish_domains=x.example.com', 'end_time', [NEAR, '99999-01-01T00:00:00Z']],
];

describe('query parameters at the extremes: a 400 naming the parameter, the exact envelope, never a 500', () => {
  it('each mutated value of each endpoint', async () => {
    let tried = 0;
    const wrong: string[] = [];
    for (const [base, name, values] of CASES) {
      for (const v of values) {
        const r = await json(`${base}&${name}=${encodeURIComponent(v)}`);
        tried++;
        if (r.status !== 400 || JSON.stringify(r.body) !== JSON.stringify(invalid(name))) {
          wrong.push(`${base.split('?')[0]} ${name}=${JSON.stringify(v.slice(0, 40))}: ${r.status} ${JSON.stringify(r.body).slice(0, 120)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(tried).toBeGreaterThan(70);
  });

  it('thousands of domains where at most 100 are taken: 400 naming the list, on every list parameter; 10,000 overflow the request head (431)', async () => {
    for (const [path, name] of [
      ['/v2/p1/stats/stream/play-info?time=2028-03-01T11:00:00Z', 'play_domains'],
      ['/v2/p1/stats/history/streams?', 'domain'],
      ['/v2/p1/stats/stream-count?', 'publish_domains'],
      ['/v2/p1/stats/up-bandwidth/detail?', 'publish_domains'],
    ] as const) {
      // 10,000 names do not fit Node's 16 KB request head even as `a,a,...`: 2,000 distinct short ones do, and 300 repeated ones
      // (copies of one name are one domain: 5,000 times `a` is a list of one).
      for (const q of [`${name}=${Array.from({ length: 2000 }, (_, i) => `a${i}`).join(',')}`, many(name, 300)]) {
        const r = await json(`${path}&${q}`);
        expect({ name, status: r.status, body: r.body }).toEqual({ name, status: 400, body: invalid(name) });
      }
      const r = await json(`${path}&${name}=${Array.from({ length: 10_000 }, () => 'a').join(',')}`);
      expect({ name, status: r.status, body: r.body }).toEqual({ name, status: 431, body: invalid('headers') });
    }
    // A single-valued parameter given 300 times.
    const r = await json(`/v2/p1/stats/user?${many('play_domain', 300)}`);
    expect(r).toEqual({ status: 400, body: invalid('play_domain') });
  });

  it('a 100 KB query string is refused at the request head in the envelope (431, headers); the next request is served', async () => {
    for (const path of ['/v2/p1/stats/user', '/v2/p1/stats/stream/play-info', '/v2/p1/stats/stream-portraits', '/v1/p1/realtime/streams', '/v2/p1/stats/history/streams']) {
      const r = await json(`${path}?play_domain=x.example.com&pad=${'x'.repeat(100_000)}`);
      expect(r).toEqual({ status: 431, body: invalid('headers') });
    }
    const ok = await json('/v2/p1/stats/user?play_domain=x.example.com');
    expect(ok.status).toBe(200);
  });

  it('unicode play domains (IDNA) are answered; the answers of valid extremes are 200 with empty pages', async () => {
    for (const path of [
      `/v2/p1/stats/user?play_domain=${encodeURIComponent('直播.例子.中国')}`,
      `/v1/p1/realtime/streams?publish_domain=x.example.com&offset=1000000&limit=100`,
      `/v2/p1/stats/history/streams?domain=x.example.com&offset=1000000&limit=1`,
    ]) {
      const r = await json(path);
      expect({ path, status: r.status }).toEqual({ path, status: 200 });
    }
  });
});
