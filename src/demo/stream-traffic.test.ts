import { describe, expect, it } from 'vitest';
import { demoTrafficRow } from './stream-traffic.js';

describe('demoTrafficRow', () => {
  const r = { project: 'demo', domain: 'hls.example.com', time: Date.UTC(2026, 0, 1, 10, 7, 30), region: 'GD' as const, isp: 'CMCC' as const, code: 200 };
  it('gives the request a stream, protocol by domain, bytes by protocol and status, a 5-minute slot', () => {
    expect(demoTrafficRow(r, () => 0)).toEqual({
      project: 'demo', domain: 'hls.example.com', app: 'live', stream: 'channel-1', protocol: 'hls', region: 'GD', isp: 'CMCC',
      ipType: 'v6', slot: Date.UTC(2026, 0, 1, 10, 5), requests: 1, bytes: 1_200_000,
    });
    expect(demoTrafficRow({ ...r, domain: 'play.example.com' }, () => 0.99)).toMatchObject({ protocol: 'flv', stream: 'sports', ipType: 'v4', bytes: 8_000_000 });
    expect(demoTrafficRow({ ...r, code: 404 }, () => 0.5).bytes).toBe(512);
  });
});
