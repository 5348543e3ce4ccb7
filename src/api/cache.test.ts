import { expect, it } from 'vitest';
import { ResponseCache } from './cache.js';

it('expires answers after the TTL and on invalidation of their project only', () => {
  let now = 1000;
  const c = new ResponseCache(500, 1024, () => now);
  c.set('p', 'k1', 'a');
  c.set('q', 'k2', 'b');
  expect(c.get('k1')).toBe('a');
  c.invalidate(['p']);
  expect(c.get('k1')).toBeUndefined();
  expect(c.get('k2')).toBe('b');
  now += 500;
  expect(c.get('k2')).toBeUndefined();
});

it('bounds memory, evicting the oldest answers, and stores nothing when disabled', () => {
  const c = new ResponseCache(10_000, 100);
  c.set('p', 'a', 'x'.repeat(20));
  c.set('p', 'b', 'y'.repeat(20));
  c.set('p', 'c', 'z'.repeat(20));
  expect(c.get('a')).toBeUndefined();
  expect(c.get('c')).toBe('z'.repeat(20));
  c.set('p', 'huge', 'h'.repeat(1000));
  expect(c.get('huge')).toBeUndefined();
  const off = new ResponseCache(0);
  off.set('p', 'a', 'x');
  expect(off.get('a')).toBeUndefined();
});

it('builds an answer key only while the cache is on', () => {
  let made = 0;
  const make = (): string => {
    made++;
    return 'k';
  };
  expect(new ResponseCache(0).key(make)).toBe('');
  expect(made).toBe(0);
  const on = new ResponseCache(1000);
  expect(on.key(make)).toBe('k');
  expect(made).toBe(1);
  on.set('p', on.key(make), 'x');
  expect(on.get('k')).toBe('x');
});
