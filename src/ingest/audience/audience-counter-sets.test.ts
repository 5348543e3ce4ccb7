import { expect, it } from 'vitest';
import { rng } from '../../../test/helpers/rng.js';
import { parseIpv4 } from '../geo/ipv4.js';
import { AudienceCounter } from './audience-counter.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 20, 23, 50);

/**
 * The counter's batch sets (HLS viewers per (stream, minute), users per (stream, day)) and its
 * bytes and lines per cell-minute against a plain model of Maps keyed by strings: IPv4 addresses in
 * canonical form, other text (IPv6, non-canonical quads), repeats, several tuples and minutes across
 * a UTC midnight, two drains; with the numbered sets and with the Maps taking over after 3 pairs.
 */
for (const pairLimit of [undefined, 3]) {
  it(`drains exactly the distinct viewers and users, first geo kept${pairLimit ? `, Maps past ${pairLimit} pairs` : ''}`, () => {
    const rand = rng(11);
    const a = new AudienceCounter(pairLimit);
    const addresses = ['10.0.0.1', '10.0.0.2', '255.255.255.255', '0.0.0.0', '1.2.3.4', '01.2.3.4', '2001:db8::1', '2001:db8::2', '192.168.1.77'];
    for (let round = 0; round < 2; round++) {
      const hls = new Map<string, number>();
      const users = new Set<string>();
      const cells = new Map<string, [number, number]>();
      for (let i = 0; i < 3000; i++) {
        const address = addresses[Math.floor(rand() * addresses.length)] as string;
        const v4 = rand() < 0.9 ? parseIpv4(address) : -1;
        const tuple = Math.floor(rand() * 5);
        const time = T0 + Math.floor(rand() * 30) * MINUTE + Math.floor(rand() * MINUTE);
        const minute = Math.floor(time / MINUTE);
        const geo = Math.floor(rand() * 200);
        const canonical = v4 >= 0 && String(v4 >>> 24) + '.' + String((v4 >>> 16) & 255) + '.' + String((v4 >>> 8) & 255) + '.' + String(v4 & 255) === address;
        const ip = canonical ? `#${v4 >>> 0}` : address;
        const hk = `${tuple}|${minute}|${ip}`;
        const isNew = !hls.has(hk);
        if (isNew) hls.set(hk, geo);
        expect(a.viewer(tuple, minute, address, geo, v4)).toBe(isNew);
        a.user(tuple, time, address, v4);
        users.add(`${tuple}|${Math.floor(time / DAY) * DAY}|${ip}`);
        const bytes = Math.floor(rand() * 1000);
        a.line(tuple, 1, geo, minute, bytes);
        const ck = `${tuple}|1|${geo}|${minute * MINUTE}`;
        const c = cells.get(ck) ?? [0, 0];
        cells.set(ck, [c[0] + bytes, c[1] + 1]);
      }
      const d = a.drain(['a.com'], ['live'], ['s']);
      const ipOf = (text: string, v4: number): string => (v4 >= 0 ? `#${v4}` : text);
      const gotHls = new Map<string, number>();
      for (let i = 0; i < d.hlsTuple.length; i++) {
        gotHls.set(`${d.hlsTuple[i]}|${(d.hlsMinute[i] as number) / MINUTE}|${ipOf(d.hlsIp[i] as string, d.hlsV4?.[i] ?? -1)}`, d.hlsGeo[i] as number);
      }
      expect(d.hlsTuple.length).toBe(hls.size);
      expect(gotHls).toEqual(hls);
      const gotUsers = new Set<string>();
      for (let i = 0; i < d.userTuple.length; i++) gotUsers.add(`${d.userTuple[i]}|${d.userDay[i]}|${ipOf(d.userIp[i] as string, d.userV4?.[i] ?? -1)}`);
      expect(d.userTuple.length).toBe(users.size);
      expect(gotUsers).toEqual(users);
      const gotCells = new Map<string, [number, number]>();
      for (let i = 0; i < d.tuple.length; i++) gotCells.set(`${d.tuple[i]}|${d.protocol[i]}|${d.geo[i]}|${d.minute[i]}`, [d.bytes[i] as number, d.requests[i] as number]);
      expect(d.tuple.length).toBe(cells.size);
      expect(gotCells).toEqual(cells);
      expect(a.size).toBe(0);
    }
  });
}
