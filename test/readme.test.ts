import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { SERVE_SETTINGS } from '../src/config.js';

const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');

it('documents every serve option with its environment variable', () => {
  for (const s of SERVE_SETTINGS) {
    expect(readme, `--${s.flag}`).toContain(`\`--${s.flag}\``);
    expect(readme, s.env).toContain(`\`${s.env}\``);
  }
});

it('keeps the two-command quick start', () => {
  expect(readme).toContain('npm ci && npm start');
  expect(readme).toContain('npm ci && npm test');
});
