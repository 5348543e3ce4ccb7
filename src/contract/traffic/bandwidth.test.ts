import { describe, expect, it } from 'vitest';
import { bandwidthBps } from './bandwidth.js';

describe('bandwidthBps (bytes x 8 / seconds, half-up)', () => {
  it('rounds exact halves up at every interval', () => {
    // 300 s never gives an exact half (8b mod 300 is never 150): check both sides of it
    expect(bandwidthBps(18, 300)).toBe(0); // 0.48
    expect(bandwidthBps(19, 300)).toBe(1); // 0.5067
    expect(bandwidthBps(224, 3600)).toBe(0); // 0.4978
    expect(bandwidthBps(225, 3600)).toBe(1); // exactly 0.5
    expect(bandwidthBps(675, 3600)).toBe(2); // exactly 1.5
    expect(bandwidthBps(5399, 86400)).toBe(0);
    expect(bandwidthBps(5400, 86400)).toBe(1); // exactly 0.5
  });
  it('is exact for whole values and zero for nothing', () => {
    expect(bandwidthBps(37_500, 300)).toBe(1000);
    expect(bandwidthBps(1_000_000, 300)).toBe(26_667); // 26666.67
    expect(bandwidthBps(0, 300)).toBe(0);
    expect(bandwidthBps(Number.NaN, 300)).toBe(0);
  });
  it('stays exact past 2^53 intermediates', () => {
    const big = 2 ** 53;
    expect(bandwidthBps(big, 300)).toBe(Number((BigInt(big) * 16n + 300n) / 600n));
    expect(bandwidthBps(3 * 2 ** 50 + 1, 3600)).toBe(Number(((3n * 2n ** 50n + 1n) * 16n + 3600n) / 7200n));
  });
});
