import { isPrivateIpv4, parseIpv4 } from './geo/ipv4.js';
import { isPrivateIpv6, parseIpv6 } from './geo/ipv6.js';

/** Strips an optional port ("1.2.3.4:5678", "[2001:db8::1]:443") from one X-Forwarded-For entry. */
function bareAddress(s: string): string {
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    return end > 0 ? s.slice(1, end) : s;
  }
  const colon = s.indexOf(':');
  return colon > 0 && s.indexOf(':', colon + 1) < 0 ? s.slice(0, colon) : s;
}

/** True when the text is a valid IP address that can be a client on the internet. */
export function isPublicAddress(s: string): boolean {
  const v4 = parseIpv4(s);
  if (v4 >= 0) return !isPrivateIpv4(v4);
  const v6 = parseIpv6(s);
  if (v6 === undefined) return false;
  if (v6 >> 32n === 0xffffn) return !isPrivateIpv4(Number(v6 & 0xffffffffn));
  return !isPrivateIpv6(v6);
}

/** The first public address in an X-Forwarded-For chain, else ''. */
export function firstPublicAddress(xff: string): string {
  let start = 0;
  while (start < xff.length) {
    let end = xff.indexOf(',', start);
    if (end < 0) end = xff.length;
    const entry = bareAddress(xff.slice(start, end).trim());
    if (entry !== '' && isPublicAddress(entry)) return entry;
    start = end + 1;
  }
  return '';
}

/** The client address of a line: the first public X-Forwarded-For entry, else $remote_addr. */
export function clientAddress(remoteAddr: string, forwardedFor: string): string {
  if (forwardedFor !== '') {
    const ip = firstPublicAddress(forwardedFor);
    if (ip !== '') return ip;
  }
  return remoteAddr;
}
