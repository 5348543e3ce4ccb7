import { describe, expect, it } from 'vitest';
import { FormatError } from './log-format.js';
import { createLineParser } from './presets.js';

describe('createLineParser', () => {
  // Found by `npm run fuzz` (http_intake): `?format=valueOf` answered 500 LIVE.100011005.
  it('refuses names of Object.prototype members as unknown formats, not with a TypeError', () => {
    for (const name of ['valueOf', 'constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(() => createLineParser(name)).toThrow(FormatError);
      expect(() => createLineParser(name)).toThrow(`unknown format "${name}"`);
    }
    expect(createLineParser('combined').name).toBe('combined');
  });
});
