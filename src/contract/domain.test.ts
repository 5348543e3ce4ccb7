import { expect, it } from 'vitest';
import { normalizeDomain } from './domain.js';

it('normalizes play domains to lower-case ASCII without a trailing dot', () => {
  expect(normalizeDomain('Play.Example.COM')).toBe('play.example.com');
  expect(normalizeDomain('play.example.com.')).toBe('play.example.com');
  expect(normalizeDomain(' a.com ')).toBe('a.com');
  expect(normalizeDomain('例子.com')).toBe('xn--fsqu00a.com');
  expect(normalizeDomain('xn--fsqu00a.com')).toBe('xn--fsqu00a.com');
  expect(normalizeDomain('10.0.0.1')).toBe('10.0.0.1');
});

it.each(['', ' ', 'a b.com', 'a..com', '-a.com', 'a-.com', '*.a.com', 'a.com:80', 'a/b', 'a?b', 'a#b', 'a\\b', 'a@b', 'a%2eb', '<script>', 'x'.repeat(254), `${'a'.repeat(64)}.com`])(
  'rejects %j',
  (d) => expect(normalizeDomain(d)).toBeUndefined(),
);
