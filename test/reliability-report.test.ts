import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { writeSection } from '../reliability/report.js';
import { tempDir } from './helpers/tmp.js';

let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(() => tmp?.remove());

it('creates RELIABILITY.md with the three marker pairs and rewrites only the section it is given', () => {
  tmp = tempDir();
  const file = join(tmp.dir, 'RELIABILITY.md');
  writeSection('fuzz', 'fuzz figures, run 1', file);
  const first = readFileSync(file, 'utf8');
  for (const s of ['faults', 'fuzz', 'soak']) {
    expect(first).toContain(`<!-- ${s}:begin -->`);
    expect(first).toContain(`<!-- ${s}:end -->`);
  }
  writeFileSync(file, first.replace(/<!-- faults:begin -->[\s\S]*<!-- faults:end -->/, '<!-- faults:begin -->\nfaults by another script\n<!-- faults:end -->'));
  writeSection('soak', 'soak figures', file);
  writeSection('fuzz', 'fuzz figures, run 2', file);
  const text = readFileSync(file, 'utf8');
  expect(text).toContain('<!-- faults:begin -->\nfaults by another script\n<!-- faults:end -->');
  expect(text).toContain('<!-- fuzz:begin -->\nfuzz figures, run 2\n<!-- fuzz:end -->');
  expect(text).toContain('<!-- soak:begin -->\nsoak figures\n<!-- soak:end -->');
  expect(text).not.toContain('run 1');
});

it('adds its markers to a RELIABILITY.md that lacks them, keeping what is there', () => {
  tmp = tempDir();
  const file = join(tmp.dir, 'RELIABILITY.md');
  writeFileSync(file, '# Reliability\n\n<!-- faults:begin -->\nx\n<!-- faults:end -->\n');
  writeSection('soak', 'soak figures', file);
  expect(readFileSync(file, 'utf8')).toBe('# Reliability\n\n<!-- faults:begin -->\nx\n<!-- faults:end -->\n\n<!-- soak:begin -->\nsoak figures\n<!-- soak:end -->\n');
});
