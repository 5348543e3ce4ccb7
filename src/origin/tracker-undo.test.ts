import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { faultyOriginStore } from '../../test/helpers/faulty-origin-store.js';
import type { ShardedMap } from './sharded-map.js';
import type { StatClient, StatStream } from './stat-xml.js';
import { OriginTracker, type Snapshot } from './tracker.js';

const dir = mkdtempSync(join(tmpdir(), 'livestats-origin-undo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const T0 = Date.UTC(2026, 10, 20);

const publisher = (id: string, address = '10.1.1.1'): StatClient => ({ id, address, timeMs: 60_000, flashver: 'FMLE/3.0', publishing: true });
const player = (id: string, address = '192.0.2.9'): StatClient => ({ id, address, timeMs: 30_000, flashver: 'LNX 9,0,124,2', publishing: false });
const stream = (name: string, bytesIn: number, clients: StatClient[]): StatStream => ({
  app: 'live', name, timeMs: 1000, bytesIn, bwIn: 0, videoCodec: 'H264', audioCodec: 'AAC', width: 1280, height: 720, frameRate: 30, clients,
});
const snap = (at: number, streams: StatStream[]): Snapshot => ({ project: 'p', origin: 'o1', domain: 'push.example.com', requestedAt: at - 10, at, streams });

/**
 * The tracker's maps, whole, in key order: an entry the undo puts back after the apply deleted it
 * comes back last in iteration order (OriginTracker.undo), as with the Maps the tracker had before.
 */
const state = (t: OriginTracker): unknown => {
  const m = t as unknown as Record<'live' | 'plays' | 'ended' | 'vanished', ShardedMap<unknown>>;
  const sorted = (x: ShardedMap<unknown>): unknown => [...x].sort(([a], [b]) => (a < b ? -1 : 1));
  return { live: sorted(m.live), plays: sorted(m.plays), ended: sorted(m.ended), vanished: sorted(m.vanished) };
};

describe('OriginTracker undo', () => {
  it('a poll whose apply throws part-way leaves every map as it was, (the journal)', async () => {
    const { store } = await faultyOriginStore(dir, 'undo.db');
    let now = T0;
    // The geo lookup of one address throws: the apply stops there, after changes to every map.
    const geo = (addr: string): { region: 'GD'; isp: 'CTCC' } => {
      if (addr === '198.51.100.66') throw new Error('geo lookup failed');
      return { region: 'GD', isp: 'CTCC' };
    };
    const t = new OriginTracker({ store, geo, now: () => now, applySlice: 3 });
    await t.restore();
    await t.snapshot(snap(now, [
      stream('a', 100, [publisher('1'), player('11'), player('12')]),
      stream('b', 100, [publisher('2'), player('13')]),
      stream('c', 100, [publisher('3'), player('14')]),
    ]));
    now += 70_000;
    // a's bytes grow and a player leaves, b is gone (its session and play end), d opens; then the throw.
    await t.snapshot(snap(now, [stream('a', 900, [publisher('1'), player('11')]), stream('c', 100, [publisher('3'), player('14')])]));
    const before = state(t);
    now += 70_000;
    await expect(t.snapshot(snap(now, [
      stream('a', 5000, [publisher('1'), player('15')]),
      stream('d', 10, [publisher('4'), player('16')]),
      stream('e', 10, [publisher('5'), player('17', '198.51.100.66')]),
    ]))).rejects.toThrow('geo lookup failed');
    expect(state(t)).toEqual(before);
    await store.close();
  });
});
