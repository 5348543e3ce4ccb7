import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { resolveServeConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import type { PublishSession } from '../src/store/origin.js';
import { freePort } from './harness/ports.js';
import { play, publish, startRtmpOrigin, testClip, waitFor, type Publisher, type RtmpOrigin } from './harness/nginx-rtmp.js';
import { requireTools } from './helpers/system-tools.js';
import { tempDir } from './helpers/tmp.js';

/**
 * The origin intake against a real nginx with the RTMP module and real ffmpeg publishers (issue
 * 23): notifications through the proxy location of the docs, statistics-page polls, a break and a
 * resume, two publishers at once, a relay, and livestats being down while publishers come and go.
 */
requireTools('nginx', 'nginx-rtmp', 'ffmpeg');

const SNIPPET = join(__dirname, '..', 'deploy', 'nginx', 'livestats-origin.conf');
const dirs: Array<{ remove: () => void }> = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});
afterAll(() => {
  for (const d of dirs) d.remove();
});

function dir(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d.dir;
}

async function serve(data: string, port: number, stat: string[]): Promise<RunningServer> {
  const server = await startServer(resolveServeConfig({
    port: String(port), data, 'log-level': 'silent', 'query-cache-ms': '0', 'origin-stat': stat, 'origin-poll-interval-ms': '500',
  }, {}), { logger: pino({ level: 'silent' }) });
  return server;
}

function started(p: Publisher): Publisher {
  cleanups.push(() => p.kill());
  return p;
}

async function origin(d: string, o: Parameters<typeof startRtmpOrigin>[1]): Promise<RtmpOrigin> {
  const x = await startRtmpOrigin(d, o);
  cleanups.push(() => x.stop());
  return x;
}

const DOMAIN = '127.0.0.1';

async function live(server: RunningServer, originName?: string): Promise<PublishSession[]> {
  const page = await server.store.liveStreams({ project: 'default', domain: DOMAIN, offset: 0, limit: 100 });
  return page.sessions.filter((s) => originName === undefined || s.origin === originName);
}

async function history(server: RunningServer, stream: string, from: number): Promise<PublishSession[]> {
  const page = await server.store.historySessions({ project: 'default', domains: [DOMAIN], stream, from, to: Date.now() + 60_000, offset: 0, limit: 100 });
  return page.sessions;
}

describe('origin intake with a real nginx-rtmp', () => {
  it('notifications and polls: start, stop, a break and a resume, two publishers at once, a relay, a player', async () => {
    const d = dir('origin-e2e');
    const port = await freePort();
    const clip = await testClip(join(d, 'clips'), { fps: 25, videoKbps: 400, audioKbps: 64, seconds: 4 });
    // livestats first, so the first start issues the default project's token.
    const t0 = Date.now();
    const server0 = await serve(join(d, 'data'), port, []);
    const token = server0.auth.issued?.token ?? '';
    await server0.close();
    expect(token).not.toBe('');
    const notify = (name: string): string => `http://127.0.0.1:${port}/ingest/v1/default/origin/nginx?origin=${name}`;
    const b = await origin(join(d, 'b'), { notify: notify('b'), token });
    const a = await origin(join(d, 'a'), { notify: notify('a'), token, pushTo: `rtmp://127.0.0.1:${b.rtmpPort}/live` });
    // The polls are told the domain the notifications carry (tcurl's host): under load a poll can see a
    // stream before its notification is applied (or nginx gives up on a slow livestats), and the session
    // then takes the poll's domain, which must be the same one (docs/origin.md).
    const server = await serve(join(d, 'data'), port, [`${a.statUrl}#name=a&domain=${DOMAIN}`, `${b.statUrl}#name=b&domain=${DOMAIN}`]);
    const open = async (): Promise<unknown> => (await server.store.openSessions())
      .map((x) => ({ origin: x.origin, domain: x.domain, stream: x.stream, type: x.type, codec: x.videoCodec, bitrate: x.bitrate }));
    cleanups.push(() => server.close());

    // start: the publish notification opens the session, the poll adds codecs, size, frame rate and bitrate.
    const s1 = started(publish(a.rtmpUrl('live', 's1'), clip));
    const first = await waitFor('s1 live with its metadata', async () => {
      const l = (await live(server, 'a')).find((s) => s.stream === 's1');
      return l && l.videoCodec === 'H264' && l.bitrate > 0 ? l : undefined;
    }, undefined, open);
    expect(first).toMatchObject({ domain: DOMAIN, app: 'live', clientIp: '127.0.0.1', type: 0, videoCodec: 'H264', audioCodec: 'AAC', frameRate: 25, width: 640, height: 360, end: null });
    expect(first.start).toBeGreaterThanOrEqual(t0);
    // the relay: origin a pushes s1 to origin b, where it is a relay session (type 1).
    const relay = await waitFor('s1 relayed to b', async () => (await live(server, 'b')).find((s) => s.stream === 's1'), undefined, open);
    expect(relay.type).toBe(1);

    // two publishers at once.
    const s2 = started(publish(a.rtmpUrl('live', 's2'), clip));
    await waitFor('s1 and s2 live on a at once', async () => {
      const names = (await live(server, 'a')).filter((s) => s.type === 0).map((s) => s.stream).sort();
      return names.join(',') === 's1,s2';
    }, undefined, open);
    // a player of s2 for 2 s: an RTMP play session (on_play .. on_play_done).
    const playerStart = Date.now();
    const player = play(a.rtmpUrl('live', 's2'), 2);
    cleanups.push(() => player.kill());
    await player.exited;
    const plays = await waitFor('the play session ended', async () => {
      const p = (await server.store.playSessions('default', playerStart - 1000, Date.now() + 1000)).filter((x) => x.stream === 's2' && x.end !== null);
      return p.length > 0 ? p : undefined;
    });
    expect(plays[0]).toMatchObject({ domain: DOMAIN, app: 'live', clientIp: '127.0.0.1' });
    expect((plays[0]?.end as number) - (plays[0]?.start as number)).toBeGreaterThan(1000);
    // ... and an online viewer of s2 in the audience cube, protocol rtmp (issue 21's cube).
    const minute = Math.floor((plays[0]?.start as number) / 60_000) * 60_000;
    const viewers = await server.store.usersSeries({
      project: 'default', domain: DOMAIN, app: 'live', stream: 's2', protocol: 'rtmp', regions: [], isps: [], slotMs: 60_000, from: minute, to: minute + 2 * 60_000,
    });
    expect(Math.max(...viewers)).toBe(1);

    // the bitrate a poll measures is the clip's (400k video + 64k audio + FLV framing).
    const measured = await waitFor('a bitrate from two polls', async () => {
      const l = (await live(server, 'a')).find((s) => s.stream === 's1');
      return l && l.bitrate > 0 && l.bytesIn > 200_000 ? l : undefined;
    }, undefined, open);
    expect(measured.bitrate).toBeGreaterThan(300);
    expect(measured.bitrate).toBeLessThan(800);

    // stop, then a break and a resume: two sessions of s1, the second starting after the first ended.
    await s1.stop();
    await waitFor('s1 ended', async () => (await history(server, 's1', t0)).some((s) => s.origin === 'a' && s.end !== null));
    await waitFor('the relay of s1 ended on b', async () => (await history(server, 's1', t0)).some((s) => s.origin === 'b' && s.end !== null));
    const resumed = started(publish(a.rtmpUrl('live', 's1'), clip));
    const sessions = await waitFor('s1 resumed', async () => {
      const h = (await history(server, 's1', t0)).filter((s) => s.origin === 'a');
      return h.length === 2 && h[0]?.end === null ? h : undefined;
    }, undefined, async () => (await history(server, 's1', t0)).map((s) => ({ origin: s.origin, id: s.id, start: s.start, end: s.end })));
    const [second, firstDone] = sessions as [PublishSession, PublishSession];
    expect(second.id).not.toBe(firstDone.id);
    expect(firstDone.end).not.toBeNull();
    expect(second.start).toBeGreaterThanOrEqual(firstDone.end as number);

    // input bytes per slot: the publishers' bytes, counted once per poll delta.
    const from = Math.floor(t0 / 300_000) * 300_000;
    const to = Math.ceil((Date.now() + 1) / 300_000) * 300_000;
    const up = await server.store.upBytesSeries({
      project: 'default', domains: [DOMAIN], regions: [], isps: [], type: 0, slotMs: 300_000, from, to,
    });
    const relayUp = await server.store.upBytesSeries({
      project: 'default', domains: [DOMAIN], regions: [], isps: [], type: 1, slotMs: 300_000, from, to,
    });
    expect(up.reduce((x, y) => x + y, 0)).toBeGreaterThan(200_000);
    expect(relayUp.reduce((x, y) => x + y, 0)).toBeGreaterThan(0);
    const counts = await server.store.streamCounts({ project: 'default', domains: [DOMAIN], from, to });
    // s1 and s2 on a, and the relay of s1 on b, at once.
    expect(Math.max(...counts)).toBeGreaterThanOrEqual(3);
    await s2.stop();
    await resumed.stop();
  }, 240_000);

  it('livestats down never stops a publisher (the docs\' nginx.conf as written); back up, the gap is filled from the statistics page', async () => {
    const d = dir('origin-down');
    const port = await freePort();
    const clip = await testClip(join(d, 'clips'), { fps: 30, videoKbps: 300, audioKbps: 64, seconds: 4 });
    const data = join(d, 'data');
    let server = await serve(data, port, []);
    const token = server.auth.issued?.token ?? '';
    // The snippet users paste, as written; only the addresses and the token are this test's.
    const snippet = readFileSync(SNIPPET, 'utf8');
    const conf = snippet
      .replace('listen 1935;', 'listen 127.0.0.1:{RTMP_PORT};')
      .replaceAll('127.0.0.1:8081', '127.0.0.1:{HTTP_PORT}')
      .replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`)
      .replace('"CHANGE-ME"', `"${token}"`);
    const o = await origin(join(d, 'nginx'), { conf });
    await server.close();
    server = await serve(data, port, [o.statUrl]);

    // A publishes while livestats is up.
    const a = started(publish(o.rtmpUrl('live', 'a'), clip));
    const aLive = await waitFor('a live', async () => (await live(server)).find((s) => s.stream === 'a'));
    await server.close();
    const downAt = Date.now();

    // Livestats is down: B connects (its on_publish fails behind the proxy location) and keeps streaming; A stops.
    const bStart = Date.now();
    const b = started(publish(o.rtmpUrl('live', 'b'), clip));
    // When B connected, from the page (its publisher's connected time), not from when ffmpeg was
    // spawned: on a busy machine ffmpeg takes seconds to start.
    let bConnectedBy = 0;
    await waitFor('b streaming for 5 s with livestats down', async () => {
      const page = await o.stat();
      const readAt = Date.now();
      const m = /<stream>\s*<name>b<\/name>[\s\S]*?<client><id>\d+<\/id><address>[^<]*<\/address><time>(\d+)<\/time>[^]*?<publishing\/>/.exec(page);
      if (m !== null && bConnectedBy === 0) bConnectedBy = readAt - Number(m[1]);
      return m !== null && Number(m[1]) > 5000 && b.running;
    });
    // nginx did call on_publish for B, and livestats was not there to answer.
    const log = await o.errorLog();
    expect(log).toMatch(/notify: publish '127\.0\.0\.1:\d+\/livestats-notify'/);
    expect(log).toContain(`connect() failed (111: Connection refused) while connecting to upstream`);
    expect(log).toContain(`upstream: "http://127.0.0.1:${port}/ingest/v1/default/origin/nginx"`);
    await a.stop();
    await waitFor('a gone from the statistics page', async () => !/<name>a<\/name>/.test(await o.stat()));
    const upAgain = Date.now();

    // Livestats is back: B is live from when it started, A ended when last seen, B's bytes before now are counted.
    server = await serve(data, port, [o.statUrl]);
    cleanups.push(() => server.close());
    const bLive = await waitFor('b live after the restart', async () => (await live(server)).find((s) => s.stream === 'b'));
    expect(bLive.start).toBeGreaterThanOrEqual(bStart - 1000);
    // B's session covers the outage: it starts when B connected (the page's connected time is read
    // after the page was made, hence the slack), seconds before livestats was back.
    expect(bLive.start).toBeLessThan(bConnectedBy + 2000);
    expect(bLive.start).toBeLessThan(upAgain - 3000);
    const aDone = await waitFor('a closed', async () => (await history(server, 'a', aLive.start - 1)).find((s) => s.end !== null));
    expect(aDone.id).toBe(aLive.id);
    expect(aDone.end as number).toBeLessThanOrEqual(downAt);
    const from = Math.floor(bStart / 300_000) * 300_000;
    const up = await waitFor('b bytes counted', async () => {
      const s = await server.store.upBytesSeries({ project: 'default', domains: [DOMAIN], stream: 'b', regions: [], isps: [], type: 0, slotMs: 300_000, from, to: from + 600_000 });
      const total = s.reduce((x, y) => x + y, 0);
      return total > 0 ? total : undefined;
    });
    // at least the seconds B streamed while livestats was down, at ~364 kbps
    expect(up).toBeGreaterThan(((upAgain - bStart) / 1000) * 20_000);
    expect(b.running).toBe(true);
    await b.stop();
  }, 240_000);

  it('the trade-off the docs warn about: on_publish pointed straight at a livestats that is down drops the publisher', async () => {
    const d = dir('origin-direct');
    const dead = await freePort();
    const clip = await testClip(join(d, 'clips'), { fps: 25, videoKbps: 200, audioKbps: 64, seconds: 2 });
    const o = await origin(join(d, 'nginx'), {
      conf: `rtmp { server { listen 127.0.0.1:{RTMP_PORT}; notify_method post; application live { live on;
        on_publish http://127.0.0.1:${dead}/ingest/v1/default/origin/nginx; } } }
http { server { listen 127.0.0.1:{HTTP_PORT}; location = /stat { rtmp_stat all; } } }`,
    });
    const p = started(publish(o.rtmpUrl('live', 'x'), clip));
    expect(await p.exited).not.toBe(0);
    expect(await o.errorLog()).toMatch(/notify: publish/);
  }, 120_000);

  it('docs/origin.md shows the snippet exactly as deploy/nginx/livestats-origin.conf has it', () => {
    const doc = readFileSync(join(__dirname, '..', 'docs', 'origin.md'), 'utf8');
    expect(doc).toContain(readFileSync(SNIPPET, 'utf8'));
  });
});
