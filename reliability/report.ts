import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../src/paths.js';

/** The sections of RELIABILITY.md, each written only by its own script. */
export const SECTIONS = ['faults', 'fuzz', 'soak'] as const;
export type Section = (typeof SECTIONS)[number];

/** RELIABILITY.md of the project (LIVESTATS_RELIABILITY_MD names another file: a run from a copy of the tree). */
export const reliabilityFile = (): string => process.env.LIVESTATS_RELIABILITY_MD ?? join(projectRoot(), 'RELIABILITY.md');

const SKELETON = `# Reliability

Figures in this file are written by the scripts that measure them, not by hand: each script
rewrites only the part between its own markers (\`npm run fuzz\`, \`npm run soak\`, and the fault
runs). Re-run a script to refresh its part.

${SECTIONS.map((s) => `<!-- ${s}:begin -->\n_(not run yet)_\n<!-- ${s}:end -->`).join('\n\n')}
`;

/** Replaces the text between `<!-- name:begin -->` and `<!-- name:end -->` (creating the file, or the markers, when missing). */
export function writeSection(name: Section, body: string, file = reliabilityFile()): void {
  let text = existsSync(file) ? readFileSync(file, 'utf8') : SKELETON;
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  if (!text.includes(begin) || !text.includes(end)) text = `${text.trimEnd()}\n\n${begin}\n${end}\n`;
  const from = text.indexOf(begin) + begin.length;
  const to = text.indexOf(end, from);
  writeFileSync(file, `${text.slice(0, from)}\n${body.trim()}\n${text.slice(to)}`);
}

/** 1234567 -> "1,234,567" */
export const thousands = (n: number): string => Math.round(n).toLocaleString('en-US');
