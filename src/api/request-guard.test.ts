import { describe, expect, it } from 'vitest';
import { HostCheck, hostName } from './request-guard.js';

describe('hostName', () => {
  it('lower-cases and drops the port, brackets and a trailing dot', () => {
    expect(hostName('LocalHost:8080')).toBe('localhost');
    expect(hostName('localhost.')).toBe('localhost');
    expect(hostName('127.0.0.1')).toBe('127.0.0.1');
    expect(hostName('[::1]:80')).toBe('::1');
    expect(hostName('stats.example.com')).toBe('stats.example.com');
  });

  it('is undefined for what is not a host', () => {
    for (const v of ['', ' ', 'a b', 'a/b', '[::1', '[zz]', '[::1]x', 'host:port', 'a@b', 'x'.repeat(400)]) expect(hostName(v), v).toBeUndefined();
  });
});

describe('HostCheck', () => {
  it('on loopback: the loopback names, plus those configured', () => {
    const c = new HostCheck({ allowed: ['stats.example.com'], loopback: true }, () => false);
    for (const h of ['localhost', '127.0.0.1:1', '127.9.9.9', '[::1]', 'stats.example.com:443']) expect(c.allows(h), h).toBe(true);
    for (const h of ['attacker.example', '127.0.0.1.nip.io', 'localhost.attacker.example', '0.0.0.0', '10.0.0.1']) expect(c.allows(h), h).toBe(false);
    expect(c.allows(undefined)).toBe(false);
  });

  it('elsewhere: any name when none is configured, else only the configured ones', () => {
    expect(new HostCheck({ allowed: [], loopback: false }, () => false).allows('anything.example')).toBe(true);
    const c = new HostCheck({ allowed: ['stats.example.com'], loopback: false }, () => true);
    expect(c.allows('stats.example.com')).toBe(true);
    expect(c.allows('localhost')).toBe(false);
    expect(new HostCheck({ allowed: ['*'], loopback: true }, () => true).allows('x.example')).toBe(true);
  });

  it('decides loopback from the bound address when not told', () => {
    expect(new HostCheck({ allowed: [] }, () => true).allows('attacker.example')).toBe(false);
    expect(new HostCheck({ allowed: [] }, () => false).allows('attacker.example')).toBe(true);
  });

  it('reads the bound address until there is one, then keeps it', () => {
    const asked: Array<boolean | undefined> = [undefined, true, false];
    let calls = 0;
    const c = new HostCheck({ allowed: [] }, () => asked[calls++]);
    // Not listening yet: no address, so not loopback (any name), and asked again next time.
    expect(c.allows('attacker.example')).toBe(true);
    expect(c.allows('attacker.example')).toBe(false);
    expect(c.allows('attacker.example')).toBe(false);
    expect(c.allows('localhost')).toBe(true);
    expect(calls).toBe(2);
  });
});
