import { describe, expect, it } from 'vitest';
import { ipTypeOf } from './ip-type.js';

describe('ipTypeOf', () => {
  it('tells IPv4 from IPv6', () => {
    expect(ipTypeOf('203.0.113.7')).toBe('v4');
    expect(ipTypeOf('10.0.0.1')).toBe('v4'); // private addresses have a family too
    expect(ipTypeOf('2001:db8::1')).toBe('v6');
    expect(ipTypeOf('240e:3b7:3272:d8d0:db09:c067:8d59:539e')).toBe('v6');
    expect(ipTypeOf('::1')).toBe('v6');
    expect(ipTypeOf('fe80::1%eth0')).toBe('v6');
    expect(ipTypeOf('[2001:db8::1]')).toBe('v6');
  });
  it('counts IPv4-mapped IPv6 (dual-stack sockets) as v4', () => {
    expect(ipTypeOf('::ffff:203.0.113.7')).toBe('v4');
    expect(ipTypeOf('::ffff:cb00:7107')).toBe('v4');
    expect(ipTypeOf('::cb00:7107')).toBe('v6'); // IPv4-compatible (deprecated) is not mapped
  });
  it("answers 'other' for what is not an address", () => {
    for (const s of ['', '-', 'unknown', '256.1.1.1', '1.2.3', '1.2.3.4:80', '2001:db8::g', 'a:b', ':::', 'example.com']) {
      expect([s, ipTypeOf(s)]).toEqual([s, 'other']);
    }
  });
});
