import { domainToASCII } from 'node:url';

// URL syntax that domainToASCII would silently cut at (e.g. 'a/b' -> 'a').
// eslint-disable-next-line no-control-regex -- control characters are exactly what this rejects
export const FORBIDDEN = /[\u0000-\u0020\u007f/?#\\@:%[\]<>|^"'`{}*,;=&+!$()]/;
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * Normalizes a play domain the way both the API and ingest compare them: trimmed,
 * IDNA (punycode) ASCII form, lower-cased, no trailing dot. Undefined when it is not a host name.
 */
export function normalizeDomain(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed.length === 0 || trimmed.length > 253 || FORBIDDEN.test(trimmed)) return undefined;
  let ascii = domainToASCII(trimmed);
  if (ascii.endsWith('.')) ascii = ascii.slice(0, -1);
  if (ascii.length === 0 || ascii.length > 253) return undefined;
  for (const label of ascii.split('.')) if (!LABEL.test(label)) return undefined;
  return ascii;
}
