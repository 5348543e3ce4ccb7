import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { readRange } from './parse-worker.js';

it('byte ranges split a file into its lines exactly once, wherever the cuts fall', () => {
  const dir = mkdtempSync(join(tmpdir(), 'livestats-range-'));
  try {
    const lines = Array.from({ length: 500 }, (_, i) => `line-${i}-${'x'.repeat((i * 37) % 90)}`);
    const file = join(dir, 'f.log');
    for (const trailingNewline of [true, false]) {
      const text = lines.join('\n') + (trailingNewline ? '\n' : '');
      writeFileSync(file, text);
      const size = Buffer.byteLength(text);
      for (const readBytes of [50, 4096, 8 << 20]) for (const cuts of [[0, size], [0, 1, size], [0, 10, 11, 12, size], [0, 4000, 4001, 9000, size - 1, size], [0, size / 2 | 0, size]]) {
        const got: string[] = [];
        let bytes = 0;
        for (let i = 0; i + 1 < cuts.length; i++) {
          readRange(file, cuts[i] as number, cuts[i + 1] as number, (t, n) => {
            bytes += n;
            if (t !== '') got.push(...t.split('\n'));
          }, readBytes);
        }
        expect(got).toEqual(lines);
        expect(bytes).toBe(size);
      }
    }
    // A newline-free stretch is handed on in bounded pieces, never held whole.
    writeFileSync(file, 'y'.repeat(5000) + '\nlast\n');
    const pieces: number[] = [];
    readRange(file, 0, 5006, (t) => pieces.push(t.length), 100);
    expect(Math.max(...pieces)).toBeLessThanOrEqual(500);
    expect(pieces.reduce((a, b) => a + b, 0)).toBe(5005); // every byte but the final newline
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
