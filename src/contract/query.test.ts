import { describe, expect, it } from 'vitest';
import { arrayParam, parseRawQuery, rawSearch, singleParam } from './query.js';

const arr = (qs: string, name: string): string[] | undefined => arrayParam(parseRawQuery(qs), name);

describe('array parameters', () => {
  it('reads comma-separated, repeated and mixed forms alike', () => {
    expect(arr('d=a.com,b.com', 'd')).toEqual(['a.com', 'b.com']);
    expect(arr('d=a.com%2Cb.com', 'd')).toEqual(['a.com', 'b.com']);
    expect(arr('d=a.com&d=b.com', 'd')).toEqual(['a.com', 'b.com']);
    expect(arr('d=a.com,b.com&x=1&d=c.com', 'd')).toEqual(['a.com', 'b.com', 'c.com']);
  });

  it('trims, drops empty items and de-duplicates', () => {
    expect(arr('d=%20a.com%20,,b.com,&d=&d=a.com', 'd')).toEqual(['a.com', 'b.com']);
    expect(arr('d=', 'd')).toEqual([]);
    expect(arr('d', 'd')).toEqual([]);
    expect(arr('', 'd')).toEqual([]);
  });

  it('treats + as a space and decodes UTF-8', () => {
    expect(arr('d=a+b', 'd')).toEqual(['a b']);
    expect(arr('d=%E4%BE%8B%E5%AD%90.com', 'd')).toEqual(['例子.com']);
  });

  it('reports undecodable values instead of guessing', () => {
    expect(arr('d=%E4%BE', 'd')).toBeUndefined();
    expect(arr('d=ok&d=%zz', 'd')).toBeUndefined();
  });
});

describe('single parameters', () => {
  it('treats absent and empty as not given', () => {
    expect(singleParam(parseRawQuery('a=1'), 'b')).toEqual({ ok: true, value: undefined });
    expect(singleParam(parseRawQuery('b='), 'b')).toEqual({ ok: true, value: undefined });
  });
  it('accepts a repeated identical value but not two different ones', () => {
    expect(singleParam(parseRawQuery('b=1&b=1'), 'b')).toEqual({ ok: true, value: '1' });
    expect(singleParam(parseRawQuery('b=1&b=2'), 'b')).toEqual({ ok: false, reason: 'twice' });
    expect(singleParam(parseRawQuery('b=%'), 'b')).toEqual({ ok: false, reason: 'encoding' });
  });
});

it('rawSearch takes everything after the first ?', () => {
  expect(rawSearch('/p?a=1?b')).toBe('a=1?b');
  expect(rawSearch('/p')).toBe('');
});
