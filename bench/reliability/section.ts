import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** The sections of RELIABILITY.md, each written by its own script and only by it. */
export const RELIABILITY_SECTIONS = ['faults', 'fuzz', 'soak', 'poison'] as const;
export type ReliabilitySection = (typeof RELIABILITY_SECTIONS)[number];

const begin = (name: string): string => `<!-- ${name}:begin -->`;
const end = (name: string): string => `<!-- ${name}:end -->`;

/** The heading(s) a missing section is created under. */
const HEADINGS: Record<ReliabilitySection, string> = {
  faults: '## Faults (`npm run faults`)',
  fuzz: '## Fuzzing (`npm run fuzz`)',
  soak: '## Soak (`npm run soak`)',
  poison: '## Blast radius\n\n### Poison input (`npm run blast`)',
};

function skeleton(): string {
  const parts = ['# Reliability', '', 'Written by the scripts named in each section; do not edit between the markers by hand.', ''];
  for (const s of RELIABILITY_SECTIONS) parts.push(HEADINGS[s], '', begin(s), '_not run yet_', end(s), '');
  return parts.join('\n');
}

/**
 * Replaces the text between `<!-- name:begin -->` and `<!-- name:end -->` of `text` (creating the
 * file's skeleton with every marker pair when there is none, and appending a missing pair);
 * everything outside the markers is kept byte for byte.
 */
export function replaceSection(text: string | undefined, name: ReliabilitySection, body: string): string {
  let out = text ?? skeleton();
  for (const s of RELIABILITY_SECTIONS) {
    if (!out.includes(begin(s)) || !out.includes(end(s))) out = `${out.trimEnd()}\n\n${HEADINGS[s]}\n\n${begin(s)}\n_not run yet_\n${end(s)}\n`;
  }
  const i = out.indexOf(begin(name)) + begin(name).length;
  const j = out.indexOf(end(name));
  if (j < i) throw new Error(`RELIABILITY.md: ${end(name)} comes before ${begin(name)}`);
  return `${out.slice(0, i)}\n${body.trim()}\n${out.slice(j)}`;
}

/** Rewrites one section of the file in place. */
export function writeSection(file: string, name: ReliabilitySection, body: string): void {
  writeFileSync(file, replaceSection(existsSync(file) ? readFileSync(file, 'utf8') : undefined, name, body));
}
