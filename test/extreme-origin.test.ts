import { createServer, type Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredentials, type IssuedCredentials } from '../src/auth/credentials.js';
import { resolveServeConfig } from '../src/config.js';
import { parseRtmpStat } from '../src/origin/stat-xml.js';
import { MAX_CLIENT_AGE_MS } from '../src/origin/tracker.js';
import { startServer, type RunningServer } from '../src/server.js';
import { tempDir } from './helpers/tmp.js';

/**
 * Extreme and hostile input at the publish side's ways in (issue 23), over real sockets: a real
 * livestats (real SQLite, real credentials of two projects) taking nginx-rtmp notifications and SRS
 * hooks, and polling an nginx-rtmp statistics page served by a real local HTTP server that this
 * test fills with hostile XML (huge, nested, unclosed, entity definitions, counters near and beyond
 * 2^53, negative, non-numeric, going backwards, thousands of streams). The blast radius of each is
 * one: a clear answer, a counted reason (livestats_origin_refused_total), nothing else touched.
 * LIVESTATS_EXTREME_FULL=1 makes the big variants bigger (see package.json: test:extreme).
 */
const FULL = process.env.LIVESTATS_EXTREME_FULL === '1';
const tmp = tempDir('extreme-origin');
const data = `${tmp.dir}/data`;
let server: RunningServer;
let capped: RunningServer;
let a: IssuedCredentials;
let b: IssuedCredentials;
let capA: IssuedCredentials;
let stat: Server;
let statBody = '<rtmp></rtmp>';
let statHits = 0;
let cappedStatBody = '<rtmp></rtmp>';
let cappedStatHits = 0;

const silent = pino({ level: 'silent' });

beforeAll(async () => {
  mkdirSync(data, { recursive: true });
  mkdirSync(`${tmp.dir}/capped`, { recursive: true });
  a = createCredentials(data, 'proj-a');
  b = createCredentials(data, 'proj-b');
  capA = createCredentials(`${tmp.dir}/capped`, 'proj-a');
  createCredentials(`${tmp.dir}/capped`, 'proj-b');
  stat = createServer((req, res) => {
    if (req.url === '/capped') {
      cappedStatHits++;
      res.end(cappedStatBody);
      return;
    }
    statHits++;
    res.end(statBody);
  });
  await new Promise<void>((r) => stat.listen(0, '127.0.0.1', r));
  const port = (stat.address() as AddressInfo).port;
  server = await startServer(resolveServeConfig({
    port: '0', data, 'log-level': 'silent', 'query-cache-ms': '0', 'origin-poll-interval-ms': '1000',
    'origin-stat': [`http://127.0.0.1:${port}/stat#project=proj-a&domain=stat.example.com&name=o-stat`], 'probe-max-streams': '0',
  }, {}), { logger: silent });
  // A second server, its own data dir, at --max-streams 20: the stream cap.
  capped = await startServer(resolveServeConfig({
    port: '0', data: `${tmp.dir}/capped`, 'log-level': 'silent', 'query-cache-ms': '0', 'origin-poll-interval-ms': '1000', 'max-streams': '20',
    'origin-stat': [`http://127.0.0.1:${port}/capped#project=proj-b&domain=stat.example.com&name=o-stat`], 'probe-max-streams': '0',
  }, {}), { logger: silent });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await capped?.close();
  await new Promise((r) => stat?.close(r));
  tmp.remove();
});

async function waitFor(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Serves `body` as the statistics page and returns once a poll that read it has been applied (the poller is sequential per origin: the next request comes after). */
async function servePage(body: string, which: 'main' | 'capped' = 'main'): Promise<void> {
  if (which === 'main') {
    statBody = body;
    const n = statHits;
    await waitFor(() => statHits >= n + 2, 'two polls of the page');
  } else {
    cappedStatBody = body;
    const n = cappedStatHits;
    await waitFor(() => cappedStatHits >= n + 2, 'two polls of the capped page');
  }
}

interface Answer { status: number; body: unknown }
async function post(base: string, path: string, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(base + path, { method: 'POST', body, headers });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();
const nginx = (call: string, more: Record<string, string> = {}): string => form({
  app: 'live', flashver: 'FMLE/3.0 (compatible; Lavf59.27', swfurl: '', tcurl: 'rtmp://push.example.com:1935/live', pageurl: '',
  addr: '198.51.100.4', clientid: '12', call, name: 'cam1', type: 'live', ...more,
});
const NGINX = (project: string): string => `/ingest/v1/${project}/origin/nginx?origin=edge1`;
const SRS = (project: string): string => `/ingest/v1/${project}/origin/srs?origin=srs1`;
const invalid = (name: string): unknown => ({ error_code: 'LIVE.100011001', error_msg: `Invalid request parameter: ${name}` });
const AUTH_FAILED = { error_code: 'LIVE.100011002', error_msg: 'Authentication failed' };

/** livestats_origin_refused_total by reason, from /metrics over HTTP. */
async function refused(base: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^livestats_origin_refused_total\{reason="([a-z_]+)"\} (\d+)$/gm)) out[m[1] as string] = Number(m[2]);
  return out;
}

async function online(base: string, token: string, project: string, domain: string, stream?: string, limit = 100): Promise<{ status: number; body: { total_num: number; streams: Array<{ stream: string; start_time: string; app: string }> } }> {
  const q = new URLSearchParams({ publish_domain: domain, limit: String(limit), ...(stream !== undefined ? { stream } : {}) });
  const res = await fetch(`${base}/v1/${project}/realtime/streams?${q.toString()}`, { headers: { 'X-Auth-Token': token } });
  return { status: res.status, body: await res.json() as never };
}

describe('notifications: authentication first, limits, names', () => {
  it('an unauthenticated notification is refused before its body is read or parsed: 401 whatever the body (garbage, 1 MB), nothing counted', async () => {
    const before = await refused(server.url);
    const open = (await server.store.openSessions()).length;
    for (const body of ['{', nginx('explode'), 'x'.repeat(1024 * 1024), nginx('publish', { clientid: '4242' })]) {
      expect(await post(server.url, NGINX('proj-a'), body)).toEqual({ status: 401, body: AUTH_FAILED });
      expect(await post(server.url, SRS('proj-a'), body, { 'Content-Type': 'application/json' })).toEqual({ status: 401, body: AUTH_FAILED });
      expect(await post(server.url, NGINX('proj-a'), body, { 'X-Auth-Token': 'x'.repeat(10_000) })).toEqual({ status: 401, body: AUTH_FAILED });
    }
    // Another project's token: 401 before the body (another tenant's notification never lands here).
    expect(await post(server.url, NGINX('proj-a'), nginx('publish', { clientid: '4243' }), { 'X-Auth-Token': b.token }))
      .toEqual({ status: 401, body: { error_code: 'LIVE.100011015', error_msg: 'Project id check failed' } });
    expect(await refused(server.url)).toEqual(before);
    expect((await server.store.openSessions()).length).toBe(open);
  });

  it('a body over the notification limit: 413 with the registry\'s exact envelope, on both routes; the next notification is served', async () => {
    const tooLarge = { status: 413, body: { error_code: 'LIVE.100011001', error_msg: 'Request body too large: the limit is 16384 bytes' } };
    expect(await post(server.url, NGINX('proj-a'), nginx('publish', { pageurl: 'x'.repeat(16_384) }), { 'X-Auth-Token': a.token })).toEqual(tooLarge);
    expect(await post(server.url, SRS('proj-a'), JSON.stringify({ action: 'on_publish', pad: 'x'.repeat(FULL ? 8 * 1024 * 1024 : 200_000) }),
      { 'X-Auth-Token': a.token, 'Content-Type': 'application/json' })).toEqual(tooLarge);
    expect(await post(server.url, NGINX('proj-a'), nginx('connect'), { 'X-Auth-Token': a.token })).toEqual({ status: 200, body: { code: 0 } });
  });

  it('names of extreme length, unicode and SQL/LIKE metacharacters are stored and read back exactly, each only as itself', async () => {
    const names = [
      'x'.repeat(256), '直播-🎥-بث-ライブ', "a'); DROP TABLE publish_sessions;--", '%', 'a_c', 'abc', 'back\\slash', '"quoted"', 'a%25b', '\u202eevil',
    ];
    for (const [i, name] of names.entries()) {
      expect(await post(server.url, NGINX('proj-a'), nginx('publish', { name, clientid: String(1000 + i), tcurl: 'rtmp://names.example.com/live' }), { 'X-Auth-Token': a.token }))
        .toEqual({ status: 200, body: { code: 0 } });
    }
    const all = await online(server.url, a.token, 'proj-a', 'names.example.com');
    expect(all.status).toBe(200);
    expect(all.body.streams.map((s) => s.stream).sort()).toEqual([...names].sort());
    for (const name of names) {
      const one = await online(server.url, a.token, 'proj-a', 'names.example.com', name);
      expect(one.status, name).toBe(200);
      expect(one.body.streams.map((s) => s.stream), name).toEqual([name]);
    }
    // One code unit over 256 (the longest name a query takes), a control character: a 400 naming the field, nothing stored.
    for (const name of ['y'.repeat(257), 'a\u0007b']) {
      expect(await post(server.url, NGINX('proj-a'), nginx('publish', { name, clientid: '1999', tcurl: 'rtmp://names.example.com/live' }), { 'X-Auth-Token': a.token }))
        .toEqual({ status: 400, body: invalid('name') });
    }
    expect((await online(server.url, a.token, 'proj-a', 'names.example.com')).body.total_num).toBe(names.length);
  });

  it('elapsed times near and beyond 2^53 (on_update time=) start a session at most 32 days back, counted span_cut; the store and its answers stay sane', async () => {
    const before = (await refused(server.url)).span_cut ?? 0;
    const t0 = Date.now();
    for (const [i, time] of ['9007199254740991', '9007199254740993', '1e308', '-5', 'NaN', '0x10'].entries()) {
      expect(await post(server.url, NGINX('proj-a'), nginx('update_publish', { name: `t${i}`, clientid: String(2000 + i), time, tcurl: 'rtmp://times.example.com/live' }),
        { 'X-Auth-Token': a.token })).toEqual({ status: 200, body: { code: 0 } });
    }
    const res = await online(server.url, a.token, 'proj-a', 'times.example.com');
    expect(res.status).toBe(200);
    expect(res.body.total_num).toBe(6);
    for (const s of res.body.streams) {
      const start = Date.parse(s.start_time);
      expect(start, s.stream).toBeGreaterThanOrEqual(t0 - MAX_CLIENT_AGE_MS - 1000);
      expect(start, s.stream).toBeLessThanOrEqual(Date.now() + 1000);
    }
    expect((await refused(server.url)).span_cut).toBe(before + 3);
  });

  it('SRS hooks with numbers at the extremes: a numeric client_id past 2^53 - 1 (digits lost in JSON) is a 400 naming client_id, one within is taken', async () => {
    const hook = (clientId: string): string => `{"action":"on_publish","client_id":${clientId},"ip":"203.0.113.9","vhost":"srs.example.com","app":"live","stream":"n${clientId.length}"}`;
    for (const id of ['9007199254740993', '1e400', '-1e308', '1.5']) {
      expect(await post(server.url, SRS('proj-a'), hook(id), { 'X-Auth-Token': a.token, 'Content-Type': 'application/json' }), id)
        .toEqual({ status: 400, body: invalid('client_id') });
    }
    expect(await post(server.url, SRS('proj-a'), hook('9007199254740991'), { 'X-Auth-Token': a.token, 'Content-Type': 'application/json' }))
      .toEqual({ status: 200, body: { code: 0 } });
  });

  it('retries and duplicates count once: 30 identical publishes at once make one session, a repeated publish_done or play_done changes nothing', async () => {
    const fields = { name: 'dup', clientid: '3000', tcurl: 'rtmp://dup.example.com/live' };
    const answers = await Promise.all(Array.from({ length: 30 }, () => post(server.url, NGINX('proj-a'), nginx('publish', fields), { 'X-Auth-Token': a.token })));
    expect(answers.every((x) => x.status === 200)).toBe(true);
    expect((await online(server.url, a.token, 'proj-a', 'dup.example.com')).body.total_num).toBe(1);
    const t0 = Date.now() - 1000;
    const play = { name: 'dup', clientid: '3001', addr: '192.0.2.77', tcurl: 'rtmp://dup.example.com/live' };
    await Promise.all(Array.from({ length: 10 }, () => post(server.url, NGINX('proj-a'), nginx('play', play), { 'X-Auth-Token': a.token })));
    const unknownBefore = (await refused(server.url)).unknown_session ?? 0;
    for (let i = 0; i < 3; i++) {
      expect(await post(server.url, NGINX('proj-a'), nginx('play_done', play), { 'X-Auth-Token': a.token })).toEqual({ status: 200, body: { code: 0 } });
      expect(await post(server.url, NGINX('proj-a'), nginx('publish_done', fields), { 'X-Auth-Token': a.token })).toEqual({ status: 200, body: { code: 0 } });
    }
    expect((await refused(server.url)).unknown_session).toBe(unknownBefore + 4);
    const plays = (await server.store.playSessions('proj-a', t0, Date.now() + 1000)).filter((p) => p.stream === 'dup');
    expect(plays).toHaveLength(1);
    expect(plays[0]?.end).not.toBeNull();
    const history = await server.store.historySessions({ project: 'proj-a', domains: ['dup.example.com'], from: t0, to: Date.now() + 1000, offset: 0, limit: 10 });
    expect(history.total).toBe(1);
  });
});

describe('the stream cap (--max-streams 20)', () => {
  it('a new name beyond it is a 400 naming the stream, counted stream_limit; open names, other streams and other projects go on', async () => {
    const post20 = (i: number, call = 'publish'): Promise<Answer> =>
      post(capped.url, NGINX('proj-a'), nginx(call, { name: `s${i}`, clientid: String(i), tcurl: 'rtmp://cap.example.com/live' }), { 'X-Auth-Token': capA.token });
    for (let i = 0; i < 20; i++) expect(await post20(i)).toEqual({ status: 200, body: { code: 0 } });
    expect(await post20(20)).toEqual({ status: 400, body: invalid('name') });
    expect(await post(capped.url, SRS('proj-a'), JSON.stringify({ action: 'on_play', client_id: 'p9', ip: '192.0.2.1', vhost: 'cap.example.com', app: 'live', stream: 'brand-new' }),
      { 'X-Auth-Token': capA.token, 'Content-Type': 'application/json' })).toEqual({ status: 400, body: invalid('stream') });
    expect((await refused(capped.url)).stream_limit).toBe(2);
    // Names already open: updates and plays of them are taken.
    expect(await post20(3, 'update_publish')).toEqual({ status: 200, body: { code: 0 } });
    expect(await post(capped.url, NGINX('proj-a'), nginx('play', { name: 's3', clientid: '500', tcurl: 'rtmp://cap.example.com/live' }), { 'X-Auth-Token': capA.token }))
      .toEqual({ status: 200, body: { code: 0 } });
    // Another project (proj-b, through its statistics page) has its own 20: 30 streams on its page, 20 open, 10 counted.
    await servePage(page(Array.from({ length: 30 }, (_, i) => streamXml(`b${String(i).padStart(2, '0')}`, 1000, 5000, String(100 + i))).join('')), 'capped');
    const openB = (await capped.store.openSessions()).filter((s) => s.project === 'proj-b');
    expect(openB).toHaveLength(20);
    expect((await refused(capped.url)).stream_limit).toBeGreaterThanOrEqual(12);
    // One ends: a new name is admitted again.
    expect(await post20(0, 'publish_done')).toEqual({ status: 200, body: { code: 0 } });
    expect(await post20(21)).toEqual({ status: 200, body: { code: 0 } });
    expect((await online(capped.url, capA.token, 'proj-a', 'cap.example.com')).body.total_num).toBe(20);
  });
});

const page = (streams: string, app = 'live'): string =>
  `<?xml version="1.0" encoding="utf-8" ?><rtmp><nginx_version>1.22.1</nginx_version><server><application><name>${app}</name><live>${streams}</live></application></server></rtmp>`;
function streamXml(name: string, bytesIn: number | string, timeMs: number | string, clientId = '1'): string {
  return `<stream><name>${name}</name><time>${timeMs}</time><bw_in>0</bw_in><bytes_in>${bytesIn}</bytes_in><bw_out>0</bw_out><bytes_out>0</bytes_out>` +
    `<client><id>${clientId}</id><address>203.0.113.7</address><time>${timeMs}</time><flashver>FMLE/3.0 (compatible; Lavf59.27</flashver><publishing/><active/></client>` +
    '<meta><video><width>640</width><height>360</height><frame_rate>25</frame_rate><codec>H264</codec></video><audio><codec>AAC</codec></audio></meta>' +
    '<nclients>1</nclients><publishing/><active/></stream>';
}
const DAY = 86_400_000;
/** Input bytes stored for a stream of the polled origin, all days together. */
async function storedBytes(stream: string): Promise<number> {
  const to = Math.ceil((Date.now() + DAY) / DAY) * DAY;
  const from = to - 40 * DAY;
  const series = await server.store.upBytesSeries({ project: 'proj-a', domains: ['stat.example.com'], stream, regions: [], isps: [], type: 0, slotMs: DAY, from, to });
  return series.reduce((x, y) => x + y, 0);
}

describe('the statistics page poller fed hostile XML by a real HTTP server', () => {
  it('counters beyond 2^53, negative or not numbers count nothing (bad_counter); the next readable one counts the growth; going backwards is a restart', async () => {
    const before = (await refused(server.url)).bad_counter ?? 0;
    await servePage(page(streamXml('ctr', 1000, 2000)));
    expect(await storedBytes('ctr')).toBe(1000);
    await servePage(page(streamXml('ctr', '9007199254740993', 4000)));
    expect(await storedBytes('ctr')).toBe(1000);
    expect((await refused(server.url)).bad_counter).toBeGreaterThanOrEqual(before + 1);
    for (const bad of ['9007199254740993', '1e300', '-5', 'NaN', '12abc', '', '1.5', ' 7 x']) {
      expect(parseRtmpStat(page(streamXml('ctr', bad, 4000)))[0]?.bytesIn, bad).toBeUndefined();
    }
    await servePage(page(streamXml('ctr', 5000, 6000)));
    expect(await storedBytes('ctr')).toBe(5000);
    // The origin restarted: its counter starts again from 0 (bytes going backwards).
    await servePage(page(streamXml('ctr', 300, 8000)));
    expect(await storedBytes('ctr')).toBe(5300);
    const live = (await server.store.openSessions()).filter((s) => s.stream === 'ctr');
    expect(live).toHaveLength(1);
  });

  it('a counter at 2^53 - 1 and a connected time of 2^53 ms: the session starts at most 32 days back (span_cut), bytes exact, the API answers', async () => {
    const spanCut = (await refused(server.url)).span_cut ?? 0;
    const t0 = Date.now();
    await servePage(page(streamXml('huge', Number.MAX_SAFE_INTEGER, '9007199254740991')));
    const s = (await server.store.openSessions()).find((x) => x.stream === 'huge');
    expect(s?.start).toBeGreaterThanOrEqual(t0 - MAX_CLIENT_AGE_MS - 1000);
    expect(await storedBytes('huge')).toBe(Number.MAX_SAFE_INTEGER);
    expect((await refused(server.url)).span_cut).toBeGreaterThan(spanCut);
    const now = new Date(Math.floor(Date.now() / 300_000) * 300_000).toISOString().replace('.000Z', 'Z');
    const from = new Date(Math.floor(Date.now() / 300_000) * 300_000 - 86_400_000).toISOString().replace('.000Z', 'Z');
    const res = await fetch(`${server.url}/v2/proj-a/stats/up-bandwidth/detail?publish_domains=stat.example.com&start_time=${from}&end_time=${now}`, { headers: { 'X-Auth-Token': a.token } });
    expect(res.status).toBe(200);
  });

  it('entity definitions are never expanded (billion laughs), nested and unclosed elements cost one pass; the server keeps answering', async () => {
    const laughs = '<!DOCTYPE rtmp [<!ENTITY lol "lol">' + Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i ? i : ''};`.repeat(10)}">`).join('') + ']>';
    await servePage(laughs + page(streamXml('&amp;lol9;', 10, 1000, '7') + streamXml('&lol9;', 10, 1000, '8')));
    const names = (await server.store.openSessions()).filter((s) => s.origin === 'o-stat').map((s) => s.stream).sort();
    expect(names).toEqual(['&lol9;', '&lol9;']);
    // Thousands of unclosed tags (quadratic for a backtracking reader: 200,000 of them held the event loop for minutes).
    const n = FULL ? 2_000_000 : 200_000;
    const hostile = page(streamXml('kept', 10, 1000) + '<stream><name>x</name><client>'.repeat(n));
    expect(parseRtmpStat(hostile).map((s) => s.name)).toEqual(['kept']);
    expect(parseRtmpStat('<rtmp>' + '<application>'.repeat(n) + '<live>'.repeat(n) + '<stream>'.repeat(n) + '</rtmp>')).toEqual([]);
    // Through the poller (its fetch must finish within the 1 s interval here, so a smaller page).
    const m = FULL ? n : 20_000;
    await servePage(page(streamXml('kept', 10, 1000) + '<stream><name>x</name><client>'.repeat(m)));
    expect((await server.store.openSessions()).filter((s) => s.origin === 'o-stat').map((s) => s.stream)).toEqual(['kept']);
    await servePage('<rtmp>' + '<application>'.repeat(m) + '<live>'.repeat(m) + '<stream>'.repeat(m) + '</rtmp>');
    expect((await server.store.openSessions()).filter((s) => s.origin === 'o-stat')).toEqual([]);
    expect(await post(server.url, NGINX('proj-a'), nginx('connect'), { 'X-Auth-Token': a.token })).toEqual({ status: 200, body: { code: 0 } });
  });

  it('thousands of streams on one page: every one opens, and a page without them closes them', async () => {
    const n = FULL ? 50_000 : 2000;
    await servePage(page(Array.from({ length: n }, (_, i) => streamXml(`many-${i}`, 100 + i, 5000, String(10_000 + i))).join('')));
    const res = await online(server.url, a.token, 'proj-a', 'stat.example.com', undefined, 100);
    expect(res.status).toBe(200);
    expect(res.body.total_num).toBe(n);
    await servePage(page(''));
    expect((await online(server.url, a.token, 'proj-a', 'stat.example.com')).body.total_num).toBe(0);
  });
});
