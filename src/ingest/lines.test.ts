import { describe, expect, it } from 'vitest';
import { forEachLine, LineSplitter, MAX_LINE_BYTES } from './lines.js';

describe('lines', () => {
  it('splits chunks at newlines, keeping partial lines (also split UTF-8)', () => {
    const s = new LineSplitter();
    const bytes = Buffer.from('a\nb中\nc');
    expect(s.push(bytes.subarray(0, 5))).toBe('a');
    expect(s.push(bytes.subarray(5))).toBe('b中');
    expect(s.end()).toBe('c');
  });
  it('gives up on lines longer than the limit', () => {
    const s = new LineSplitter();
    s.push(Buffer.alloc(MAX_LINE_BYTES + 1, 120));
    expect(s.oversized).toBe(1);
    expect(s.push(Buffer.from('x\ny\n'))).toBe('x\ny');
  });
  it('numbers lines, drops \\r and empty lines', () => {
    const seen: Array<[string, number]> = [];
    forEachLine('a\r\n\nb\n', (l, i) => seen.push([l, i]));
    expect(seen).toEqual([['a', 0], ['b', 2]]);
  });
});
