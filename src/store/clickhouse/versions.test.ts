import { describe, expect, it } from 'vitest';
import { lastPerKey, VersionClock } from './versions.js';

describe('VersionClock', () => {
  it('never gives two clocks of a process the same version, also asked many times in one millisecond', () => {
    const clocks = Array.from({ length: 50 }, () => new VersionClock());
    expect(new Set(clocks.map((c) => c.residue)).size).toBe(50);
    const seen = new Set<bigint>();
    for (let i = 0; i < 200; i++) for (const c of clocks) seen.add(c.next(1_800_000_000_000));
    expect(seen.size).toBe(50 * 200);
  });

  it('increases per clock, keeps its residue, and follows the clock scale (ms x 1000)', () => {
    const c = new VersionClock();
    const a = c.next(1_000);
    const b = c.next(1_000);
    const d = c.next(900);
    const e = c.next(5_000);
    expect(a).toBe(1_000_000n + BigInt(c.residue));
    expect(b).toBe(a + 1000n);
    expect(d).toBe(b + 1000n);
    expect(e).toBe(5_000_000n + BigInt(c.residue));
    for (const v of [a, b, d, e]) expect(Number(v % 1000n)).toBe(c.residue);
    expect(c.residue).toBeGreaterThanOrEqual(1);
    expect(c.residue).toBeLessThanOrEqual(999);
  });

  it('wraps the residues after 999 clocks, never to 0', () => {
    const residues = Array.from({ length: 2000 }, () => new VersionClock().residue);
    expect(Math.min(...residues)).toBe(1);
    expect(Math.max(...residues)).toBe(999);
    expect(new Set(residues.slice(0, 999)).size).toBe(999);
  });
});

describe('lastPerKey', () => {
  it('keeps the last row of each key', () => {
    const rows = [['a', 1], ['b', 2], ['a', 3], ['c', 4], ['b', 5]] as const;
    expect(lastPerKey(rows, (r) => r[0])).toEqual([['a', 3], ['c', 4], ['b', 5]]);
    expect(lastPerKey([], String)).toEqual([]);
  });
});
