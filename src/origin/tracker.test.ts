import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { faultyOriginStore } from '../../test/helpers/faulty-origin-store.js';
import type { SqliteStore } from '../store/sqlite/store.js';
import { coveredSeconds } from '../store/origin-counts.js';
import type { OriginEvent } from './events.js';
import { pushDuration } from './push-duration.js';
import type { StatStream } from './stat-xml.js';
import { OriginTracker, OriginWriteHeld, spreadBytes } from './tracker.js';

const dir = mkdtempSync(join(tmpdir(), 'livestats-origin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const SLOT = 300_000;
const T0 = Date.UTC(2026, 10, 20);

/** A real SQLite store whose next `failures` origin writes fail (test/helpers/faulty-origin-store.ts). */
const faultyStore = (): ReturnType<typeof faultyOriginStore> => faultyOriginStore(dir, `t${++n}.db`);

const geo = (): { region: 'GD'; isp: 'CTCC' } => ({ region: 'GD', isp: 'CTCC' });
const ev = (kind: OriginEvent['kind'], more: Partial<OriginEvent> = {}): OriginEvent => ({
  kind, origin: 'o1', clientId: '7', app: 'live', stream: 's1', addr: '10.1.1.1', domain: 'push.example.com', flashver: 'FMLE/3.0', ...more,
});
const stream = (bytesIn: number, more: Partial<StatStream> = {}): StatStream => ({
  app: 'live', name: 's1', timeMs: 1000, bytesIn, bwIn: 0, videoCodec: 'H264', audioCodec: 'AAC', width: 1280, height: 720, frameRate: 30,
  clients: [{ id: '7', address: '10.1.1.1', timeMs: 60_000, flashver: 'FMLE/3.0', publishing: true }], ...more,
});
const upTotal = async (store: SqliteStore, from: number, to: number): Promise<number> =>
  (await store.upBytesSeries({ project: 'p', domains: ['push.example.com'], regions: [], isps: [], type: 0, slotMs: SLOT, from, to })).reduce((a, b) => a + b, 0);

describe('spreadBytes', () => {
  it('splits bytes over 5-minute slots in proportion to time, summing exactly', () => {
    expect(spreadBytes(1000, T0 + 100_000, T0 + SLOT + 100_000)).toEqual([{ slot: T0, bytes: 667 }, { slot: T0 + SLOT, bytes: 333 }]);
    expect(spreadBytes(7, T0, T0 + 3 * SLOT)).toEqual([{ slot: T0, bytes: 2 }, { slot: T0 + SLOT, bytes: 3 }, { slot: T0 + 2 * SLOT, bytes: 2 }]);
    expect(spreadBytes(2 ** 50 + 1, T0, T0 + 10).reduce((a, b) => a + b.bytes, 0)).toBe(2 ** 50 + 1);
    expect(spreadBytes(0, T0, T0 + SLOT)).toEqual([]);
  });
});

describe('OriginTracker', () => {
  it('a notification whose write fails is held and written once before the next; one refused while it still fails changes nothing and is not counted later', async () => {
    const { store, fail } = await faultyStore();
    let now = T0;
    const t = new OriginTracker({ store, geo, now: () => now });
    await t.restore();
    fail(2);
    // The write fails: applied and held (the route answers accepted).
    await expect(t.event('p', ev('publish'))).rejects.toBeInstanceOf(OriginWriteHeld);
    expect(t.openSessions().map((s) => s.start)).toEqual([T0]);
    expect((await store.openSessions())).toEqual([]);
    now += 1000;
    // The held batch fails again: this notification is refused and nothing of it is applied.
    await expect(t.event('p', ev('publish', { clientId: '8', stream: 's2' }))).rejects.toThrow('disk is full');
    expect(t.openSessions().map((s) => s.stream)).toEqual(['s1']);
    now += 1000;
    // The store is back: the held batch lands first, then this one.
    await t.event('p', ev('publish_done'));
    const h = await store.historySessions({ project: 'p', domains: ['push.example.com'], from: T0, to: T0 + 60_000, offset: 0, limit: 10 });
    expect(h.sessions.map((s) => [s.stream, s.start, s.end, s.region, s.isp, s.type])).toEqual([['s1', T0, T0 + 2000, 'GD', 'CTCC', 0]]);
    await store.close();
  });

  it('input bytes: each poll adds the growth since the last one; a poll whose write fails is held and written once before the next', async () => {
    const { store, fail } = await faultyStore();
    let now = T0 + 60_000;
    const t = new OriginTracker({ store, geo, now: () => now });
    await t.restore();
    const poll = (bytes: number): Promise<void> => t.snapshot({ project: 'p', origin: 'o1', domain: 'push.example.com', requestedAt: now - 10, at: now, streams: [stream(bytes)] });
    await poll(1000); // first seen by a poll: started 60 s ago, its 1000 bytes cover [T0, T0+60 s)
    expect(t.openSessions()[0]?.start).toBe(T0);
    now += 10_000;
    await poll(3000);
    now += 10_000;
    fail(1);
    await expect(poll(5000)).rejects.toBeInstanceOf(OriginWriteHeld);
    now += 10_000;
    await poll(9000);
    expect(await upTotal(store, T0, T0 + SLOT)).toBe(9000);
    const live = t.openSessions()[0];
    expect(live).toMatchObject({ bytesIn: 9000, bitrate: Math.round((4000 * 8) / 10_000), videoCodec: 'H264', frameRate: 30, width: 1280 });
    await store.close();
  });

  it('after a restart: a session the page still shows goes on and its gap bytes are filled; one it no longer shows ends when last seen', async () => {
    const { store } = await faultyStore();
    let now = T0;
    const t1 = new OriginTracker({ store, geo, now: () => now });
    await t1.restore();
    await t1.event('p', ev('publish', { clientId: '1', stream: 'gone' }));
    await t1.event('p', ev('publish', { clientId: '7', stream: 's1' }));
    now += 5000;
    await t1.snapshot({ project: 'p', origin: 'o1', domain: 'push.example.com', requestedAt: now, at: now, streams: [
      stream(500), stream(100, { name: 'gone', clients: [{ id: '1', address: '10.1.1.1', timeMs: 5000, flashver: '', publishing: true }] }),
    ] });
    // livestats stops for 20 minutes; a new tracker (a new process) starts on the same store.
    now += 20 * 60_000;
    const t2 = new OriginTracker({ store, geo, now: () => now });
    await t2.restore();
    await t2.snapshot({ project: 'p', origin: 'o1', domain: 'push.example.com', requestedAt: now, at: now, streams: [
      stream(600_500, { clients: [{ id: '7', address: '10.1.1.1', timeMs: now - T0, flashver: 'FMLE/3.0', publishing: true }] }),
    ] });
    const h = await store.historySessions({ project: 'p', domains: ['push.example.com'], from: T0, to: now + 1, offset: 0, limit: 10 });
    const byStream = Object.fromEntries(h.sessions.map((s) => [s.stream, s]));
    expect(byStream.gone?.end).toBe(T0 + 5000);
    expect(byStream.s1?.end).toBeNull();
    // 600 000 bytes of the gap over [T0+5 s, T0+20 min 5 s): the slots of the gap, not the slot of the poll.
    const series = await store.upBytesSeries({ project: 'p', domains: ['push.example.com'], stream: 's1', regions: [], isps: [], type: 0, slotMs: SLOT, from: T0, to: T0 + 5 * SLOT });
    // 500 bytes a second: 295 s of the first slot, three whole slots, 5 s of the last.
    expect([...series]).toEqual([500 + 147_500, 150_000, 150_000, 150_000, 2500]);
    await store.close();
  });

  it('a poll requested before a publish_done that arrives after it does not open the ended session again', async () => {
    const { store } = await faultyStore();
    let now = T0;
    const t = new OriginTracker({ store, geo, now: () => now });
    await t.restore();
    await t.event('p', ev('publish'));
    const requestedAt = now + 1000;
    now += 2000;
    await t.event('p', ev('publish_done'));
    now += 500;
    await t.snapshot({ project: 'p', origin: 'o1', domain: 'push.example.com', requestedAt, at: now, streams: [stream(1000)] });
    expect(t.openSessions()).toEqual([]);
    const h = await store.historySessions({ project: 'p', domains: ['push.example.com'], from: T0, to: now + 1, offset: 0, limit: 10 });
    expect(h.sessions.map((s) => [s.start, s.end])).toEqual([[T0, T0 + 2000]]);
    // a poll requested after it: the page showing the same connection again is a new session
    await t.snapshot({ project: 'p', origin: 'o1', domain: 'push.example.com', requestedAt: now, at: now + 100, streams: [stream(1000, { clients: [{ id: '7', address: '10.1.1.1', timeMs: 50, flashver: '', publishing: true }] })] });
    expect(t.openSessions()).toHaveLength(1);
    await store.close();
  });

  it('relays: nginx-rtmp\'s relay flashver, a configured relay address or an SRS relay hook make type 1', async () => {
    const { store } = await faultyStore();
    const t = new OriginTracker({ store, geo, now: () => T0, isRelayAddress: (ip) => ip === '10.9.9.9' });
    await t.event('p', ev('publish', { clientId: '1', stream: 'a', flashver: 'LNX.11,1,102,55' }));
    await t.event('p', ev('publish', { clientId: '2', stream: 'b', addr: '10.9.9.9' }));
    await t.event('p', ev('publish', { clientId: '3', stream: 'c', relay: true }));
    await t.event('p', ev('publish', { clientId: '4', stream: 'd', flashver: 'LNX 11,1,102,55' }));
    expect(t.openSessions().map((s) => [s.stream, s.type])).toEqual([['a', 1], ['b', 1], ['c', 1], ['d', 0]]);
    await store.close();
  });
});

describe('push_duration', () => {
  it('the seconds of a UTC day covered by a stream\'s sessions, overlaps once, an open one up to now', async () => {
    const H = 3_600_000;
    expect(coveredSeconds([{ start: T0 - H, end: T0 + H }, { start: T0 + H / 2, end: T0 + 2 * H }, { start: T0 + 23 * H, end: null }], T0, T0 + 23.5 * H)).toBe(2 * 3600 + 1800);
    const { store } = await faultyStore();
    const s = { project: 'p', domain: 'push.example.com', app: 'live', stream: 's1', clientIp: '', type: 0 as const, region: 'OT' as const, isp: 'OTHER' as const,
      videoCodec: '', audioCodec: '', frameRate: 0, bitrate: 0, width: 0, height: 0, origin: 'o', bytesIn: 0, updatedAt: 1 };
    const sessions = Array.from({ length: 150 }, (_, i) => ({ ...s, id: `x${i}`, start: T0 + i * 60_000, end: T0 + i * 60_000 + 30_000 }));
    await store.writeOrigin({ sessions: [...sessions, { ...s, id: 'other', stream: 's2', start: T0, end: T0 + H }], upBytes: [] });
    expect(await pushDuration(store, { project: 'p', domains: ['push.example.com'], app: 'live', stream: 's1', day: T0 }, T0 + 24 * H)).toBe(150 * 30);
    expect(await pushDuration(store, { project: 'p', domains: ['push.example.com'], stream: 's2', day: T0 }, T0 + 24 * H)).toBe(3600);
    expect(await pushDuration(store, { project: 'p', domains: ['push.example.com'], stream: 's1', day: T0 + 86_400_000 }, T0 + 48 * H)).toBe(0);
    await store.close();
  });
});

describe('RTMP plays feed the audience cube (protocol rtmp)', () => {
  it('a play that ends becomes online viewers per minute, play time and a user of the day; an end whose write fails is held and counted once', async () => {
    const { store, fail } = await faultyStore();
    let now = T0 + 30_000;
    const t = new OriginTracker({ store, geo, now: () => now });
    await t.restore();
    const player = { clientId: '55', addr: '192.0.2.10', stream: 's1' };
    await t.event('p', ev('play', player));
    now = T0 + 150_000;
    fail(1);
    await expect(t.event('p', ev('play_done', player))).rejects.toBeInstanceOf(OriginWriteHeld);
    await t.event('p', ev('play_done', player));
    const users = await store.usersSeries({
      project: 'p', domain: 'push.example.com', app: 'live', stream: 's1', protocol: 'rtmp', regions: [], isps: [], slotMs: 60_000, from: T0, to: T0 + 4 * 60_000,
    });
    expect([...users]).toEqual([1, 1, 1, 0]);
    const flv = await store.usersSeries({
      project: 'p', domain: 'push.example.com', app: 'live', stream: 's1', protocol: 'flv', regions: [], isps: [], slotMs: 60_000, from: T0, to: T0 + 4 * 60_000,
    });
    expect([...flv]).toEqual([0, 0, 0, 0]);
    const day = await store.streamPortrait({ project: 'p', domain: 'push.example.com', stream: 's1', day: T0 });
    expect(day).toMatchObject({ users: 1, playSeconds: 120, peakUsers: 1 });
    const plays = await store.playSessions('p', T0, T0 + 60 * 60_000);
    expect(plays.map((p) => [p.start, p.end])).toEqual([[T0 + 30_000, T0 + 150_000]]);
    await store.close();
  });

  it('a statistics-page stream whose name the query parameters refuse (\'/\', empty) is not opened, and is counted bad_name', async () => {
    const { store } = await faultyStore();
    const t = new OriginTracker({ store, geo, now: () => T0 });
    await t.restore();
    await t.snapshot({ project: 'p', origin: 'o1', domain: 'push.example.com', requestedAt: T0, at: T0, streams: [
      stream(1000, { name: 'a/b' }), stream(1000, { app: '' }), stream(1000, { name: 'ok' }),
    ] });
    expect(t.openSessions().map((s) => s.stream)).toEqual(['ok']);
    expect(t.refused.get('bad_name')).toBe(2);
    await store.close();
  });
});
