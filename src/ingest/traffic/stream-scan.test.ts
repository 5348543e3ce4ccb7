import { describe, expect, it } from 'vitest';
import { PROTOCOL_CODES } from '../../store/packed.js';
import { SCAN_OTHER, SCAN_SLOW, scanStreamTarget, type ScanRanges } from './stream-scan.js';
import { OTHER_STREAM, streamOfUri } from './stream-uri.js';

/** What the scan answers, as a streamOfUri result (undefined: it leaves the target to streamOfUri). */
function scanned(target: string, prefix = 'GET ', suffix = ' HTTP/1.1'): ReturnType<typeof streamOfUri> | undefined {
  const line = prefix + target + suffix;
  const r: ScanRanges = { appStart: 0, appEnd: 0, streamStart: 0, streamEnd: 0 };
  const p = scanStreamTarget(line, prefix.length, prefix.length + target.length, r);
  if (p === SCAN_SLOW) return undefined;
  if (p === SCAN_OTHER) return OTHER_STREAM;
  return { app: line.slice(r.appStart, r.appEnd), stream: line.slice(r.streamStart, r.streamEnd), protocol: PROTOCOL_CODES[p] as 'flv' | 'hls' };
}

describe('scanStreamTarget', () => {
  it('answers like streamOfUri on the shapes of the reference, or leaves them to it', () => {
    const cases = [
      '/live/room1.flv', '/live/room1.m3u8', '/live/room1/000123.ts', '/live/room1/seg-7.m4s', '/live/room1/a.aac',
      '/live/room1-42.ts', '/live/room1_1700000000.ts', '/live/my-room-42.ts', '/live/my_room_42.ts', '/live/room1-2-3.ts',
      '/live/2026-7.ts', '/live/a.b.flv', '/live/room1.flv?auth_key=1-0-0-abc&x=/y.m3u8', '/live/room1-42.ts?t=1',
      '/live/room1/1.ts#x', '/live/room1.m3u8?', '/live?x=/a/b.flv', 'http://play.example.com/live/room1.flv',
      '/live/%E9%A2%91.flv', '/live/a%2Fb.flv', '', '/', '-', '*', 'live/room1.flv', '/room1.flv', '/live/room1',
      '/live/room1.mp4', '/live/room1.ts', '/live/-42.ts', '/live/room1-.ts', '/live/room1-4a.ts', '/live/.flv', '/live/.m3u8',
      '//room1.flv', '/live//1.ts', '/live/room1/.ts', '/live/room1/.m4s', '/live/room1/index.m3u8', '/live/room1/a.flv',
      '/a/b/c/d.ts', '/live/room1.flv/', '/live/room1.FLV', `/live/${'x'.repeat(257)}.flv`, `/${'x'.repeat(256)}/s.flv`,
      '/live/12.ts', '/live/a--5.ts', '/live/a_-5.ts', '/favicon.ico', '/crossdomain.xml', '/live/ro\u0001om.flv',
    ];
    for (const uri of cases) {
      const s = scanned(uri);
      if (s !== undefined) expect([uri, s]).toEqual([uri, streamOfUri(uri)]);
    }
    expect(scanned('/live/room1.flv')).toEqual({ app: 'live', stream: 'room1', protocol: 'flv' });
    expect(scanned('/live/room1-2-3.ts')).toEqual({ app: 'live', stream: 'room1-2', protocol: 'hls' });
  });

  it('agrees with streamOfUri on generated targets wherever it answers, and answers plain ones', () => {
    let seed = 99;
    const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)] as T;
    const PIECES = ['a', 'Z', '0', '7', '-', '_', '.', '/', '?', '#', '%', '%41', 'ts', 'flv', 'm3u8', 'm4s', 'aac', '\u0007', ' ', '频', 'room', '42'];
    let answered = 0;
    for (let i = 0; i < 30_000; i++) {
      const uri = pick(['/', '/', '/live/', '/live/room', 'http://h/']) + Array.from({ length: rnd(8) }, () => pick(PIECES)).join('') +
        pick(['', '.ts', '.flv', '.m3u8', '-12.ts', '/3.ts', '/x.aac']) + pick(['', '?a=b', '#f', '?k=/x.flv']);
      const s = scanned(uri, pick(['GET ', '']), pick([' HTTP/1.1', '']));
      if (s === undefined) continue;
      answered++;
      expect([uri, s]).toEqual([uri, streamOfUri(uri)]);
    }
    expect(answered).toBeGreaterThan(10_000);
  });
});
