import { stringify } from 'node:querystring';
import { AKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js';
import { describe, expect, it } from 'vitest';
import { canonicalQuery, canonicalUris, encodeRfc3986, splitTarget } from './canonical.js';

/**
 * The canonical forms must equal what the official SDK signer computes from the request
 * object, when rebuilt from what its HTTP client actually puts on the wire.
 */
interface SignerInternals {
  urlEncode(s: string): string;
  CanonicalQueryString(r: { queryParams: Record<string, string | string[]> }): string;
  CanonicalURI(path: string): string;
}
const sdk = AKSKSigner as unknown as SignerInternals;

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

const POOL = ['a', 'Z', '0', ' ', '+', '~', '*', "'", '(', ')', '!', '%', '&', '=', '?', '#', '/', ',', ';', ':', '@', '[', ']',
  'ü', 'ß', '中', '文', '😀', '\t', '"', '<', '\\', '^', '`', '{', '|', '.', '-', '_', '$'];

function randomText(rnd: () => number, max: number): string {
  let s = '';
  const n = Math.floor(rnd() * max);
  for (let i = 0; i < n; i++) s += POOL[Math.floor(rnd() * POOL.length)] ?? '';
  return s;
}

describe('encodeRfc3986', () => {
  it('matches the SDK signer\'s urlEncode on 2000 random strings', () => {
    const rnd = prng(7);
    for (let i = 0; i < 2000; i++) {
      const s = randomText(rnd, 12);
      expect(encodeRfc3986(s)).toBe(sdk.urlEncode(s));
    }
  });

  it('keeps exactly A-Z a-z 0-9 - . _ ~', () => {
    expect(encodeRfc3986("AZaz09-._~ !*'()+")).toBe('AZaz09-._~%20%21%2A%27%28%29%2B');
  });
});

describe('canonicalQuery', () => {
  it('rebuilt from the SDK\'s wire query equals the SDK\'s signed canonical query (1000 random queries)', () => {
    const rnd = prng(42);
    for (let i = 0; i < 1000; i++) {
      const params: Record<string, string | string[]> = {};
      const keys = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < keys; k++) {
        const key = randomText(rnd, 6) || 'k';
        params[key] = rnd() < 0.5 ? randomText(rnd, 8) : Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => randomText(rnd, 8));
      }
      const signed = sdk.CanonicalQueryString({ queryParams: params }); // sorts arrays in place, as before sending
      expect(canonicalQuery(stringify(params))).toBe(signed);
    }
  });

  it('reads + as a space (as the handlers do) and %2B as +', () => {
    expect(canonicalQuery('a=x+y&a=x%2By')).toBe('a=x%20y&a=x%2By');
  });

  it('sorts keys and repeated values, keeps empty values', () => {
    expect(canonicalQuery('b=2&a=z&a=y&c&d=')).toBe('a=y&a=z&b=2&c=&d=');
    expect(canonicalQuery('')).toBe('');
    expect(canonicalQuery('&&')).toBe('');
  });

  it('is undefined for invalid percent-encoding', () => {
    expect(canonicalQuery('a=%E0%A4%A')).toBeUndefined();
    expect(canonicalQuery('a=%ZZ')).toBeUndefined();
    expect(canonicalQuery('%C0=1')).toBeUndefined();
  });
});

describe('canonicalUris', () => {
  it('matches the SDK for the API paths, with or without a trailing slash', () => {
    for (const p of ['/v2/proj-a/stats/httpcodes', '/v2/p_1/stats/carousel-task/detail', '/ingest/p/logs']) {
      expect(canonicalUris(p)).toEqual([sdk.CanonicalURI(p)]);
      expect(canonicalUris(p + '/')).toEqual([sdk.CanonicalURI(p)]);
    }
  });

  it('offers both the as-sent (Node.js SDK) and the decoded (Python/Java/Go SDK) form when the path has %', () => {
    expect(canonicalUris('/v2/a%20b/x')).toEqual(['/v2/a%2520b/x/', '/v2/a%20b/x/']);
    expect(canonicalUris('/v2/%ZZ/x')).toEqual(['/v2/%25ZZ/x/']);
  });
});

describe('splitTarget', () => {
  it('splits path and query at the first ?', () => {
    expect(splitTarget('/a/b?x=1?y=2')).toEqual({ path: '/a/b', query: 'x=1?y=2' });
    expect(splitTarget('/a')).toEqual({ path: '/a', query: '' });
    // As the handlers read it: `#` and what follows stay in the query (and so in the signature).
    expect(splitTarget('/a?q=1#frag')).toEqual({ path: '/a', query: 'q=1#frag' });
    expect(splitTarget('/a?q=1&#&q=2')).toEqual({ path: '/a', query: 'q=1&#&q=2' });
  });
});
