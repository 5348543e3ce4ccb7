import { describe, expect, it } from 'vitest';
import { BlockCache, EMPTY_STAMP, type StampedBlock } from './block-cache.js';
import type { ChConnection } from './client.js';
import { stampKey, StampReads } from './stamp-reads.js';

interface B extends StampedBlock {
  bytes: number;
}

// The stamps reader is never asked here (no ClickHouse needed): only the cache's bookkeeping is.
const reads = new StampReads(undefined as unknown as ChConnection, 'stamps');

describe('BlockCache', () => {
  it('keeps blocks within the byte budget by weight, dropping the least recently built', () => {
    const cache = new BlockCache<B>(reads, {}, 100, (b) => b.bytes);
    expect(cache.put('a', { stamp: '1:1', builtAt: 0, bytes: 40 })).toEqual([]);
    expect(cache.put('b', { stamp: '1:1', builtAt: 0, bytes: 40 })).toEqual([]);
    // Rebuilt a: now the newest, b the oldest.
    expect(cache.put('a', { stamp: '2:2', builtAt: 0, bytes: 50 })).toEqual([]);
    const dropped = cache.put('c', { stamp: '1:1', builtAt: 0, bytes: 30 });
    expect(dropped.map(([k]) => k)).toEqual(['b']);
    expect(cache.get('a')?.stamp).toBe('2:2');
    expect(cache.get('c')).toBeDefined();
    // A block heavier than the whole budget is not kept either.
    expect(cache.put('huge', { stamp: '1:1', builtAt: 0, bytes: 101 }).map(([k]) => k)).toEqual(['a', 'c', 'huge']);
    expect(cache.get('huge')).toBeUndefined();
  });

  it('serves a block only with the current stamp and within the maximum age', () => {
    const cache = new BlockCache<B>(reads, { maxAgeMs: 1000 }, 10, () => 1);
    const k = stampKey('p', 'd', 5);
    cache.put(k, { stamp: '3:7', builtAt: 10_000, bytes: 1 });
    expect(cache.current(k, new Map([[k, '3:7']]), 10_500)).toBeDefined();
    expect(cache.current(k, new Map([[k, '4:9']]), 10_500)).toBeUndefined();
    expect(cache.current(k, new Map([[k, '3:7']]), 11_001)).toBeUndefined();
    // No stamp row: only a block of an hour nothing was written in is current.
    expect(cache.current(k, new Map(), 10_500)).toBeUndefined();
    cache.put(k, { stamp: EMPTY_STAMP, builtAt: 10_000, bytes: 1 });
    expect(cache.current(k, new Map(), 10_500)).toBeDefined();
  });
});
