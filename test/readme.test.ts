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

it('CI runs exactly the README test command, which installs the system packages first', () => {
  const ci = readFileSync(join(import.meta.dirname, '..', '.ci', 'run'), 'utf8');
  const commands = ci.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  expect(commands).toEqual(['set -euo pipefail', 'cd "$(dirname "$0")/.."', 'node --version', 'npm ci && npm test']);
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  expect(pkg.scripts.test?.startsWith('bash scripts/system-deps.sh && ')).toBe(true);
});
