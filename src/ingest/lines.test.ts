import { describe, expect, it } from 'vitest';
import { forEachLine } from './lines.js';

describe('forEachLine', () => {
  it('numbers lines, drops \\r and empty lines', () => {
    const seen: Array<[string, number]> = [];
    forEachLine('a\r\n\nb\n', (l, i) => seen.push([l, i]));
    expect(seen).toEqual([['a', 0], ['b', 2]]);
  });
  it('keeps a last line without newline and UTF-8 text', () => {
    const seen: string[] = [];
    forEachLine('x\n中文', (l) => seen.push(l));
    expect(seen).toEqual(['x', '中文']);
  });
});
