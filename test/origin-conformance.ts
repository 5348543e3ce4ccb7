import { afterEach, describe, expect, it } from 'vitest';
import type { PublishSession, UpBytesRow } from '../src/store/origin.js';
import type { Store } from '../src/store/types.js';

/**
 * The publish side of a store (src/store/origin.ts), run unchanged against each backend: exact
 * answers for windows, paging and slots. `open` returns a fresh, initialised, empty store.
 */
const MIN = 60_000;
const SLOT = 300_000;
/** 2026-11-20T00:00:00Z. */
const T0 = Date.UTC(2026, 10, 20);

export function session(id: string, start: number, end: number | null, more: Partial<PublishSession> = {}): PublishSession {
  return {
    project: 'p1', id, domain: 'push.example.com', app: 'live', stream: id, clientIp: '10.0.0.1', type: 0, region: 'OT', isp: 'OTHER',
    videoCodec: 'H264', audioCodec: 'AAC', frameRate: 25, bitrate: 800, width: 640, height: 360, start, end, origin: 'o1', bytesIn: 12345, updatedAt: 1, ...more,
  };
}

export function up(slot: number, bytes: number, more: Partial<UpBytesRow> = {}): UpBytesRow {
  return { project: 'p1', domain: 'push.example.com', app: 'live', stream: 's1', region: 'GD', isp: 'CTCC', type: 0, slot, bytes, ...more };
}

export function runOriginConformance(name: string, open: () => Promise<Store>): void {
  describe(`origin store conformance: ${name}`, () => {
    let store: Store | undefined;
    const fresh = async (): Promise<Store> => (store = await open());
    afterEach(async () => {
      await store?.close();
      store = undefined;
    });

    it('keeps the newest write of a session id; lists open sessions newest first, paged by page number', async () => {
      const s = await fresh();
      await s.writeOrigin({ sessions: [session('a', T0, null), session('b', T0 + MIN, null), session('c', T0 + 2 * MIN, null)], upBytes: [] });
      // 'a' ends (newer write), an older write of 'b' arrives late and is ignored.
      await s.writeOrigin({ sessions: [session('a', T0, T0 + 5 * MIN, { updatedAt: 5 }), session('b', T0 + MIN, T0 + 9 * MIN, { updatedAt: 0 })], upBytes: [] });
      await s.writeOrigin({ sessions: [session('d', T0 + 3 * MIN, null, { domain: 'other.example.com' })], upBytes: [] });
      const p0 = await s.liveStreams({ project: 'p1', domain: 'push.example.com', offset: 0, limit: 1 });
      expect(p0.total).toBe(2);
      expect(p0.sessions.map((x) => x.id)).toEqual(['c']);
      expect(p0.sessions[0]).toEqual(session('c', T0 + 2 * MIN, null));
      const p1 = await s.liveStreams({ project: 'p1', domain: 'push.example.com', offset: 1, limit: 1 });
      expect(p1.sessions.map((x) => x.id)).toEqual(['b']);
      expect((await s.liveStreams({ project: 'p1', domain: 'push.example.com', offset: 2, limit: 1 })).sessions).toEqual([]);
      expect((await s.liveStreams({ project: 'p1', domain: 'push.example.com', stream: 'b', offset: 0, limit: 10 })).sessions.map((x) => x.id)).toEqual(['b']);
      expect((await s.liveStreams({ project: 'p2', domain: 'push.example.com', offset: 0, limit: 10 })).total).toBe(0);
      expect((await s.openSessions()).map((x) => x.id)).toEqual(['b', 'c', 'd']);
    });

    it('history: sessions overlapping a half-open window, newest first, filtered and paged', async () => {
      const s = await fresh();
      await s.writeOrigin({ sessions: [
        session('early', T0 - 10 * MIN, T0), // ends at the window start: not in it
        session('over', T0 - 10 * MIN, T0 + MIN),
        session('in', T0 + 10 * MIN, T0 + 20 * MIN, { type: 1, app: 'relay' }),
        session('open', T0 + 30 * MIN, null),
        session('late', T0 + 60 * MIN, null), // starts at the window end: not in it
        session('x', T0 + 5 * MIN, null, { domain: 'b.example.com' }),
      ], upBytes: [] });
      const all = await s.historySessions({ project: 'p1', domains: ['push.example.com'], from: T0, to: T0 + 60 * MIN, offset: 0, limit: 10 });
      expect(all.total).toBe(3);
      expect(all.sessions.map((x) => [x.id, x.end, x.type])).toEqual([['open', null, 0], ['in', T0 + 20 * MIN, 1], ['over', T0 + MIN, 0]]);
      const page1 = await s.historySessions({ project: 'p1', domains: ['push.example.com', 'b.example.com'], from: T0, to: T0 + 60 * MIN, offset: 1, limit: 2 });
      expect(page1.total).toBe(4);
      expect(page1.sessions.map((x) => x.id)).toEqual(['x', 'over']);
      const relay = await s.historySessions({ project: 'p1', domains: ['push.example.com'], app: 'relay', from: T0, to: T0 + 60 * MIN, offset: 0, limit: 10 });
      expect(relay.sessions.map((x) => x.id)).toEqual(['in']);
    });

    it('stream counts: the most streams at once per 5-minute slot, per domain, summed over the domains', async () => {
      const s = await fresh();
      await s.writeOrigin({ sessions: [
        session('a', T0 + MIN, T0 + 2 * MIN), // slot 0
        session('b', T0 + 3 * MIN, T0 + 7 * MIN), // slots 0, 1 (not at once with a)
        session('c', T0 + 6 * MIN, T0 + 11 * MIN), // slots 1, 2: with b in slot 1
        session('d', T0 + 10 * MIN, T0 + 11 * MIN, { domain: 'b.example.com' }), // slot 2
        session('e', T0 + 15 * MIN, T0 + 15 * MIN), // empty
        session('f', T0 + 20 * MIN, T0 + 25 * MIN), // ends at slot 5's start: slot 4 only
      ], upBytes: [] });
      const f = { project: 'p1', domains: ['push.example.com', 'b.example.com'], from: T0, to: T0 + 30 * MIN };
      expect([...await s.streamCounts(f)]).toEqual([1, 2, 2, 0, 1, 0]);
      expect([...await s.streamCounts({ ...f, domains: ['push.example.com'] })]).toEqual([1, 2, 1, 0, 1, 0]);
      expect([...await s.streamCounts({ ...f, from: T0 + 5 * MIN, to: T0 + 15 * MIN })]).toEqual([2, 2]);
    });

    it('input bytes: added per slot, rolled up to hours, filtered by stream, region, carrier and type', async () => {
      const s = await fresh();
      await s.writeOrigin({ sessions: [], upBytes: [up(T0, 100), up(T0, 50), up(T0 + SLOT, 7, { region: 'BJ' }), up(T0 + 12 * SLOT, 1000, { stream: 's2', isp: 'CMCC' })] });
      await s.writeOrigin({ sessions: [], upBytes: [up(T0 + SLOT, 3), up(T0, 9, { type: 1 }), up(T0, 2 ** 40, { project: 'p2' })] });
      const f = { project: 'p1', domains: ['push.example.com'], regions: [], isps: [], type: 0 as const, slotMs: SLOT, from: T0, to: T0 + 3 * SLOT };
      expect([...await s.upBytesSeries(f)]).toEqual([150, 10, 0]);
      expect([...await s.upBytesSeries({ ...f, regions: ['BJ'] })]).toEqual([0, 7, 0]);
      expect([...await s.upBytesSeries({ ...f, type: 1 })]).toEqual([9, 0, 0]);
      expect([...await s.upBytesSeries({ ...f, slotMs: 3_600_000, to: T0 + 2 * 3_600_000 })]).toEqual([160, 1000]);
      expect([...await s.upBytesSeries({ ...f, stream: 's2', isps: ['CMCC'], slotMs: 3_600_000, to: T0 + 2 * 3_600_000 })]).toEqual([0, 1000]);
      expect([...await s.upBytesSeries({ ...f, project: 'p2' })]).toEqual([2 ** 40, 0, 0]);
    });

    it('RTMP play sessions: the newest write wins, listed when they overlap the window', async () => {
      const s = await fresh();
      const play = { project: 'p1', domain: 'push.example.com', app: 'live', stream: 's1', clientIp: '10.0.0.9', region: 'OT' as const, isp: 'OTHER' as const };
      await s.writeOrigin({ sessions: [], upBytes: [], plays: [{ ...play, id: 'v1', start: T0, end: null, updatedAt: 1 }, { ...play, id: 'v2', start: T0 - MIN, end: T0, updatedAt: 1 }] });
      await s.writeOrigin({ sessions: [], upBytes: [], plays: [{ ...play, id: 'v1', start: T0, end: T0 + MIN, updatedAt: 2 }] });
      expect(await s.openPlays()).toEqual([]);
      await s.writeOrigin({ sessions: [], upBytes: [], plays: [{ ...play, id: 'v3', start: T0 + 2 * MIN, end: null, updatedAt: 3 }] });
      expect(await s.playSessions('p1', T0, T0 + 10 * MIN)).toEqual([
        { ...play, id: 'v1', start: T0, end: T0 + MIN, updatedAt: 2 }, { ...play, id: 'v3', start: T0 + 2 * MIN, end: null, updatedAt: 3 },
      ]);
      expect(await s.openPlays()).toEqual([{ ...play, id: 'v3', start: T0 + 2 * MIN, end: null, updatedAt: 3 }]);
    });

    it('push_duration of a stream portrait: seconds of the UTC day covered by its publish sessions on any publish domain', async () => {
      const s = await fresh();
      const day = T0;
      await s.writeOrigin({ upBytes: [], sessions: [
        session('y', day - 10 * MIN, day + 10 * MIN, { stream: 'cam' }), // 10 minutes inside the day
        session('a', day + 60 * MIN, day + 90 * MIN, { stream: 'cam' }),
        session('b', day + 80 * MIN, day + 100 * MIN, { stream: 'cam', domain: 'relay.example.com', app: 'other', type: 1 }), // overlaps a: counted once
        session('c', day + 200 * MIN, day + 300 * MIN, { stream: 'cam2' }),
        session('d', day + 200 * MIN, day + 300 * MIN, { stream: 'cam', project: 'p2' }),
        session('t', day + 24 * 60 * MIN - MIN, day + 24 * 60 * MIN + 30 * MIN, { stream: 'cam' }), // the day's last minute
      ] });
      expect((await s.streamPortrait({ project: 'p1', domain: 'play.example.com', stream: 'cam', day })).pushSeconds).toBe((10 + 40 + 1) * 60);
      expect((await s.streamPortrait({ project: 'p1', domain: 'play.example.com', stream: 'none', day })).pushSeconds).toBe(0);
      expect((await s.streamPortrait({ project: 'p1', domain: 'play.example.com', stream: undefined, day })).pushSeconds).toBe(0);
    });
  });
}
