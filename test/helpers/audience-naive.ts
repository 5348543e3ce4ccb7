import { expect } from 'vitest';
import { seeded } from '../../bench/lib/rng.js';
import { AudienceCounter } from '../../src/ingest/audience/audience-counter.js';
import { packGeo } from '../../src/ingest/geo/names.js';
import type { Isp, Region } from '../../src/contract/values.js';
import type { AudienceProtocol, PlayInfoRow, UsersFilter } from '../../src/store/audience.js';
import type { Store } from '../../src/store/types.js';

/**
 * Random FLV/RTMP sessions and the naive model of their viewers (every session added to every
 * minute it overlaps), for test/audience-sessions.test.ts.
 */
export const M = 60_000;
export const H = 3_600_000;
const DAY = 86_400_000;
export const D = Date.UTC(2026, 10, 20);
export const DOMAIN = 'flv.example.com';
export const STREAMS = ['s0', 's1', 's2'];
export const GEOS: Array<[Region, Isp]> = [['GD', 'CTCC'], ['BJ', 'CMCC'], ['OT', 'OTHER']];
const PROTOCOLS = [0, 2]; // flv, rtmp

export interface Session { stream: number; protocol: number; geo: number; end: number; durationMs: number }

export function randomSessions(n: number, seed: number): Session[] {
  const rand = seeded(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)] as T;
  return Array.from({ length: n }, () => {
    const kind = Math.floor(rand() * 5);
    const durationMs = [0, Math.floor(rand() * 59_999), Math.floor(rand() * 20 * M), Math.floor(rand() * 8 * H), Math.floor(rand() * 3) * 15 * M][kind] as number;
    // Ends from 02:00 on day D to 06:00 on D + 1 (sessions cross midnight), some exactly on a minute or a quarter-hour.
    let end = D + 2 * H + Math.floor(rand() * 28 * H);
    const edge = rand();
    if (edge < 0.2) end = Math.floor(end / (15 * M)) * 15 * M;
    else if (edge < 0.4) end = Math.floor(end / M) * M;
    return { stream: Math.floor(rand() * STREAMS.length), protocol: pick(PROTOCOLS), geo: Math.floor(rand() * GEOS.length), end, durationMs };
  });
}

/** The minutes a session covers ([first, last]) as audience-api.md defines them. */
export function span(s: Session): [number, number] {
  const first = Math.floor((s.end - s.durationMs) / M);
  const last = s.durationMs > 0 ? Math.ceil(s.end / M) - 1 : Math.floor(s.end / M);
  return [first, last];
}

/** The naive model: per minute, every session overlapping it. */
export class Naive {
  constructor(private readonly sessions: Session[]) {}
  viewers(minute: number, match: (s: Session) => boolean = () => true): number {
    let n = 0;
    for (const s of this.sessions) {
      const [first, last] = span(s);
      if (match(s) && first <= minute && minute <= last) n++;
    }
    return n;
  }
  playMs(day: number, match: (s: Session) => boolean): number {
    let ms = 0;
    for (const s of this.sessions) if (match(s)) ms += Math.max(0, Math.min(s.end, day + DAY) - Math.max(s.end - s.durationMs, day));
    return ms;
  }
}

/** Cells of some sessions as one ingest batch drains them. */
export function drained(sessions: Session[]): ReturnType<AudienceCounter['drain']> {
  const c = new AudienceCounter();
  for (const s of sessions) {
    const [region, isp] = GEOS[s.geo] as [Region, Isp];
    c.session(s.stream, s.protocol, packGeo(region, isp), s.end, s.durationMs, 1000);
  }
  return c.drain(STREAMS.map(() => DOMAIN), STREAMS.map(() => 'live'), STREAMS);
}

export const users = (f: Partial<UsersFilter>): UsersFilter => ({
  project: 'p1', domain: DOMAIN, app: undefined, stream: undefined, protocol: undefined, regions: [], isps: [],
  slotMs: M, from: D - 8 * H, to: D + 31 * H, ...f,
});

/** Every read of the audience endpoints (users at 60 s and 300 s under filters, play-info, portraits) as the naive model answers. */
export async function expectNaive(store: Store, naive: Naive, rand: () => number): Promise<void> {
  const protocolOf = (p: AudienceProtocol): number => ['flv', 'hls', 'rtmp'].indexOf(p);
  const filters: Array<[Partial<UsersFilter>, (s: Session) => boolean]> = [
    [{}, () => true],
    [{ protocol: 'flv' }, (s) => s.protocol === 0],
    [{ protocol: 'rtmp' }, (s) => s.protocol === 2],
    [{ protocol: 'hls' }, () => false],
    [{ regions: ['GD'] }, (s) => s.geo === 0],
    [{ isps: ['CMCC', 'OTHER'] }, (s) => s.geo > 0],
    [{ app: 'live', stream: 's1' }, (s) => s.stream === 1],
    [{ stream: 's2', regions: ['BJ'], isps: ['CMCC'] }, (s) => s.stream === 2 && s.geo === 1],
  ];
  for (const [f, match] of filters) {
    const q = users(f);
    // A window starting mid-quarter-hour: its first minutes need the block's opens before it.
    const from = q.from + 7 * M;
    const got = await store.usersSeries({ ...q, from, to: q.to - 3 * M });
    const want = Float64Array.from({ length: (q.to - 3 * M - from) / M }, (_, i) => naive.viewers(from / M + i, match));
    expect([...got], JSON.stringify(f)).toEqual([...want]);
    const peaks = await store.usersSeries({ ...q, slotMs: 5 * M });
    const wantPeaks = Float64Array.from({ length: (q.to - q.from) / (5 * M) }, (_, i) => {
      let p = 0;
      for (let j = 0; j < 5; j++) p = Math.max(p, naive.viewers(q.from / M + i * 5 + j, match));
      return p;
    });
    expect([...peaks], `300 s ${JSON.stringify(f)}`).toEqual([...wantPeaks]);
  }
  for (let k = 0; k < 6; k++) {
    const minute = Math.floor((D + 2 * H + rand() * 26 * H) / M);
    const rows: PlayInfoRow[] = await store.playInfo({ project: 'p1', domains: [DOMAIN], minute: minute * M });
    const online = (stream: string, p: AudienceProtocol): number => rows.find((r) => r.stream === stream && r.protocol === p)?.online ?? 0;
    for (const [i, stream] of STREAMS.entries()) {
      for (const p of ['flv', 'rtmp'] as const) {
        expect(online(stream, p), `${minute} ${stream} ${p}`).toBe(naive.viewers(minute, (s) => s.stream === i && s.protocol === protocolOf(p)));
      }
    }
  }
  for (const day of [D - DAY, D, D + DAY]) {
    for (const stream of [undefined, 's0']) {
      const match = (s: Session): boolean => stream === undefined || s.stream === 0;
      const got = await store.streamPortrait({ project: 'p1', domain: DOMAIN, stream, day });
      let peak = 0;
      for (let m = day / M; m < (day + DAY) / M; m++) peak = Math.max(peak, naive.viewers(m, match));
      expect(got.peakUsers, `peak ${day} ${stream}`).toBe(peak);
      expect(got.playSeconds, `play ${day} ${stream}`).toBe(Math.round(naive.playMs(day, match) / 1000));
    }
  }
}

