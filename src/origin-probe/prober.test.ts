import { describe, expect, it } from 'vitest';
import type { PublishSession } from '../store/origin.js';
import { probeUrl, selectForProbing } from './prober.js';

const s = (id: string, more: Partial<PublishSession>): PublishSession => ({
  project: 'p1', id, domain: 'push.example.com', app: 'live', stream: id, clientIp: '', type: 0, region: 'OT', isp: 'OTHER',
  videoCodec: '', audioCodec: '', frameRate: 0, bitrate: 0, width: 0, height: 0, start: 0, end: null, origin: 'a', updatedAt: 0, bytesIn: 0, ...more,
});

describe('selectForProbing', () => {
  it('caps all streams and each origin; oldest first; counts what the caps leave out', () => {
    const sessions = [
      s('a1', { start: 3 }), s('a2', { start: 1 }), s('a3', { start: 2 }), s('b1', { origin: 'b', start: 5 }), s('b2', { origin: 'b', start: 4 }),
      s('ended', { end: 9 }),
    ];
    const r = selectForProbing(sessions, 3, 2, () => true);
    expect([...r.chosen.values()].map((x) => x.id)).toEqual(['a2', 'a3', 'b2']);
    expect(r.skipped).toBe(2);
    expect([...selectForProbing(sessions, 10, 10, (x) => x.origin === 'b').chosen.values()].map((x) => x.id)).toEqual(['b2', 'b1']);
  });
  it('probes a relayed stream once, through the publisher\'s session', () => {
    const r = selectForProbing([s('relay', { stream: 'x', type: 1, origin: 'b', start: 1 }), s('pub', { stream: 'x', start: 2 })], 10, 10, () => true);
    expect([...r.chosen.values()].map((x) => x.id)).toEqual(['pub']);
    expect(r.skipped).toBe(0);
  });
});

describe('probeUrl', () => {
  it('fills origin, app and stream (encoded; IPv6 bracketed); nothing to probe without an origin', () => {
    const t = 'rtmp://{origin}/{app}/{stream}';
    expect(probeUrl(t, { origin: '10.0.0.5', app: 'live', stream: 'cam 1' })).toBe('rtmp://10.0.0.5/live/cam%201');
    expect(probeUrl(t, { origin: '::1', app: 'live', stream: 's' })).toBe('rtmp://[::1]/live/s');
    expect(probeUrl('rtmp://origin.internal:1936/{app}/{stream}', { origin: 'o1', app: 'a', stream: 's' })).toBe('rtmp://origin.internal:1936/a/s');
    expect(probeUrl(t, { origin: '', app: 'live', stream: 's' })).toBeUndefined();
  });
});
