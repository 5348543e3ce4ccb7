import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { sha256Hex } from '../api/auth/canonical.js';
import { hashToken } from './secrets.js';

it('hashes tokens and signed bytes as SHA-256 hex of their UTF-8 bytes (the digests stored in credentials files)', () => {
  // FIPS 180-2's "abc" vector: files written by earlier builds hold digests of this form.
  expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  for (const s of ['', 'lst_AbC-_09', 'é€😀']) {
    const want = createHash('sha256').update(Buffer.from(s, 'utf8')).digest('hex');
    expect(hashToken(s)).toBe(want);
    expect(sha256Hex(s)).toBe(want);
    expect(sha256Hex(Buffer.from(s, 'utf8'))).toBe(want);
  }
});
