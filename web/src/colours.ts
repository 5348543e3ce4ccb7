import { codeClass, type CodeClass } from './shape.js';

/**
 * Fixed colours by status code: the same code always gets the same colour, whatever else is in the
 * window. Each class has its family (grey 1xx, green 2xx, blue 3xx, orange/amber/brown 4xx, red/purple
 * 5xx); the common codes have their own shade, so 404 and 499 never look alike.
 */
const FIXED: Record<number, string> = {
  200: '#2e7d32', 204: '#81c784', 206: '#66bb6a',
  301: '#0d47a1', 302: '#1565c0', 304: '#42a5f5',
  400: '#f9a825', 401: '#ffcc80', 403: '#e65100', 404: '#fb8c00', 416: '#ffe082', 429: '#ff7043', 499: '#6d4c41',
  500: '#c62828', 502: '#e53935', 503: '#8e0000', 504: '#ad1457',
};

/** Shades for other codes of a class, picked by the code's value (not by what else is shown). */
const FAMILIES: Record<CodeClass, string[]> = {
  '1xx': ['#78909c', '#b0bec5'],
  '2xx': ['#1b5e20', '#a5d6a7', '#43a047'],
  '3xx': ['#90caf9', '#64b5f6', '#1e88e5'],
  '4xx': ['#ffb74d', '#ef6c00', '#bcaaa4'],
  '5xx': ['#ef9a9a', '#f06292', '#b71c1c'],
};

export function codeColour(code: number): string {
  const fixed = FIXED[code];
  if (fixed) return fixed;
  const family = FAMILIES[codeClass(code)];
  return family[code % family.length] ?? '#999';
}

export const OK_COLOUR = '#43a047';
export const ERROR_COLOUR = '#e53935';
export const SHARE_COLOUR = '#212121';
export const SERVER_SHARE_COLOUR = '#b71c1c';
export const PARTIAL_COLOUR = '#757575';
export const OUTAGE_FILL = 'rgba(229, 57, 53, 0.18)';
