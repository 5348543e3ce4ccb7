/**
 * Parses a dotted-quad IPv4 address to an unsigned 32-bit integer; -1 when it is not one.
 * Strict: four decimal parts 0..255, no leading '+' or spaces, at most 3 digits each.
 */
export function parseIpv4(s: string): number {
  const n = s.length;
  if (n < 7 || n > 15) return -1;
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits === 3) return -1;
      part = part * 10 + (c - 48);
      digits++;
    } else if (c === 46) {
      if (digits === 0 || part > 255 || dots === 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0 || part > 255) return -1;
  return value * 256 + part;
}

/** True for addresses that never identify a client on the internet (RFC 1918, loopback, CGNAT, ...). */
export function isPrivateIpv4(v: number): boolean {
  const a = v >>> 24;
  const b = (v >>> 16) & 255;
  return (
    a === 0 || a === 10 || a === 127 || a >= 224 ||
    (a === 100 && b >= 64 && b < 128) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b < 32) ||
    (a === 192 && b === 168)
  );
}

/** The dotted quad of an IPv4 integer (0 .. 2^32 - 1): parseIpv4's inverse on canonical text. */
export function formatIpv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}
