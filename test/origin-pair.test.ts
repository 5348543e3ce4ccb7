import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServeConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { tempDir } from './helpers/tmp.js';

/**
 * An origin pair (issue 23 says nothing of it; a demanding user runs one): edge1 takes the
 * publisher of live/cam1 and relays it to edge2, and both notify livestats and are polled. Their
 * notifications for the same stream (the same client number on both: each nginx numbers its own
 * connections) arrive concurrently over real HTTP, each sent twice (a retry) and some late, while
 * the statistics pages lag them as nginx's do (a publisher or player shows only once its
 * notification is answered). The pages are served by a small HTTP server of this test (the
 * counters must be known exactly; test/origin-nginx.test.ts runs a real nginx-rtmp).
 */
const tmp = tempDir('origin-pair');
let server: RunningServer;
let stat: Server;
let token = '';
const DOMAIN = 'push.example.com';

interface EdgeState {
  connectedAt: number;
  bytesIn: number;
  publisher: boolean;
  players: Array<{ id: string; ip: string; connectedAt: number }>;
  hits: number;
}
const edges: Record<'edge1' | 'edge2', EdgeState> = {
  edge1: { connectedAt: 0, bytesIn: 0, publisher: false, players: [], hits: 0 },
  edge2: { connectedAt: 0, bytesIn: 0, publisher: false, players: [], hits: 0 },
};

function page(name: 'edge1' | 'edge2'): string {
  const e = edges[name];
  const now = Date.now();
  const flashver = name === 'edge1' ? 'FMLE/3.0 (compatible; Lavf59.27' : 'LNX.11,1,102,55';
  const clients = [
    ...(e.publisher ? [`<client><id>5</id><address>${name === 'edge1' ? '203.0.113.7' : '127.0.0.1'}</address><time>${now - e.connectedAt}</time><flashver>${flashver}</flashver><publishing/><active/></client>`] : []),
    ...e.players.map((p) => `<client><id>${p.id}</id><address>${p.ip}</address><time>${now - p.connectedAt}</time><flashver>LNX 9,0,124,2</flashver><active/></client>`),
  ].join('');
  const stream = e.publisher || e.players.length > 0
    ? `<stream><name>cam1</name><time>${now - e.connectedAt}</time><bw_in>0</bw_in><bytes_in>${e.bytesIn}</bytes_in><bw_out>0</bw_out><bytes_out>0</bytes_out>${clients}` +
      '<meta><video><width>640</width><height>360</height><frame_rate>25</frame_rate><codec>H264</codec></video><audio><codec>AAC</codec></audio></meta><active/></stream>'
    : '';
  return `<?xml version="1.0" encoding="utf-8" ?><rtmp><server><application><name>live</name><live>${stream}</live></application></server></rtmp>`;
}

beforeAll(async () => {
  stat = createServer((req, res) => {
    const name = req.url === '/edge2' ? 'edge2' : 'edge1';
    edges[name].hits++;
    res.end(page(name));
  });
  await new Promise<void>((r) => stat.listen(0, '127.0.0.1', r));
  const port = (stat.address() as AddressInfo).port;
  server = await startServer(resolveServeConfig({
    port: '0', data: `${tmp.dir}/data`, 'log-level': 'silent', 'query-cache-ms': '0', 'origin-poll-interval-ms': '500', 'probe-max-streams': '0',
    'origin-stat': ['edge1', 'edge2'].map((n) => `http://127.0.0.1:${port}/${n}#name=${n}&domain=${DOMAIN}`),
  }, {}), { logger: pino({ level: 'silent' }) });
  token = server.auth.issued?.token ?? '';
});
afterAll(async () => {
  await server?.close();
  await new Promise((r) => stat?.close(r));
  tmp.remove();
});

/** One nginx notification from `origin`, sent `times` times at once (a retry racing the first). */
async function notify(origin: 'edge1' | 'edge2', call: string, clientid: string, more: Record<string, string> = {}, times = 2): Promise<void> {
  const body = new URLSearchParams({
    app: 'live', name: 'cam1', call, clientid, tcurl: `rtmp://${DOMAIN}/live`, type: 'live',
    flashver: origin === 'edge1' ? 'FMLE/3.0 (compatible; Lavf59.27' : 'LNX.11,1,102,55', addr: origin === 'edge1' ? '203.0.113.7' : '127.0.0.1', ...more,
  }).toString();
  const answers = await Promise.all(Array.from({ length: times }, async () => {
    const res = await fetch(`${server.url}/ingest/v1/default/origin/nginx?origin=${origin}`, { method: 'POST', body, headers: { 'X-Auth-Token': token } });
    return res.status;
  }));
  expect(answers).toEqual(Array.from({ length: times }, () => 200));
}

/** Until both pages have been read `n` more times (polls requested after every notification so far was answered). */
async function polled(n = 3): Promise<void> {
  const want = { edge1: edges.edge1.hits + n, edge2: edges.edge2.hits + n };
  const deadline = Date.now() + 60_000;
  while (edges.edge1.hits < want.edge1 || edges.edge2.hits < want.edge2) {
    if (Date.now() > deadline) throw new Error('the pages were not polled');
    await new Promise((r) => setTimeout(r, 20));
  }
  // ... and the last of those polls applied: one more read of each begins after it.
  const after = { edge1: edges.edge1.hits + 1, edge2: edges.edge2.hits + 1 };
  while (edges.edge1.hits < after.edge1 || edges.edge2.hits < after.edge2) {
    if (Date.now() > deadline) throw new Error('the pages were not polled');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const both = <T>(f: (o: 'edge1' | 'edge2') => Promise<T>): Promise<T[]> => Promise.all([f('edge1'), f('edge2')]);

describe('an origin pair notifying and polled at once', () => {
  it('exact sessions, plays, viewers, stream counts and input bytes per origin, whatever the order of retried, late and lagging notifications', async () => {
    const t0 = Date.now();
    for (const e of Object.values(edges)) e.connectedAt = Date.now() - 300;
    // Both publish notifications (twice each) are answered before either page shows a publisher.
    await both((o) => notify(o, 'publish', '5'));
    await polled();
    for (const e of Object.values(edges)) e.publisher = true;
    edges.edge1.bytesIn = 100_000;
    edges.edge2.bytesIn = 50_000;
    await polled();
    // Players (number 9 on both origins) notified before the pages show them, with on_update meanwhile.
    await Promise.all([
      both((o) => notify(o, 'play', '9', { addr: o === 'edge1' ? '192.0.2.1' : '192.0.2.2', flashver: 'LNX 9,0,124,2' })),
      both((o) => notify(o, 'update_publish', '5', { time: '1' })),
    ]);
    await polled();
    edges.edge1.players = [{ id: '9', ip: '192.0.2.1', connectedAt: Date.now() - 200 }];
    edges.edge2.players = [{ id: '9', ip: '192.0.2.2', connectedAt: Date.now() - 200 }];
    for (const bytes of [200_000, 300_000, 400_000]) {
      edges.edge1.bytesIn = bytes;
      edges.edge2.bytesIn = bytes / 2;
      await Promise.all([polled(1), both((o) => notify(o, 'update_publish', '5', { time: '2' })), both((o) => notify(o, 'play', '9', { call: 'update_play', addr: o === 'edge1' ? '192.0.2.1' : '192.0.2.2' }))]);
    }
    await polled();
    const live = await server.store.liveStreams({ project: 'default', domain: DOMAIN, offset: 0, limit: 10 });
    expect(live.sessions.map((s) => [s.origin, s.type, s.bytesIn]).sort()).toEqual([['edge1', 0, 400_000], ['edge2', 1, 200_000]]);
    // The players leave (play_done twice each; the pages drop them), then the publishers; a late update_publish and update_play follow.
    for (const e of Object.values(edges)) e.players = [];
    await both((o) => notify(o, 'play_done', '9', { addr: o === 'edge1' ? '192.0.2.1' : '192.0.2.2' }));
    for (const e of Object.values(edges)) e.publisher = false;
    await Promise.all([both((o) => notify(o, 'publish_done', '5')), polled(1)]);
    await Promise.all([both((o) => notify(o, 'update_publish', '5', { time: '3' })), both((o) => notify(o, 'play', '9', { call: 'update_play' }))]);
    await polled();

    const to = Date.now() + 1000;
    const history = await server.store.historySessions({ project: 'default', domains: [DOMAIN], stream: 'cam1', from: t0 - 60_000, to, offset: 0, limit: 100 });
    expect(history.sessions.map((s) => [s.origin, s.type, s.end !== null]).sort()).toEqual([['edge1', 0, true], ['edge2', 1, true]]);
    const plays = await server.store.playSessions('default', t0 - 60_000, to);
    expect(plays.map((p) => [p.id.split('|')[0], p.clientIp, p.end !== null]).sort()).toEqual([['edge1', '192.0.2.1', true], ['edge2', '192.0.2.2', true]]);
    const slot = 300_000;
    const from = Math.floor((t0 - 60_000) / slot) * slot;
    const until = Math.ceil(to / slot) * slot;
    const bytes = async (type: 0 | 1): Promise<number> => (await server.store.upBytesSeries({
      project: 'default', domains: [DOMAIN], regions: [], isps: [], type, slotMs: slot, from, to: until,
    })).reduce((x, y) => x + y, 0);
    expect([await bytes(0), await bytes(1)]).toEqual([400_000, 200_000]);
    // The two origins' sessions of cam1 overlap: 2 at once (ShowStreamCount counts sessions per domain, docs/origin.md).
    expect(Math.max(...await server.store.streamCounts({ project: 'default', domains: [DOMAIN], from, to: until }))).toBe(2);
    const minute = 60_000;
    const viewers = await server.store.usersSeries({
      project: 'default', domain: DOMAIN, app: 'live', stream: 'cam1', protocol: 'rtmp', regions: [], isps: [], slotMs: minute,
      from: Math.floor((t0 - 60_000) / minute) * minute, to: Math.ceil(to / minute) * minute,
    });
    expect(Math.max(...viewers)).toBe(2);
  }, 120_000);
});
