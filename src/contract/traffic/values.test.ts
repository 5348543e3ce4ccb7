import { describe, expect, it } from 'vitest';
import { isIpType, isProtocol, isServiceType, isStreamName, parseInterval } from './values.js';

describe('traffic value sets', () => {
  it('accepts exactly the listed values, case-sensitively', () => {
    expect(['flv', 'hls', 'rtmp', 'FLV', 'other', ''].map(isProtocol)).toEqual([true, true, false, false, false, false]);
    expect(['v4', 'v6', 'v5', 'V4', 'ipv4', 'other'].map(isIpType)).toEqual([true, true, false, false, false, false]);
    expect(['Live', 'LLL', 'ALL', 'live', 'all', 'lll'].map(isServiceType)).toEqual([true, true, true, false, false, false]);
  });
  it('parses interval only as one of 300, 3600, 86400 written plainly', () => {
    expect(['300', '3600', '86400'].map(parseInterval)).toEqual([300, 3600, 86400]);
    for (const bad of ['301', '0300', '+300', '300.0', '3e2', ' 300', '60', '', '7200']) expect(parseInterval(bad)).toBeUndefined();
  });
  it('accepts app/stream names as single path segments', () => {
    expect(isStreamName('live')).toBe(true);
    expect(isStreamName('频道 1')).toBe(true);
    expect(isStreamName('a'.repeat(256))).toBe(true);
    expect(isStreamName('a'.repeat(257))).toBe(false);
    expect(isStreamName('')).toBe(false);
    expect(isStreamName('a/b')).toBe(false);
    expect(isStreamName('a\tb')).toBe(false);
    expect(isStreamName('a\u007fb')).toBe(false);
  });
});
