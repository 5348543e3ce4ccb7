import type { CodeClass } from './shape.js';

/** One colour family per status class, shades told apart within a family. */
const FAMILIES: Record<CodeClass, string[]> = {
  '1xx': ['#78909c', '#b0bec5'],
  '2xx': ['#2e7d32', '#66bb6a', '#a5d6a7', '#1b5e20', '#81c784'],
  '3xx': ['#1565c0', '#42a5f5', '#90caf9', '#0d47a1', '#64b5f6'],
  '4xx': ['#ef6c00', '#ffa726', '#f9a825', '#e65100', '#ffcc80', '#ff7043'],
  '5xx': ['#c62828', '#e53935', '#ef9a9a', '#8e0000', '#ad1457', '#f06292'],
};

/** Colours for the given ascending codes: the n-th code of a class gets the n-th shade of its family. */
export function codeColours(codes: ReadonlyArray<{ code: number; cls: CodeClass }>): string[] {
  const seen: Partial<Record<CodeClass, number>> = {};
  return codes.map(({ cls }) => {
    const n = seen[cls] ?? 0;
    seen[cls] = n + 1;
    const family = FAMILIES[cls];
    return family[n % family.length] ?? '#999';
  });
}

export const OK_COLOUR = '#43a047';
export const ERROR_COLOUR = '#e53935';
export const SHARE_COLOUR = '#212121';
export const OUTAGE_FILL = 'rgba(229, 57, 53, 0.18)';
