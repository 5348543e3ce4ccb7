import { describe, expect, it } from 'vitest';
import { requestTarget } from './request-target.js';

describe('requestTarget', () => {
  it('takes the target between method and protocol', () => {
    expect(requestTarget('GET /live/s.flv?token=x HTTP/1.1')).toBe('/live/s.flv?token=x');
    expect(requestTarget('GET http://a.com/live/s.flv HTTP/1.1')).toBe('http://a.com/live/s.flv');
    expect(requestTarget('HEAD /live/s.m3u8')).toBe('/live/s.m3u8');
    expect(requestTarget('GET  /x HTTP/1.0')).toBe('/x');
  });
  it("gives '' without a target", () => {
    expect(requestTarget('-')).toBe('');
    expect(requestTarget('')).toBe('');
    expect(requestTarget('GET ')).toBe('');
  });
});
