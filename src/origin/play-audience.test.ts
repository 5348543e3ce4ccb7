import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AudienceCounter } from '../ingest/audience/audience-counter.js';
import { packGeo } from '../ingest/geo/names.js';
import { AUDIENCE_PROTOCOLS, type ProjectAudience } from '../store/audience.js';
import type { PlaySession } from '../store/origin.js';
import { MAX_CLIENT_AGE_MS, playAudience } from './tracker.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

/** What playAudience gave before it wrote its cells directly: the audience counter fed the one session, drained. */
function throughCounter(p: PlaySession & { end: number }): ProjectAudience {
  const counter = new AudienceCounter();
  counter.session(0, AUDIENCE_PROTOCOLS.indexOf('rtmp'), packGeo(p.region, p.isp), p.end, p.end - p.start, 0);
  if (p.clientIp) {
    for (let day = Math.floor(p.start / DAY) * DAY; day < Math.max(p.end, p.start + 1); day += DAY) counter.user(0, day, p.clientIp);
  }
  return { project: p.project, cells: counter.drain([p.domain], [p.app], [p.stream]) };
}

const play = (start: number, end: number, clientIp = '192.0.2.7'): PlaySession & { end: number } => ({
  project: 'p', id: `o1|9|${start}`, domain: 'push.example.com', app: 'live', stream: 's1', clientIp, region: 'GD', isp: 'CTCC', start, end, updatedAt: end,
});

describe('playAudience', () => {
  it('gives the cells the audience counter gives for the same play: minute and day edges, zero length, 32 days, no address, IPv6', () => {
    const T = Date.UTC(2026, 10, 20, 23, 58);
    const cases: Array<[number, number, string?]> = [
      [T, T], [T + 1, T + 1], [T, T + MINUTE], [T + 1, T + MINUTE], [T, T + MINUTE - 1], [T + 59_999, T + 60_001],
      [T + 12_345, T + 3 * MINUTE + 6_789], [T - 5 * MINUTE, T + 5 * MINUTE], [T + 2 * MINUTE, T + 2 * MINUTE + 1],
      [T, T + DAY], [T + 7, T + 3 * DAY + 11], [T - MAX_CLIENT_AGE_MS, T], [T, T + 90_000, ''], [T, T + 90_000, '2001:db8::7'],
    ];
    // And plays of random lengths (a fixed seed).
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 300; i++) {
      const start = T + rand(10 * MINUTE) - 5 * MINUTE;
      cases.push([start, start + ([0, rand(1000), rand(10 * MINUTE), rand(DAY / 8)][i % 4] as number)]);
    }
    for (const [start, end, ip] of cases) {
      const p = play(start, end, ip);
      const [direct, counted] = [playAudience(p), throughCounter(p)];
      // Typed arrays compared byte for byte (-0 and 0 differ); toEqual only to show a difference.
      if (!isDeepStrictEqual(direct, counted)) expect(direct, `${start}..${end}`).toEqual(counted);
    }
  });
});
