import { describe, expect, it } from 'vitest';
import { MAX_FRAME, syslogMessage, TcpFramer } from './frame.js';

describe('syslog framing', () => {
  it('extracts MSG from RFC 3164 as nginx sends it', () => {
    expect(syslogMessage('<190>Nov 23 10:39:11 edge1 nginx: 1.2.3.4 - - [x] "GET / HTTP/1.1" 200')).toBe('1.2.3.4 - - [x] "GET / HTTP/1.1" 200');
    expect(syslogMessage('<190>Nov  3 10:39:11 nginx: a: b\n')).toBe('a: b');
  });
  it('extracts MSG from RFC 5424 with and without structured data', () => {
    expect(syslogMessage('<165>1 2024-01-01T00:00:00Z host app 12 ID7 - hello world')).toBe('hello world');
    expect(syslogMessage('<165>1 2024-01-01T00:00:00Z host app - - [ex@1 a="x\\]y"][b@2 c="d"] \uFEFFmsg')).toBe('msg');
  });
  it('rejects what is not syslog', () => {
    for (const bad of ['hello', '<999>x', '<>x', '<12', '']) expect(syslogMessage(bad)).toBeUndefined();
  });
  it('splits TCP streams: newline and octet-counted, across chunks', () => {
    const f = new TcpFramer();
    expect(f.push('<1>a: one\n<1>a: tw')).toEqual(['<1>a: one']);
    expect(f.push('o\n11 <1>a: three')).toEqual(['<1>a: two', '<1>a: three']);
    expect(f.push('7 <1>a:')).toEqual([]);
    expect(f.push(' x')).toEqual(['<1>a: x']);
  });
  it('flags oversized frames', () => {
    const f = new TcpFramer();
    f.push(`${MAX_FRAME + 1} x`);
    expect(f.error).toBeDefined();
    const g = new TcpFramer();
    g.push('x'.repeat(MAX_FRAME + 10));
    expect(g.error).toBe('frame too long');
  });
});
