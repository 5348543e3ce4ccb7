import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { faultyOriginStore } from '../../test/helpers/faulty-origin-store.js';
import type { OriginEvent } from './events.js';
import type { StatClient, StatStream } from './stat-xml.js';
import { ShardedMap } from './sharded-map.js';
import { OriginTracker, OriginWriteHeld, type Snapshot } from './tracker.js';

const dir = mkdtempSync(join(tmpdir(), 'livestats-origin-cost-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const T0 = Date.UTC(2026, 10, 20);

/** A real SQLite store whose next `failures` origin writes fail (test/helpers/faulty-origin-store.ts). */
const faultyStore = (): ReturnType<typeof faultyOriginStore> => faultyOriginStore(dir, `t${++n}.db`);

const geo = (): { region: 'GD'; isp: 'CTCC' } => ({ region: 'GD', isp: 'CTCC' });
const ev = (kind: OriginEvent['kind'], more: Partial<OriginEvent> = {}): OriginEvent => ({
  kind, origin: 'o2', clientId: '7', app: 'live', stream: 's1', addr: '10.1.1.1', domain: 'push.example.com', flashver: 'FMLE/3.0', ...more,
});
const publisher = (id: string): StatClient => ({ id, address: '10.1.1.1', timeMs: 60_000, flashver: 'FMLE/3.0', publishing: true });
const player = (id: string): StatClient => ({ id, address: '192.0.2.9', timeMs: 30_000, flashver: 'LNX 9,0,124,2', publishing: false });
const stream = (name: string, bytesIn: number, clients: StatClient[]): StatStream => ({
  app: 'live', name, timeMs: 1000, bytesIn, bwIn: 0, videoCodec: 'H264', audioCodec: 'AAC', width: 1280, height: 720, frameRate: 30, clients,
});
const snap = (origin: string, at: number, streams: StatStream[]): Snapshot => ({ project: 'p', origin, domain: 'push.example.com', requestedAt: at - 10, at, streams });

/**
 * Entries stepped through by every Map iterator while `fn` runs: a copy of a Map (new Map(map)),
 * a spread or a for-of over one all step through its iterator. Patching %MapIteratorPrototype%.next
 * also turns off V8's fast copy of a Map, so copies are counted too. The tracker's sharded maps count
 * their own steps (ShardedMap.steps).
 */
async function mapSteps(fn: () => Promise<void>): Promise<number> {
  const proto = Object.getPrototypeOf(new Map().entries()) as { next: (this: Iterator<unknown>) => IteratorResult<unknown> };
  const next = proto.next;
  let steps = -ShardedMap.steps;
  proto.next = function (this: Iterator<unknown>) {
    steps++;
    return next.call(this);
  };
  try {
    await fn();
  } finally {
    proto.next = next;
  }
  return steps + ShardedMap.steps;
}

/** The tracker's state, whole (every map, in key order). */
const state = (t: OriginTracker): unknown => {
  const m = t as unknown as Record<'live' | 'plays' | 'ended', ShardedMap<unknown>>;
  const sorted = (x: ShardedMap<unknown>): unknown => [...x.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  return { live: sorted(m.live), plays: sorted(m.plays), ended: sorted(m.ended) };
};

describe('OriginTracker cost per operation', () => {
  it('a notification or a poll of one origin steps through a bounded number of entries, whatever other origins hold open (was a copy of all three maps)', async () => {
    const { store } = await faultyStore();
    let now = T0;
    const t = new OriginTracker({ store, geo, now: () => now });
    await t.restore();
    // Origin o1: 3000 streams, each a publisher and a player.
    const big = Array.from({ length: 3000 }, (_, i) => stream(`b${i}`, 1000, [publisher(String(i)), player(String(100_000 + i))]));
    await t.snapshot(snap('o1', now, big));
    expect(t.openSessions()).toHaveLength(3000);
    now += 1000;
    const publish = await mapSteps(() => t.event('p', ev('publish')));
    now += 1000;
    const play = await mapSteps(() => t.event('p', ev('play', { clientId: '9', addr: '192.0.2.1' })));
    now += 1000;
    const poll = await mapSteps(() => t.snapshot(snap('o2', now, [stream('s1', 5000, [publisher('7'), player('9')])])));
    now += 1000;
    const end = await mapSteps(async () => {
      await t.event('p', ev('play_done', { clientId: '9' }));
      await t.event('p', ev('publish_done'));
    });
    expect({ publish, play, poll, end }).toEqual({ publish: expect.any(Number), play: expect.any(Number), poll: expect.any(Number), end: expect.any(Number) });
    for (const steps of [publish, play, poll, end]) expect(steps).toBeLessThan(200);
    expect(t.openSessions()).toHaveLength(3000);
  });

  it('a refused write keeps its operation applied and its batch held; sent again before the next operation, the stored answers are those of an unrefused tracker', async () => {
    const a = await faultyStore();
    const b = await faultyStore();
    let now = T0;
    const ta = new OriginTracker({ store: a.store, geo, now: () => now });
    const tb = new OriginTracker({ store: b.store, geo, now: () => now });
    await ta.restore();
    await tb.restore();
    const steps: Array<(t: OriginTracker) => Promise<void>> = [
      (t) => t.snapshot(snap('o1', now, [stream('a', 100, [publisher('1'), player('11')]), stream('b', 100, [publisher('2'), player('12'), player('13')])])),
      (t) => t.event('p', ev('publish', { origin: 'o1', clientId: '3', stream: 'c' })),
      (t) => t.event('p', ev('play', { origin: 'o1', clientId: '14', stream: 'c' })),
      // Ends b and a player of a, opens d, grows a's bytes, refreshes the rest.
      (t) => t.snapshot(snap('o1', now, [stream('a', 5000, [publisher('1')]), stream('c', 10, [publisher('3'), player('14')]), stream('d', 10, [publisher('4'), player('15')])])),
      (t) => t.event('p', ev('play_done', { origin: 'o1', clientId: '14', stream: 'c' })),
      (t) => t.event('p', ev('publish_done', { origin: 'o1', clientId: '3', stream: 'c' })),
      // c resumes on a new connection (a publish of connection 3 after its publish_done is a late one: ignored).
      (t) => t.event('p', ev('publish', { origin: 'o1', clientId: '5', stream: 'c' })),
      (t) => t.snapshot(snap('o1', now, [])),
    ];
    for (const [i, step] of steps.entries()) {
      now += 70_000;
      await step(tb);
      if (i % 2 === 0) {
        // Held, not undone (docs/origin.md, "When the store fails"): the next operation sends it first.
        a.fail(1);
        await expect(step(ta), `step ${i}`).rejects.toThrow(OriginWriteHeld);
      } else {
        // The held batch fails again: this operation is refused whole (nothing of it applied) ...
        const before = state(ta);
        a.fail(1);
        await expect(step(ta), `step ${i}`).rejects.toThrow('disk is full');
        expect(state(ta)).toEqual(before);
        // ... and taken when sent again, after the held batch.
        await step(ta);
      }
      expect(state(ta)).toEqual(state(tb));
    }
    // One more (empty) poll on both: ta sends its last held batch before it.
    now += 70_000;
    await ta.snapshot(snap('o1', now, []));
    await tb.snapshot(snap('o1', now, []));
    expect(state(ta)).toEqual(state(tb));
    const from = T0 - 86_400_000;
    const to = now + 86_400_000;
    expect(await a.store.playSessions('p', from, to)).toEqual(await b.store.playSessions('p', from, to));
    expect(await a.store.historySessions({ project: 'p', domains: ['push.example.com'], from, to, offset: 0, limit: 100 }))
      .toEqual(await b.store.historySessions({ project: 'p', domains: ['push.example.com'], from, to, offset: 0, limit: 100 }));
  });
});
