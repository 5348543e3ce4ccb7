import { describe, expect, it } from 'vitest';
import { isPrivateIpv4, parseIpv4 } from './ipv4.js';
import { formatIpv6Full, isPrivateIpv6, parseIpv6 } from './ipv6.js';
import { buildIpv4Index, geoOfRecord, lookupIpv4 } from './ip2region-data.js';
import { ispOf, ispOfCode, regionOf, regionOfCode, type GeoCode } from './names.js';
import { GeoOverrideError, parseGeoOverrides } from './overrides.js';
import { GeoResolver } from './resolver.js';

const show = (c: GeoCode): string => `${regionOfCode(c)}/${ispOfCode(c)}`;

describe('geo', () => {
  it('maps ip2region names to contract codes', () => {
    expect(regionOf('中国', '广东省')).toBe('GD');
    expect(regionOf('中国', '内蒙古')).toBe('NM');
    expect(regionOf('中国', '北京市')).toBe('BJ');
    expect(regionOf('中国', '香港')).toBe('HK');
    expect(regionOf('中国', '')).toBe('OT');
    expect(regionOf('美国', '华盛顿')).toBe('OT');
    expect(regionOf('', '')).toBe('OT');
    expect(ispOf('中国移动城域网')).toBe('CMCC');
    expect(ispOf('电信')).toBe('CTCC');
    expect(ispOf('联通')).toBe('CUCC');
    expect(ispOf('阿里云')).toBe('OTHER');
    expect(show(geoOfRecord('中国|0|台湾省|台北|0'))).toBe('TW/OTHER');
  });

  it('parses IPv4 and IPv6 strictly', () => {
    expect(parseIpv4('1.2.3.4')).toBe(0x01020304);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '01234.1.1.1', ' 1.2.3.4', '1.2.3.4 ', 'a.b.c.d']) expect(parseIpv4(bad)).toBe(-1);
    expect(isPrivateIpv4(parseIpv4('172.20.1.1'))).toBe(true);
    expect(isPrivateIpv4(parseIpv4('100.64.0.1'))).toBe(true);
    expect(isPrivateIpv4(parseIpv4('8.8.8.8'))).toBe(false);
    expect(parseIpv6('2001:db8::1')).toBe(0x20010db8000000000000000000000001n);
    expect(parseIpv6('::ffff:1.2.3.4')).toBe(0xffff01020304n);
    expect(parseIpv6('[fe80::1%eth0]')).toBe(0xfe800000000000000000000000000001n);
    expect(parseIpv6('2001:db8::g')).toBeUndefined();
    expect(isPrivateIpv6(parseIpv6('fd00::1') as bigint)).toBe(true);
    expect(isPrivateIpv6(parseIpv6('240e::1') as bigint)).toBe(false);
  });

  it('the compact index agrees with ip2region records', () => {
    const index = buildIpv4Index();
    expect(index.starts.length).toBeGreaterThan(1000);
    for (let i = 1; i < index.starts.length; i++) expect(index.starts[i]).toBeGreaterThan(index.starts[i - 1] as number);
    expect(show(lookupIpv4(index, parseIpv4('202.96.128.86')))).toBe('GD/CTCC');
    expect(show(lookupIpv4(index, parseIpv4('8.8.8.8')))).toBe('OT/OTHER');
    // The /16 shortcut agrees with a plain binary search over all ranges.
    const naive = (ip: number): number => {
      let lo = 0;
      let hi = index.starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if ((index.starts[mid] as number) <= ip) lo = mid;
        else hi = mid - 1;
      }
      return index.codes[lo] as number;
    };
    let x = 1;
    for (let i = 0; i < 20_000; i++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      expect(lookupIpv4(index, x)).toBe(naive(x));
    }
    for (const edge of [0, 0xffffffff, 0xffff0000, 65535, 65536]) expect(lookupIpv4(index, edge)).toBe(naive(edge));
  });

  it('resolves IPv4, IPv6 and mapped addresses; overrides win', () => {
    const r = GeoResolver.create(parseGeoOverrides('# lab\n127.0.0.1/32,ZJ,CTCC\n2001:db8::/32,HK,CUCC\n202.96.128.0/24,SC,CMCC\n'));
    expect(show(r.lookup('127.0.0.1'))).toBe('ZJ/CTCC');
    expect(show(r.lookup('202.96.128.86'))).toBe('SC/CMCC');
    expect(show(r.lookup('2001:db8:1::5'))).toBe('HK/CUCC');
    expect(show(r.lookup('::ffff:127.0.0.1'))).toBe('ZJ/CTCC');
    expect(show(r.lookup('2409:8000::1'))).toBe('BJ/CMCC');
    expect(show(r.lookup('240e:3a1:4c::1'))).toBe('JS/CTCC');
    expect(show(r.lookup('not an ip'))).toBe('OT/OTHER');
    expect(show(r.lookup(''))).toBe('OT/OTHER');
    const plain = GeoResolver.create();
    expect(show(plain.lookup('202.96.128.86'))).toBe('GD/CTCC');
  });

  // Found by `npm run fuzz` (preset:nginx_json): ip2region's IPv6 parser threw a RangeError on a zone
  // index, which escaped the line processor (a 500 for the whole HTTP batch).
  it('IPv6 text forms ip2region cannot parse (zones, brackets, odd zero groups) resolve like their address', () => {
    const r = GeoResolver.create();
    expect(formatIpv6Full(parseIpv6('2409:8000::1') ?? 0n)).toBe('2409:8000:0000:0000:0000:0000:0000:0001');
    for (const text of ['::0000:00:00:0%0000', '::0000:00:00:000', 'fe80::1%eth0', '[2409:8000::1]', '2409:8000::1%1']) {
      expect(() => r.lookup(text)).not.toThrow();
    }
    expect(show(r.lookup('2409:8000::1%1'))).toBe('BJ/CMCC');
    expect(show(r.lookup('[2409:8000::1]'))).toBe('BJ/CMCC');
  });

  it('rejects bad override files with line numbers', () => {
    expect(() => parseGeoOverrides('1.2.3.0/24,XX,CMCC', 'f.csv')).toThrow(new GeoOverrideError('f.csv:1: unknown region "XX"'));
    expect(() => parseGeoOverrides('\n1.2.3.0/33,GD,CMCC')).toThrow(/:2: bad prefix length/);
    expect(() => parseGeoOverrides('nope,GD,CMCC')).toThrow(/not an IP/);
    expect(() => parseGeoOverrides('1.2.3.4,GD,FOO')).toThrow(/unknown isp/);
  });
});
