import { expect, it } from 'vitest';
import { replaceSection } from '../bench/reliability/section.js';

it('creates the file with all three marker pairs and fills only the named one', () => {
  const text = replaceSection(undefined, 'faults', '| a | b |');
  for (const s of ['faults', 'fuzz', 'soak']) {
    expect(text).toContain(`<!-- ${s}:begin -->`);
    expect(text).toContain(`<!-- ${s}:end -->`);
  }
  expect(text).toContain('<!-- faults:begin -->\n| a | b |\n<!-- faults:end -->');
  expect(text).toContain('<!-- fuzz:begin -->\n_not run yet_\n<!-- fuzz:end -->');
});

it('rewrites only its own section and keeps everything else byte for byte', () => {
  const before = replaceSection(replaceSection(undefined, 'fuzz', 'fuzz figures\nline 2'), 'faults', 'old');
  const after = replaceSection(before, 'faults', 'new figures');
  expect(after).toContain('<!-- faults:begin -->\nnew figures\n<!-- faults:end -->');
  expect(after.replace('new figures', 'old')).toBe(before);
  expect(after).toContain('<!-- fuzz:begin -->\nfuzz figures\nline 2\n<!-- fuzz:end -->');
});

it('adds a missing marker pair instead of losing text', () => {
  const text = replaceSection('# Reliability\n\nhand-written intro\n', 'soak', 'soak figures');
  expect(text.startsWith('# Reliability\n\nhand-written intro\n')).toBe(true);
  expect(text).toContain('<!-- soak:begin -->\nsoak figures\n<!-- soak:end -->');
  expect(text).toContain('<!-- faults:begin -->');
});
