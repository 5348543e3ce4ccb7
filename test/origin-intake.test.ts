import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServeConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { tempDir } from './helpers/tmp.js';

/**
 * The origin notification routes over real HTTP with the real auth: SRS hooks from payloads in the
 * shapes SRS documents (no SRS is installable here, so these are written from its documentation,
 * not captured from a running SRS), and the contract edges of both routes with their exact error
 * JSON. The nginx form fields are the ones test/origin-nginx.test.ts gets from a real nginx-rtmp.
 */
let server: RunningServer;
let token = '';
const tmp = tempDir('origin-intake');
beforeAll(async () => {
  server = await startServer(resolveServeConfig({ port: '0', data: `${tmp.dir}/data`, 'log-level': 'silent', 'query-cache-ms': '0' }, {}), { logger: pino({ level: 'silent' }) });
  token = server.auth.issued?.token ?? '';
});
afterAll(async () => {
  await server?.close();
  tmp.remove();
});

async function post(path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const res = await fetch(server.url + path, { method: 'POST', body, headers: { 'X-Auth-Token': token, ...headers } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const srs = (action: string, more: Record<string, unknown> = {}): string => JSON.stringify({
  server_id: 'vid-0xk989d', service_id: 'plw5b2b0', action, client_id: '341w361a', ip: '203.0.113.9', vhost: '__defaultVhost__',
  app: 'live', tcUrl: 'rtmp://push.example.com:1935/live', stream: 'livestream', param: '', stream_url: '/live/livestream',
  stream_id: 'vid-124q9y3', ...more,
});
const SRS = '/ingest/v1/default/origin/srs?origin=srs1';
const NGINX = '/ingest/v1/default/origin/nginx?origin=edge1';
const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();
const nginx = (call: string, more: Record<string, string> = {}): string => form({
  app: 'live', flashver: 'FMLE/3.0 (compatible; Lavf59.27', swfurl: '', tcurl: 'rtmp://Push.Example.com:1935/live', pageurl: '',
  addr: '198.51.100.4', clientid: '12', call, name: 'cam1', type: 'live', ...more,
});
/** livestats_origin_refused_total{reason="bad_name"} from /metrics over HTTP. */
async function badNames(): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(/^livestats_origin_refused_total\{reason="bad_name"\} (\d+)$/m.exec(text)?.[1] ?? 0);
}
const invalid = (name: string): unknown => ({ error_code: 'LIVE.100011001', error_msg: `Invalid request parameter: ${name}` });

describe('SRS hooks (payloads in SRS\'s documented shapes)', () => {
  it('on_publish opens a session, on_unpublish ends it; on_play/on_stop make a play session; answers {"code":0}', async () => {
    const t0 = Date.now();
    expect(await post(SRS, srs('on_publish'), { 'Content-Type': 'application/json' })).toEqual({ status: 200, body: { code: 0 } });
    const live = await server.store.liveStreams({ project: 'default', domain: 'push.example.com', offset: 0, limit: 10 });
    expect(live.sessions).toMatchObject([{ app: 'live', stream: 'livestream', clientIp: '203.0.113.9', type: 0, origin: 'srs1', end: null }]);
    expect(await post(SRS, srs('on_play', { client_id: 'p1', ip: '192.0.2.5', pageUrl: '' }))).toEqual({ status: 200, body: { code: 0 } });
    expect(await post(SRS, srs('on_stop', { client_id: 'p1', ip: '192.0.2.5' }))).toEqual({ status: 200, body: { code: 0 } });
    expect(await post(SRS, srs('on_unpublish'))).toEqual({ status: 200, body: { code: 0 } });
    const h = await server.store.historySessions({ project: 'default', domains: ['push.example.com'], from: t0 - 1000, to: Date.now() + 1000, offset: 0, limit: 10 });
    expect(h.total).toBe(1);
    expect(h.sessions[0]?.end).not.toBeNull();
    const plays = await server.store.playSessions('default', t0 - 1000, Date.now() + 1000);
    expect(plays).toMatchObject([{ domain: 'push.example.com', stream: 'livestream', clientIp: '192.0.2.5' }]);
    expect(plays[0]?.end).not.toBeNull();
  });

  it('a vhost names the domain; a relay param makes type 1; on_connect is acknowledged and ignored', async () => {
    expect(await post(SRS, srs('on_publish', { vhost: 'Live.Example.org', client_id: 'r1', param: '?relay=1' }))).toEqual({ status: 200, body: { code: 0 } });
    const live = await server.store.liveStreams({ project: 'default', domain: 'live.example.org', offset: 0, limit: 10 });
    expect(live.sessions.map((s) => s.type)).toEqual([1]);
    expect(await post(SRS, srs('on_connect'))).toEqual({ status: 200, body: { code: 0 } });
  });

  it('bad payloads: exact error JSON naming what is wrong', async () => {
    expect(await post(SRS, '{')).toEqual({ status: 400, body: invalid('body (not valid JSON)') });
    expect(await post(SRS, '[]')).toEqual({ status: 400, body: invalid('action') });
    expect(await post(SRS, srs('on_dance'))).toEqual({ status: 400, body: invalid('action') });
    expect(await post(SRS, srs('on_publish', { client_id: '../x' }))).toEqual({ status: 400, body: invalid('client_id') });
    expect(await post(SRS, srs('on_publish', { stream: '' }))).toEqual({ status: 400, body: invalid('name') });
  });
});

describe('nginx-rtmp notifications: contract edges', () => {
  it('the form fields nginx-rtmp sends open and close a session under the tcurl host', async () => {
    expect(await post(NGINX, nginx('publish'))).toEqual({ status: 200, body: { code: 0 } });
    expect((await server.store.liveStreams({ project: 'default', domain: 'push.example.com', stream: 'cam1', offset: 0, limit: 10 })).total).toBe(1);
    expect(await post(NGINX, nginx('update_publish', { time: '30', timestamp: '30000' }))).toEqual({ status: 200, body: { code: 0 } });
    expect(await post(NGINX, nginx('publish_done'))).toEqual({ status: 200, body: { code: 0 } });
    expect((await server.store.liveStreams({ project: 'default', domain: 'push.example.com', stream: 'cam1', offset: 0, limit: 10 })).total).toBe(0);
    expect(await post(NGINX, nginx('connect'))).toEqual({ status: 200, body: { code: 0 } });
  });

  it('authenticates before doing work: no, a wrong or another project\'s credential changes nothing', async () => {
    const before = (await server.store.openSessions()).length;
    const noAuth = await fetch(server.url + NGINX, { method: 'POST', body: nginx('publish', { clientid: '90' }) });
    expect({ status: noAuth.status, body: await noAuth.json() }).toEqual({ status: 401, body: { error_code: 'LIVE.100011002', error_msg: 'Authentication failed' } });
    expect(await post(NGINX, nginx('publish', { clientid: '91' }), { 'X-Auth-Token': 'wrong' })).toEqual({ status: 401, body: { error_code: 'LIVE.100011002', error_msg: 'Authentication failed' } });
    expect(await post('/ingest/v1/other/origin/nginx', nginx('publish', { clientid: '92' })))
      .toEqual({ status: 401, body: { error_code: 'LIVE.100011015', error_msg: 'Project id check failed' } });
    expect((await server.store.openSessions()).length).toBe(before);
  });

  it('?token= stands for X-Auth-Token (origins that cannot send headers)', async () => {
    const res = await fetch(`${server.url}${NGINX}&token=${encodeURIComponent(token)}`, { method: 'POST', body: nginx('publish', { clientid: '93', name: 'tok' }) });
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 200, body: { code: 0 } });
    expect((await server.store.liveStreams({ project: 'default', domain: 'push.example.com', stream: 'tok', offset: 0, limit: 10 })).total).toBe(1);
  });

  it('malformed or hostile notifications: a 400 naming the field, nothing stored', async () => {
    const before = (await server.store.openSessions()).length;
    expect(await post(NGINX, nginx('explode'))).toEqual({ status: 400, body: invalid('call') });
    expect(await post(NGINX, nginx('publish', { clientid: '1e9' }))).toEqual({ status: 400, body: invalid('clientid') });
    expect(await post(NGINX, nginx('publish', { name: 'a\u0000b' }))).toEqual({ status: 400, body: invalid('name') });
    expect(await post(NGINX, nginx('publish', { name: 'x'.repeat(513) }))).toEqual({ status: 400, body: invalid('name') });
    // '/' is refused by the query parameters (names are single path segments): refused at intake too, counted
    const badName = await badNames();
    expect(await post(NGINX, nginx('publish', { name: 'a/b' }))).toEqual({ status: 400, body: invalid('name') });
    expect(await post(NGINX, nginx('publish', { app: 'live/x' }))).toEqual({ status: 400, body: invalid('name') });
    expect(await post(SRS, srs('on_publish', { stream: 'a/b' }))).toEqual({ status: 400, body: invalid('name') });
    expect(await badNames()).toBe(badName + 3);
    expect(await post(`/ingest/v1/default/origin/nginx?origin=${encodeURIComponent('a b')}`, nginx('publish'))).toEqual({ status: 400, body: invalid('origin') });
    expect(await post(`${NGINX}&domain=${encodeURIComponent('a/b')}`, nginx('publish'))).toEqual({ status: 400, body: invalid('domain') });
    const big = await post(NGINX, nginx('publish', { pageurl: 'x'.repeat(20_000) }));
    expect(big.status).toBe(413);
    expect((big.body as { error_code: string }).error_code).toBe('LIVE.100011001');
    expect((await server.store.openSessions()).length).toBe(before);
  });
});

describe('a store fault under a notification (docs/origin.md, "When the store fails")', () => {
  it('a write that fails is held and answered {"code":0}; one refused while it still fails is a 503 and never counted later', async () => {
    const store = server.store;
    const write = store.writeOrigin.bind(store);
    let failures = 2;
    // The real SQLite store, its next two origin writes failing (a store fault: disk full).
    store.writeOrigin = async (b) => {
      if (failures > 0) {
        failures--;
        throw new Error('SQLITE_FULL: database or disk is full');
      }
      return write(b);
    };
    try {
      const held = srs('on_publish', { client_id: 'held1', stream: 'held-cam', vhost: 'held.example.com' });
      expect(await post(SRS, held)).toEqual({ status: 200, body: { code: 0 } });
      const refused = await post(SRS, srs('on_publish', { client_id: 'held2', stream: 'refused-cam', vhost: 'held.example.com' }));
      expect(refused.status).toBe(503);
      // The store is back: the held publish lands before this one.
      expect(await post(SRS, srs('on_unpublish', { client_id: 'held1', stream: 'held-cam', vhost: 'held.example.com' }))).toEqual({ status: 200, body: { code: 0 } });
      const h = await server.store.historySessions({ project: 'default', domains: ['held.example.com'], from: 0, to: Date.now() + 1000, offset: 0, limit: 10 });
      expect(h.sessions.map((s) => [s.stream, s.end !== null])).toEqual([['held-cam', true]]);
    } finally {
      store.writeOrigin = write;
    }
  });

  it('a name no store can write (a lone UTF-16 surrogate) is one 400, not a stuck write', async () => {
    const r = await post(SRS, srs('on_publish', { client_id: 'lone1', stream: 'cam\uD800' }));
    expect(r).toEqual({ status: 400, body: invalid('name') });
  });
});
