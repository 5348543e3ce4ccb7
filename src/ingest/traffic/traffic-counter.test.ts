import { describe, expect, it } from 'vitest';
import type { StoredIpType, StoredProtocol } from '../../contract/traffic/values.js';
import { forEachTrafficCell, TrafficCounter, type TrafficCell } from './traffic-counter.js';

const T0 = Date.UTC(2028, 2, 1, 10, 0);
const cells = (c: TrafficCounter): TrafficCell[] => {
  const out: TrafficCell[] = [];
  forEachTrafficCell(c.drain(), (cell) => out.push(cell));
  return out.sort((a, b) => JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);
};

describe('TrafficCounter', () => {
  it('sums requests and bytes per (domain, app, stream, 5-minute slot, geo, protocol, ip type)', () => {
    const c = new TrafficCounter();
    c.add('a.com', 'live', 's1', 'flv', T0 + 1000, 21, 'v4', 100);
    c.add('a.com', 'live', 's1', 'flv', T0 + 299_999, 21, 'v4', 50);
    c.add('a.com', 'live', 's1', 'flv', T0 + 300_000, 21, 'v4', 7); // next slot
    c.add('a.com', 'live', 's1', 'hls', T0, 21, 'v4', 1); // other protocol
    c.add('a.com', 'live', 's1', 'flv', T0, 21, 'v6', 2); // other family
    c.add('a.com', 'live', 's1', 'flv', T0, 22, 'v4', 3); // other geo
    c.add('a.com', '', '', 'other', T0, 139, 'other', 0, 5); // 5 requests at once, no bytes
    expect(c.size).toBe(6);
    const base = { domain: 'a.com', app: 'live', stream: 's1' };
    expect(cells(c)).toEqual([
      { domain: 'a.com', app: '', stream: '', protocol: 'other', ipType: 'other', slot: T0, geo: 139, requests: 5, bytes: 0 },
      { ...base, protocol: 'flv', ipType: 'v4', slot: T0, geo: 21, requests: 2, bytes: 150 },
      { ...base, protocol: 'flv', ipType: 'v4', slot: T0, geo: 22, requests: 1, bytes: 3 },
      { ...base, protocol: 'flv', ipType: 'v4', slot: T0 + 300_000, geo: 21, requests: 1, bytes: 7 },
      { ...base, protocol: 'flv', ipType: 'v6', slot: T0, geo: 21, requests: 1, bytes: 2 },
      { ...base, protocol: 'hls', ipType: 'v4', slot: T0, geo: 21, requests: 1, bytes: 1 },
    ].sort((a, b) => JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  });

  it('starts empty after a drain, and a drained batch survives structured cloning', () => {
    const c = new TrafficCounter();
    c.add('a.com', 'live', 's1', 'flv', T0, 0, 'v4', 1);
    const batch = structuredClone(c.drain());
    expect(c.size).toBe(0);
    expect(c.drain().tuple.length).toBe(0);
    const out: TrafficCell[] = [];
    forEachTrafficCell(batch, (cell) => out.push(cell));
    expect(out).toEqual([{ domain: 'a.com', app: 'live', stream: 's1', protocol: 'flv', ipType: 'v4', slot: T0, geo: 0, requests: 1, bytes: 1 }]);
  });

  it('equals a plain per-key sum for random input', () => {
    let seed = 5;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const protocols: StoredProtocol[] = ['flv', 'hls', 'other'];
    const families: StoredIpType[] = ['v4', 'v6', 'other'];
    const c = new TrafficCounter();
    const expected = new Map<string, { requests: number; bytes: number }>();
    for (let i = 0; i < 20_000; i++) {
      const domain = `d${rnd(5)}.com`;
      const app = ['live', 'app', ''][rnd(3)] as string;
      const stream = `s${rnd(30)}`;
      const protocol = protocols[rnd(3)] as StoredProtocol;
      const ipType = families[rnd(3)] as StoredIpType;
      const time = T0 + rnd(48) * 60_000 + rnd(60_000);
      const geo = rnd(140);
      const bytes = rnd(10) === 0 ? 0 : rnd(2_000_000);
      c.add(domain, app, stream, protocol, time, geo, ipType, bytes);
      const k = JSON.stringify([domain, app, stream, protocol, ipType, Math.floor(time / 300_000) * 300_000, geo]);
      const e = expected.get(k) ?? { requests: 0, bytes: 0 };
      e.requests++;
      e.bytes += bytes;
      expected.set(k, e);
    }
    const got = new Map<string, { requests: number; bytes: number }>();
    forEachTrafficCell(c.drain(), (x) => {
      got.set(JSON.stringify([x.domain, x.app, x.stream, x.protocol, x.ipType, x.slot, x.geo]), { requests: x.requests, bytes: x.bytes });
    });
    expect(got).toEqual(expected);
  });
});
