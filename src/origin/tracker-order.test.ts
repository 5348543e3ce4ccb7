import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { faultyOriginStore } from '../../test/helpers/faulty-origin-store.js';
import type { SqliteStore } from '../store/sqlite/store.js';
import type { PublishSession } from '../store/origin.js';
import type { OriginEvent } from './events.js';
import type { StatStream } from './stat-xml.js';
import { OriginTracker } from './tracker.js';

/**
 * One publisher's continuous publish is one session whatever the order and timing of its
 * notifications and the statistics-page polls (issue 23; the nginx e2e test saw a second, 61 ms
 * session of the same connection under load). nginx-rtmp shows a publisher on its page only once
 * its on_publish has been answered, and livestats answers after writing, so a page requested after
 * the publish was applied can still lack it. Notifications travel on separate requests (through a
 * proxy location that gives up after 2 s) and may arrive late, twice or out of order; a page may be
 * read before a notification and applied after it. Real SQLite store.
 */
const dir = mkdtempSync(join(tmpdir(), 'livestats-order-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const T0 = Date.UTC(2026, 10, 20, 10);
const DOMAIN = 'push.example.com';
const geo = (): { region: 'GD'; isp: 'CTCC' } => ({ region: 'GD', isp: 'CTCC' });

const ev = (kind: OriginEvent['kind'], clientId = '4', more: Partial<OriginEvent> = {}): OriginEvent => ({
  kind, origin: 'a', clientId, app: 'live', stream: 's1', addr: '127.0.0.1', domain: DOMAIN, flashver: 'FMLE/3.0', ...more,
});
/** The page's stream s1 with publisher `clientId`, connected `connectedMs` before the page was made. */
const page = (clientId: string, connectedMs: number, bytesIn = 1000, name = 's1', players: Array<[string, number]> = []): StatStream => ({
  app: 'live', name, timeMs: connectedMs, bytesIn, bwIn: 0, videoCodec: 'H264', audioCodec: 'AAC', width: 640, height: 360, frameRate: 25,
  clients: [{ id: clientId, address: '127.0.0.1', timeMs: connectedMs, flashver: 'FMLE/3.0', publishing: true },
    ...players.map(([id, ms]) => ({ id, address: '192.0.2.7', timeMs: ms, flashver: 'LNX 9,0,124,2', publishing: false }))],
});

interface Setup {
  store: SqliteStore;
  t: OriginTracker;
  at: (ms: number) => void;
  event: (kind: OriginEvent['kind'], clientId?: string, more?: Partial<OriginEvent>) => Promise<void>;
  poll: (requestedAt: number, readAt: number, streams: StatStream[]) => Promise<void>;
  history: (stream?: string) => Promise<Array<Pick<PublishSession, 'id' | 'start' | 'end'>>>;
}

async function setup(): Promise<Setup> {
  const { store } = await faultyOriginStore(dir, `o${++n}.db`);
  let now = T0;
  const t = new OriginTracker({ store, geo, now: () => now });
  await t.restore();
  return {
    store, t,
    at: (ms) => { now = T0 + ms; },
    event: (kind, clientId, more) => t.event('p', ev(kind, clientId, more)),
    poll: (requestedAt, readAt, streams) => t.snapshot({ project: 'p', origin: 'a', domain: DOMAIN, requestedAt: T0 + requestedAt, at: T0 + readAt, streams }),
    history: async (stream = 's1') => (await store.historySessions({ project: 'p', domains: [DOMAIN], stream, from: T0 - 3_600_000, to: T0 + 3_600_000, offset: 0, limit: 100 }))
      .sessions.map((s) => ({ id: s.id, start: s.start, end: s.end })).sort((x, y) => x.start - y.start),
  };
}

/** A setup where connection 4 published s1 at 100 and a page read at 650 shows it: one open session. */
async function publishedAndSeen(): Promise<Setup> {
  const x = await setup();
  x.at(100);
  await x.event('publish');
  await x.poll(600, 650, [page('4', 650)]);
  return x;
}

describe('one connection, one session, whatever the order of notifications and polls', () => {
  it('the interleaving seen in the nginx e2e test: a page requested after the publish was applied, read before nginx made it live, does not split the session', async () => {
    const x = await setup();
    // 0: the client connects; its on_publish is applied 519 ms later (livestats busy).
    x.at(519);
    await x.event('publish');
    // A poll requested after the publish was applied, read while nginx still waits for livestats' answer: no s1.
    await x.poll(530, 580, []);
    // The next page shows the connection publishing since 0 (its connected time).
    x.at(1100);
    await x.poll(1050, 1100, [page('4', 1100, 50_000)]);
    await x.poll(1600, 1620, [page('4', 1620, 90_000)]);
    expect(x.t.openSessions().map((s) => s.id)).toEqual([`a|4|${T0 + 519}`]);
    expect(await x.history()).toEqual([{ id: `a|4|${T0 + 519}`, start: T0 + 519, end: null }]);
    // its bytes are counted once: 90 000 in all.
    const up = await x.store.upBytesSeries({ project: 'p', domains: [DOMAIN], regions: [], isps: [], type: 0, slotMs: 300_000, from: T0, to: T0 + 300_000 });
    expect([...up]).toEqual([90_000]);
    // and it ends once, at its publish_done.
    x.at(6000);
    await x.event('publish_done');
    await x.poll(6100, 6150, []);
    expect(await x.history()).toEqual([{ id: `a|4|${T0 + 519}`, start: T0 + 519, end: T0 + 6000 }]);
    expect((await x.store.openSessions()).length).toBe(0);
    await x.store.close();
  });

  it('an on_update or a repeated on_publish between that page and the next does not split it either', async () => {
    for (const between of ['update', 'publish'] as const) {
      const x = await setup();
      x.at(500);
      await x.event('publish');
      await x.poll(510, 560, []);
      x.at(700);
      await x.event(between, '4', between === 'update' ? { elapsedSec: 0 } : {});
      await x.poll(1000, 1050, [page('4', 1050)]);
      expect(await x.history()).toEqual([{ id: `a|4|${T0 + 500}`, start: T0 + 500, end: null }]);
      await x.store.close();
    }
  });

  it('a page read before the publish was applied and applied after it, with or without the publisher', async () => {
    for (const shows of [false, true]) {
      const x = await setup();
      x.at(400);
      await x.event('publish');
      await x.poll(300, 350, shows ? [page('4', 350)] : []);
      await x.poll(900, 950, [page('4', 950)]);
      expect(await x.history()).toEqual([{ id: `a|4|${T0 + 400}`, start: T0 + 400, end: null }]);
      await x.store.close();
    }
  });

  it('a publish applied after the page opened the session (the proxy gave up, or it arrived late) or applied twice', async () => {
    const x = await setup();
    await x.poll(2500, 2600, [page('4', 2600)]);
    x.at(2700);
    await x.event('publish');
    await x.event('publish');
    await x.poll(3000, 3100, [page('4', 3100)]);
    expect(await x.history()).toEqual([{ id: `a|4|${T0}`, start: T0, end: null }]);
    await x.store.close();
  });

  it('a publish or update that arrives after its publish_done does not open a session of a connection that has stopped', async () => {
    for (const late of ['publish', 'update'] as const) {
      const x = await publishedAndSeen();
      x.at(4000);
      await x.event('publish_done');
      x.at(4100);
      await x.event(late, '4', late === 'update' ? { elapsedSec: 3 } : {});
      await x.poll(4500, 4550, []);
      expect(await x.history()).toEqual([{ id: `a|4|${T0 + 100}`, start: T0 + 100, end: T0 + 4000 }]);
      expect(x.t.refused.get('stale_event')).toBe(1);
      await x.store.close();
    }
  });

  it('a publish_done that arrives after a page closed the session: a stale page read before it does not open it again', async () => {
    const x = await publishedAndSeen();
    // stopped at 3000; the page at 3100 no longer shows it; the publish_done arrives at 3500.
    await x.poll(3050, 3100, []);
    const stale = 3200; // requested before the publish_done, showing it (a stale page from a slow nginx)
    x.at(3500);
    await x.event('publish_done');
    await x.poll(stale, 3600, [page('4', 3600)]);
    expect(await x.history()).toEqual([{ id: `a|4|${T0 + 100}`, start: T0 + 100, end: T0 + 3100 }]);
    expect(x.t.refused.get('unknown_session')).toBeUndefined();
    await x.store.close();
  });

  it('a real break and resume (the publisher stops, a new connection publishes) stays two sessions', async () => {
    const x = await publishedAndSeen();
    x.at(3000);
    await x.event('publish_done');
    await x.poll(3100, 3150, []);
    x.at(4000);
    await x.event('publish', '9');
    await x.poll(4010, 4050, []); // read before nginx made the new one live
    await x.poll(4500, 4550, [page('9', 600)]);
    expect(await x.history()).toEqual([
      { id: `a|4|${T0 + 100}`, start: T0 + 100, end: T0 + 3000 },
      { id: `a|9|${T0 + 4000}`, start: T0 + 4000, end: null },
    ]);
    // without a publish_done (livestats missed it), the page's absence ends the first one.
    await x.poll(8000, 8050, []);
    x.at(9000);
    await x.poll(9000, 9050, [page('12', 50, 10, 's1')]);
    expect((await x.history()).map((s) => [s.id, s.end])).toEqual([
      [`a|4|${T0 + 100}`, T0 + 3000], [`a|9|${T0 + 4000}`, T0 + 8050], [`a|12|${T0 + 9000}`, null],
    ]);
    await x.store.close();
  });

  it('an origin restart that reuses the connection number is still a new session, whether a page saw the old one gone or not', async () => {
    for (const sawGone of [false, true]) {
      const x = await publishedAndSeen();
      // nginx restarts (polls fail meanwhile); its new connection 4 publishes s1 again 30 s later.
      if (sawGone) await x.poll(20_000, 20_050, []);
      await x.poll(31_000, 31_050, [page('4', 1000)]);
      expect((await x.history()).map((s) => [s.id, s.end])).toEqual([
        [`a|4|${T0 + 100}`, sawGone ? T0 + 20_050 : T0 + 650],
        [`a|4|${T0 + 30_050}`, null],
      ]);
      await x.store.close();
    }
  });

  it('a connection that publishes again after its publish_done (a page requested after it shows it) is a new session starting after the first ended', async () => {
    const x = await setup();
    x.at(100);
    await x.event('publish');
    x.at(2000);
    await x.event('publish_done');
    await x.poll(2500, 2550, [page('4', 2550)]);
    expect(await x.history()).toEqual([
      { id: `a|4|${T0 + 100}`, start: T0 + 100, end: T0 + 2000 },
      { id: `a|4|${T0 + 2000}`, start: T0 + 2000, end: null },
    ]);
    await x.store.close();
  });

  it('an on_update that arrives after a page closed the session (the publisher stopped) does not open another', async () => {
    const x = await publishedAndSeen();
    await x.poll(3000, 3050, []);
    x.at(3300);
    await x.event('update', '4', { elapsedSec: 3 });
    await x.poll(3500, 3550, []);
    expect(await x.history()).toEqual([{ id: `a|4|${T0 + 100}`, start: T0 + 100, end: T0 + 3050 }]);
    expect(x.t.refused.get('stale_event')).toBe(1);
    await x.store.close();
  });
});

describe('one RTMP player, one play and one viewer, whatever the order', () => {
  const viewers = async (x: Setup): Promise<number[]> => [...await x.store.usersSeries({
    project: 'p', domain: DOMAIN, app: 'live', stream: 's1', protocol: 'rtmp', regions: [], isps: [], slotMs: 60_000, from: T0, to: T0 + 2 * 60_000,
  })];
  const plays = async (x: Setup): Promise<Array<[number, number | null]>> =>
    (await x.store.playSessions('p', T0 - 60_000, T0 + 3_600_000)).map((p) => [p.start, p.end]);

  it('a page read while nginx waits for the on_play answer does not end the play (nor write its viewer twice)', async () => {
    const x = await setup();
    await x.poll(0, 10, [page('4', 5000)]);
    x.at(1000);
    await x.event('play', '26', { addr: '192.0.2.7' });
    await x.poll(1010, 1060, [page('4', 6060)]); // the player is not on the page yet
    await x.poll(1500, 1550, [page('4', 6550, 2000, 's1', [['26', 600]])]);
    x.at(3000);
    await x.event('play_done', '26', { addr: '192.0.2.7' });
    await x.poll(3100, 3150, [page('4', 8150)]);
    expect(await plays(x)).toEqual([[T0 + 1000, T0 + 3000]]);
    expect(await viewers(x)).toEqual([1, 0]);
    await x.store.close();
  });

  it('an update_play or on_play that arrives after the play ended does not open another; a notified play no page ever shows ends once the wait is over', async () => {
    const x = await setup();
    x.at(1000);
    await x.event('play', '26', { addr: '192.0.2.7' });
    await x.poll(1500, 1550, [page('4', 6550, 2000, 's1', [['26', 600]])]);
    x.at(3000);
    await x.event('play_done', '26', { addr: '192.0.2.7' });
    x.at(3100);
    await x.event('play', '26', { addr: '192.0.2.7' }); // update_play sent before the player left
    await x.poll(3200, 3250, [page('4', 8250)]);
    // Another player whose on_play is applied but who never shows on a page (it left, its play_done lost).
    x.at(4000);
    await x.event('play', '27', { addr: '192.0.2.7' });
    await x.poll(4100, 4150, [page('4', 9150)]);
    expect(await plays(x)).toEqual([[T0 + 1000, T0 + 3000], [T0 + 4000, null]]);
    await x.poll(14_000, 14_050, [page('4', 19_050)]);
    expect(await plays(x)).toEqual([[T0 + 1000, T0 + 3000], [T0 + 4000, T0 + 14_050]]);
    expect(x.t.refused.get('stale_event')).toBe(1);
    await x.store.close();
  });
});

describe('the input bitrate of a poll', () => {
  it('is measured on the origin\'s clock (the page\'s stream time), not on when a busy livestats read the pages', async () => {
    const x = await setup();
    // 58 000 bytes a second (464 kbps). Pages made every 500 ms on nginx's clock; livestats reads
    // them late by 0 to 500 ms (a busy event loop), so the read times are 1000, 500 and 250 ms apart.
    const reads: Array<[number, number]> = [[10_000, 10_000], [10_500, 11_000], [11_000, 11_500], [11_500, 11_750]];
    const rates: number[] = [];
    for (const [made, read] of reads) {
      const s = { ...page('4', made), timeMs: made, bytesIn: 58 * made };
      await x.poll(made - 20, read, [s]);
      rates.push(x.t.openSessions()[0]?.bitrate ?? -1);
    }
    expect(rates.slice(1)).toEqual([464, 464, 464]);
    await x.store.close();
  });
});

describe('an origin that is not polled (notifications only)', () => {
  it('a connection that publishes again after its publish_done is a new session: no page would ever bring it back', async () => {
    const x = await setup();
    x.at(100);
    await x.event('publish');
    x.at(2000);
    await x.event('publish_done');
    x.at(3000);
    await x.event('update', '4', { elapsedSec: 10 });
    expect(await x.history()).toEqual([
      { id: `a|4|${T0 + 100}`, start: T0 + 100, end: T0 + 2000 },
      { id: `a|4|${T0 + 2000}`, start: T0 + 2000, end: null },
    ]);
    expect(x.t.refused.get('stale_event')).toBeUndefined();
    await x.store.close();
  });
});
