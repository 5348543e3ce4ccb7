import { afterEach, describe, expect, it } from 'vitest';
import type { PortraitDay, UsersFilter } from '../src/store/audience.js';
import type { Store } from '../src/store/types.js';
import { batch } from './store-conformance.js';
import { audienceOf, D, DOMAIN, FORMAT, FORMAT_NO_RT, LINES, LINES_NO_RT } from './fixtures/audience-log.js';

/**
 * The audience cube's behaviour, run unchanged against each store (so SQLite and ClickHouse give the
 * same answers): the known log of test/fixtures/audience-log.ts through the real line processor, and
 * the answers computed by hand there.
 */
const H = 3_600_000;
const M = 60_000;
const at = (h: number, m: number): number => D + h * H + m * M;

function users(more: Partial<UsersFilter>): UsersFilter {
  return { project: 'p1', domain: DOMAIN, app: undefined, stream: undefined, protocol: undefined, regions: [], isps: [], slotMs: M, from: at(10, 0), to: at(10, 3), ...more };
}

const portrait = (more: Partial<PortraitDay>): PortraitDay => ({ flow: 0, requests: 0, playSeconds: 0, users: 0, peakUsers: 0, peakBytes5m: 0, pushSeconds: 0, ...more });

export async function writeAudienceLog(s: Store, split = false): Promise<void> {
  const lines = [...LINES];
  if (split) {
    // One batch per line (as a follower flushing every line would), so every set is built across batches.
    for (const l of lines) await s.write(batch({ audience: audienceOf(FORMAT, [l]).audience }));
  } else {
    await s.write(batch({ audience: audienceOf(FORMAT, lines).audience }));
  }
  await s.write(batch({ audience: audienceOf(FORMAT_NO_RT, LINES_NO_RT).audience }));
}

export function runAudienceConformance(name: string, open: () => Promise<Store>): void {
  describe(`audience conformance: ${name}`, () => {
    let store: Store | undefined;
    afterEach(async () => {
      await store?.close();
      store = undefined;
    });

    async function check(s: Store): Promise<void> {
      // Sessions over minutes; HLS viewers distinct per (IP, stream, minute); a session without $request_time: its end minute.
      expect([...await s.usersSeries(users({ from: at(9, 58), to: at(10, 7) }))]).toEqual([0, 1, 4, 2, 1, 0, 0, 1, 0]);
      // 300 s: the largest of the five minutes.
      expect([...await s.usersSeries(users({ slotMs: 300_000, from: at(9, 55), to: at(10, 10) }))]).toEqual([1, 4, 1]);
      // Across the hour and UTC midnight.
      expect([...await s.usersSeries(users({ from: at(10, 58), to: at(11, 2) }))]).toEqual([1, 1, 1, 0]);
      expect([...await s.usersSeries(users({ from: at(23, 57), to: at(24, 3) }))]).toEqual([0, 1, 1, 1, 1, 0]);
      // Every filter.
      expect([...await s.usersSeries(users({ protocol: 'flv' }))]).toEqual([2, 1, 1]);
      expect([...await s.usersSeries(users({ protocol: 'hls' }))]).toEqual([2, 1, 0]);
      expect([...await s.usersSeries(users({ protocol: 'rtmp' }))]).toEqual([0, 0, 0]);
      expect([...await s.usersSeries(users({ regions: ['GD'] }))]).toEqual([2, 2, 1]);
      expect([...await s.usersSeries(users({ regions: ['BJ'], from: at(9, 59) }))]).toEqual([1, 1, 0, 0]);
      expect([...await s.usersSeries(users({ regions: ['GD', 'BJ'] }))]).toEqual([3, 2, 1]);
      expect([...await s.usersSeries(users({ isps: ['CMCC'], from: at(9, 59) }))]).toEqual([1, 1, 0, 0]);
      expect([...await s.usersSeries(users({ isps: ['OTHER'] }))]).toEqual([1, 0, 0]);
      expect([...await s.usersSeries(users({ regions: ['GD'], isps: ['CMCC'] }))]).toEqual([0, 0, 0]);
      expect([...await s.usersSeries(users({ stream: 's1' }))]).toEqual([4, 2, 1]);
      expect([...await s.usersSeries(users({ stream: 's2', from: at(10, 58), to: at(11, 1) }))]).toEqual([1, 1, 1]);
      expect([...await s.usersSeries(users({ app: 'other', from: at(10, 5), to: at(10, 6) }))]).toEqual([1]);
      expect([...await s.usersSeries(users({ app: 'other', stream: 's1' }))]).toEqual([0, 0, 0]);
      expect([...await s.usersSeries(users({ app: 'live', stream: 's1', protocol: 'hls', regions: ['GD'], isps: ['CTCC'] }))]).toEqual([1, 1, 0]);
      expect([...await s.usersSeries(users({ domain: 'a.example.com' }))]).toEqual([4, 0, 0]);
      expect([...await s.usersSeries(users({ project: 'p2' }))]).toEqual([0, 0, 0]);

      // A day's portrait, FLV and HLS (hand-computed in the fixture's comment).
      expect(await s.streamPortrait({ project: 'p1', domain: DOMAIN, stream: undefined, day: D }))
        .toEqual(portrait({ flow: 8700, requests: 8, playSeconds: 651, users: 6, peakUsers: 4, peakBytes5m: 4000 }));
      expect(await s.streamPortrait({ project: 'p1', domain: DOMAIN, stream: undefined, day: D + 24 * H }))
        .toEqual(portrait({ flow: 8000, requests: 1, playSeconds: 70, users: 1, peakUsers: 1, peakBytes5m: 8000 }));
      expect(await s.streamPortrait({ project: 'p1', domain: DOMAIN, stream: 's1', day: D }))
        .toEqual(portrait({ flow: 4000, requests: 6, playSeconds: 531, users: 4, peakUsers: 4, peakBytes5m: 4000 }));
      expect(await s.streamPortrait({ project: 'p1', domain: DOMAIN, stream: 's2', day: D }))
        .toEqual(portrait({ flow: 4000, requests: 1, playSeconds: 120, users: 1, peakUsers: 1, peakBytes5m: 4000 }));
      // 9.9.9.9 on four streams of a.example.com is one user of the domain.
      expect((await s.streamPortrait({ project: 'p1', domain: 'a.example.com', stream: undefined, day: D })).users).toBe(1);
      expect((await s.streamPortrait({ project: 'p1', domain: 'a.example.com', stream: 's1', day: D })).users).toBe(1);
      expect(await s.streamPortrait({ project: 'p1', domain: DOMAIN, stream: 'nope', day: D })).toEqual(portrait({}));
      expect(await s.streamPortrait({ project: 'p2', domain: DOMAIN, stream: undefined, day: D })).toEqual(portrait({}));

      // Play-info: ordered by domain, stream, protocol (then app).
      const row = (domain: string, app: string, stream: string, protocol: 'flv' | 'hls', bytes: number, online: number): object =>
        ({ domain, app, stream, protocol, bytes, online });
      const all = [
        row('a.example.com', 'x', 'bb', 'hls', 20, 1), row('a.example.com', 'x', 's1', 'hls', 80, 1), row('a.example.com', 'y', 's1', 'hls', 40, 1),
        row('a.example.com', 'y', 'zz', 'hls', 10, 1), row(DOMAIN, 'live', 's1', 'flv', 0, 2), row(DOMAIN, 'live', 's1', 'hls', 500, 2),
      ];
      expect(await s.playInfo({ project: 'p1', domains: [], minute: at(10, 0) })).toEqual(all);
      expect(await s.playInfo({ project: 'p1', domains: [DOMAIN, 'a.example.com'], minute: at(10, 0) })).toEqual(all);
      expect(await s.playInfo({ project: 'p1', domains: [DOMAIN], minute: at(10, 1) }))
        .toEqual([row(DOMAIN, 'live', 's1', 'flv', 2000, 1), row(DOMAIN, 'live', 's1', 'hls', 500, 1)]);
      expect(await s.playInfo({ project: 'p1', domains: [DOMAIN], minute: at(10, 5) })).toEqual([row(DOMAIN, 'other', 's3', 'flv', 700, 1)]);
      expect(await s.playInfo({ project: 'p1', domains: ['nope.com'], minute: at(10, 0) })).toEqual([]);
      expect(await s.playInfo({ project: 'p2', domains: [], minute: at(10, 0) })).toEqual([]);
      expect(await s.audienceDomains('p1')).toEqual(['a.example.com', DOMAIN]);
      expect(await s.audienceDomains('p2')).toEqual([]);
    }

    it('answers the hand-computed figures of the known log', async () => {
      const s = (store = await open());
      await writeAudienceLog(s);
      await check(s);
    });

    it('counts HLS viewers and users exactly across batches and repeated lines', async () => {
      const s = (store = await open());
      await writeAudienceLog(s, true);
      // The HLS lines and an FLV client again, in later batches (another process, a file ingested twice):
      // no viewer or user is new, so no count changes but bytes and lines.
      const hls = LINES.filter((l) => l.includes('.m3u8') || l.includes('.ts'));
      await s.write(batch({ audience: audienceOf(FORMAT, hls).audience }));
      const again = audienceOf(FORMAT, hls).audience;
      await s.write(batch({ audience: again }));
      const series = [...await s.usersSeries(users({ from: at(9, 58), to: at(10, 7) }))];
      expect(series).toEqual([0, 1, 4, 2, 1, 0, 0, 1, 0]);
      const p = await s.streamPortrait({ project: 'p1', domain: DOMAIN, stream: undefined, day: D });
      expect(p.users).toBe(6);
      expect(p.peakUsers).toBe(4);
      // Bytes and lines are additive: the repeated 4 HLS lines of d.example.com (1000 bytes) twice.
      expect(p.flow).toBe(8700 + 2000);
      expect(p.playSeconds).toBe(651);
    });

    it('keeps audience data for its own retention', async () => {
      const s = (store = await open());
      await writeAudienceLog(s);
      await s.deleteAudienceBefore(D + 24 * H);
      expect([...await s.usersSeries(users({}))]).toEqual([0, 0, 0]);
      expect((await s.streamPortrait({ project: 'p1', domain: DOMAIN, stream: undefined, day: D })).users).toBe(0);
      expect(await s.streamPortrait({ project: 'p1', domain: DOMAIN, stream: undefined, day: D + 24 * H }))
        .toEqual(portrait({ flow: 8000, requests: 1, playSeconds: 70, users: 1, peakUsers: 1, peakBytes5m: 8000 }));
      // An HLS viewer of a deleted minute is not remembered, but neither is its minute's count: the set and the cube go together.
      await s.write(batch({ audience: audienceOf(FORMAT, LINES.slice(4, 5)).audience }));
      expect([...await s.usersSeries(users({}))]).toEqual([1, 0, 0]);
    });
  });
}
