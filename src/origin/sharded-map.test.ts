import { describe, expect, it } from 'vitest';
import { ShardedKeySet, ShardedMap, ShardedSet } from './sharded-map.js';
import { rng } from '../../test/helpers/rng.js';


describe('ShardedMap', () => {
  it('spreads its keys over its shards', () => {
    const m = new ShardedMap<number>(8);
    for (let i = 0; i < 8000; i++) m.set(JSON.stringify(['p', 'o', String(i), 'live', 's1']), i);
    const sizes = (m as unknown as { shards: Array<Map<string, unknown>> }).shards.map((s) => s.size);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(8000);
    for (const size of sizes) expect(size).toBeLessThan(1300);
  });

  it('answers as a Map and iterates in its order (insertion; a key set again keeps its place, deleted and set again goes last)', () => {
    const next = rng(7);
    const m = new ShardedMap<number>(4);
    const ref = new Map<string, number>();
    for (let step = 0; step < 5000; step++) {
      const key = `k${Math.floor(next() * 300)}`;
      const r = next();
      if (r < 0.5) {
        expect(m.set(key, step)).toBe(m);
        ref.set(key, step);
      } else if (r < 0.8) {
        expect(m.delete(key)).toBe(ref.delete(key));
      } else {
        expect(m.has(key)).toBe(ref.has(key));
        expect(m.get(key)).toBe(ref.get(key));
      }
      expect(m.size).toBe(ref.size);
      if (step % 500 === 0) expect([...m]).toEqual([...ref]);
    }
    expect([...m.entries()]).toEqual([...ref.entries()]);
    expect([...m.keys()]).toEqual([...ref.keys()]);
    expect([...m.values()]).toEqual([...ref.values()]);
  });

  it('visits what a Map iterator visits while entries are deleted (the current one included), set and added during the loop', () => {
    const next = rng(11);
    for (let round = 0; round < 300; round++) {
      const m = new ShardedMap<number>(4);
      const ref = new Map<string, number>();
      const n = 1 + Math.floor(next() * 12);
      for (let i = 0; i < n; i++) {
        m.set(`k${i}`, i);
        ref.set(`k${i}`, i);
      }
      // The same random changes at each step of both loops (a second generator per loop, same seed).
      const walk = (map: { delete(k: string): boolean; set(k: string, v: number): unknown; entries(): Iterable<[string, number]> }, seed: number): string[] => {
        const change = rng(seed);
        const seen: string[] = [];
        let added = 0;
        for (const [k] of map.entries()) {
          seen.push(k);
          if (seen.length > 100) break;
          const ops = Math.floor(change() * 3);
          for (let o = 0; o < ops; o++) {
            const r = change();
            const key = r < 0.2 ? k : `k${Math.floor(change() * (n + 4))}`;
            if (r < 0.6) map.delete(key);
            else if (r < 0.8) map.set(key, -1);
            else if (added < 5) map.set(`new${added++}`, 0);
          }
        }
        return seen;
      };
      const seed = Math.floor(next() * 1e9);
      expect(walk(m, seed), `round ${round}`).toEqual(walk(ref, seed));
      expect([...m]).toEqual([...ref]);
    }
  });

  it('an iterator standing on the last entry, deleted, goes on to entries added after it', () => {
    const m = new ShardedMap<number>();
    m.set('a', 1).set('b', 2);
    const seen: string[] = [];
    for (const k of m.keys()) {
      seen.push(k);
      if (k === 'b') {
        m.delete('b');
        m.delete('a');
        m.set('c', 3);
      }
    }
    expect(seen).toEqual(['a', 'b', 'c']);
  });
});

describe('ShardedSet', () => {
  it('answers as a Set, in insertion order', () => {
    const s = new ShardedSet(4);
    const ref = new Set<string>();
    for (const k of ['x', 'y', 'z', 'y', 'w']) {
      s.add(k);
      ref.add(k);
    }
    s.delete('x');
    ref.delete('x');
    s.add('x');
    ref.add('x');
    expect([...s]).toEqual([...ref]);
    expect(s.size).toBe(4);
    expect(s.has('y')).toBe(true);
    expect(s.has('q')).toBe(false);
  });
});

describe('ShardedKeySet', () => {
  it('answers has, add, delete and size as a Set', () => {
    const next = rng(3);
    const s = new ShardedKeySet(4);
    const ref = new Set<string>();
    for (let step = 0; step < 3000; step++) {
      const key = `k${Math.floor(next() * 100)}`;
      const r = next();
      if (r < 0.5) {
        expect(s.add(key)).toBe(s);
        ref.add(key);
      } else if (r < 0.8) {
        expect(s.delete(key)).toBe(ref.delete(key));
      } else {
        expect(s.has(key)).toBe(ref.has(key));
      }
      expect(s.size).toBe(ref.size);
    }
  });
});
